// Shared by several workflows; each imports only what it uses, and the
// bundle leaves the rest out, bindings included.
export function riskLevel(event: any): string {
  return event.request?.ip?.startsWith("203.0.113.") ? "high" : "low";
}

export function requireMfa() {
  kinde.mfa.setEnforcementPolicy("required");
}

export function planGate(reason: string) {
  kinde.plan.denySelection(reason);
}

declare const kinde: any;
