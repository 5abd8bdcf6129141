// Denies sign-ups from throw-away mail domains. The name lacks the
// "Workflow" suffix, so it is never discovered (a mistake two official
// examples make).
const disposable = ["mailinator.com", "trashmail.com"];

export const workflowSettings = {
  id: "blockDisposable",
  trigger: "user:pre_registration",
  bindings: { "kinde.auth": {} },
};

export default async function (event: { context: { user: { email: string } } }) {
  const domain = event.context.user.email.split("@")[1];
  if (disposable.includes(domain)) kinde.auth.denyAccess("disposable address");
}
