// Sets claims from the event and the environment; logs a secret.
export const workflowSettings = {
  id: "tokens",
  trigger: "user:tokens_generation",
  bindings: { "kinde.accessToken": {}, "kinde.idToken": {}, "kinde.env": {} },
};

export default async function (event: any) {
  const key = kinde.env.get("API_KEY");
  kinde.accessToken.setCustomClaim("plan", kinde.env.get("PLAN")?.value ?? "free");
  kinde.accessToken.setCustomClaim("tags", ["a", "<b>&"]);
  kinde.idToken.setCustomClaim("user", event.context.user.id);
  console.log("using key", key?.value);
}

declare const kinde: any;
