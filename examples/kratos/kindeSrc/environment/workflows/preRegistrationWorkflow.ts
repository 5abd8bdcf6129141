// Closes sign-ups from one domain. Kratos' registration web hook runs it
// before the identity is saved; the reason shows on the email field.
type PreRegistrationEvent = { context: { user: { email: string } } };

export const workflowSettings = {
  id: "preRegistration",
  name: "Close sign-ups from blocked.example",
  trigger: "user:pre_registration",
  failurePolicy: { action: "stop" },
  bindings: { "kinde.auth": {} },
};

export default async function preRegistration(event: PreRegistrationEvent) {
  if (event.context.user.email.endsWith("@blocked.example")) {
    kinde.auth.denyAccess("Sign-ups from blocked.example are closed.");
  }
}

declare const kinde: { auth: { denyAccess(reason: string): void } };
