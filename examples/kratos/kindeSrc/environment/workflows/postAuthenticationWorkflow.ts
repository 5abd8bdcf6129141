// Runs after every password sign-in: logs it, and locks out one account.
type PostAuthEvent = { context: { user: { id: string; email: string }; auth: { connectionId: string } } };

export const workflowSettings = {
  id: "postAuthentication",
  name: "Audit sign-ins",
  trigger: "user:post_authentication",
  failurePolicy: { action: "continue" },
  bindings: { "kinde.auth": {} },
};

export default async function postAuthentication(event: PostAuthEvent) {
  console.log(`sign-in by ${event.context.user.id} with ${event.context.auth.connectionId}`);
  if (event.context.user.email === "locked@example.com") {
    kinde.auth.denyAccess("This account is locked.");
  }
}

declare const kinde: { auth: { denyAccess(reason: string): void } };
