import { WorkflowSettings, WorkflowTrigger } from "@kinde/infrastructure";

// A password policy as public Kinde code writes it: through globalThis.
export const workflowSettings: WorkflowSettings = {
  id: "passwordPolicy",
  trigger: WorkflowTrigger.NewPasswordProvided,
  failurePolicy: { action: "stop" },
  bindings: {
    "kinde.widget": {},
    "kinde.mfa": {}, // "required property", as some Kinde examples say
  },
};

const encoder = typeof TextEncoder === "function" ? new TextEncoder() : null;

export default async function passwordPolicy(event: any) {
  const pw: string = event.context.auth.firstPassword;
  const size = encoder ? encoder.encode(pw).length : pw.length;
  if (size < 12) {
    (globalThis as any).kinde?.widget?.invalidateFormField("p_first_password", "Use at least 12 characters");
  }
  (globalThis as any).console.log("password checked");
}
