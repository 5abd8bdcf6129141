// Reads the plan from an environment variable: needs kinde.env.
export function plan(): string {
  return kinde.env.get("PLAN")?.value ?? "free";
}
