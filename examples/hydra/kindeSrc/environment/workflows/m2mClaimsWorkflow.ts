// Adds the calling service's tier to every client-credentials token Hydra
// issues. Hydra calls Flowgate's token-hook adapter, which runs this.
type M2MEvent = {
  request: { auth: { audience: string[]; scope: string[] } };
  context: { application: { clientId: string } };
};

export const workflowSettings = {
  id: "m2mClaims",
  name: "Add the service tier to M2M tokens",
  trigger: "m2m:token_generation",
  failurePolicy: { action: "continue" },
  bindings: { "kinde.m2mToken": {} },
};

export default async function m2mClaims(event: M2MEvent) {
  kinde.m2mToken.setCustomClaim("tier", "gold");
  kinde.m2mToken.setCustomClaim("scopes", event.request.auth.scope.join(" "));
}

declare const kinde: { m2mToken: { setCustomClaim(name: string, value: unknown): void } };
