export const workflowSettings = {
  id: "postAuth",
  trigger: "user:post_authentication",
  bindings: { "kinde.accessToken": {} },
};

export default async function () {
  kinde.accessToken.setCustomClaim("a", 1);
}

declare const kinde: any;
