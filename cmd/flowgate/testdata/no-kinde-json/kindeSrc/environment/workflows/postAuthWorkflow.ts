export const workflowSettings = {
  id: "postAuth",
  trigger: "user:post_authentication",
  bindings: { "kinde.auth": {} },
};

export default async function (event: any) {
  if (event.request.ip.startsWith("10.")) {
    kinde.auth.denyAccess("internal addresses may not sign in");
  }
}

declare const kinde: any;
