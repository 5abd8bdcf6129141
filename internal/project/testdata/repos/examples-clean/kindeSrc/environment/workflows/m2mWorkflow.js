// Plain JavaScript with a CommonJS-style helper and arguments.
function sum() {
  let total = 0;
  for (let i = 0; i < arguments.length; i++) total += arguments[i];
  return total;
}

export const workflowSettings = { id: "m2m", trigger: "m2m:token_generation", bindings: { "kinde.m2mToken": {} } };

export default async (event) => {
  const { context: { application: { clientId } = {} } = {} } = event;
  kinde.m2mToken.setCustomClaim("total", sum(1, 2, 3));
  kinde.m2mToken.setCustomClaim("client", clientId ?? null);
};
