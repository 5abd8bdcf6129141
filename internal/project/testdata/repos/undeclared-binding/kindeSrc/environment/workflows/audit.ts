export function audit(what: string) {
  kinde.fetch("https://audit.example.com", { method: "POST", body: { what } });
}

// Issue 18.4: the workflow never imports this function, so the bundle
// leaves it out and its bindings are not the workflow's: no warning.
export function requireMfa() {
  kinde.mfa.setEnforcementPolicy("required");
  kinde.secureFetch("https://risk.example.com", { method: "POST" });
}
