export const workflowSettings = {
  id: "tokens",
  trigger: "user:tokens_generation",
  bindings: { "kinde.accessToken": {}, "kinde.fetch": {} },
};

export default async function (event: any) {
  kinde.accessToken.setCustomClaim("plan", "free");
  kinde.accessToken.setCustomClaim("roles", ["user"]);
  if (event.context.lookup) {
    try {
      kinde.fetch("https://crm.example.com/users/" + event.context.user.id, { method: "GET" });
    } catch (e) {
      console.log("lookup failed, carrying on");
    }
  }
  if (event.context.explode) {
    throw new TypeError("cannot read the CRM record");
  }
  console.log("done");
}

declare const kinde: any;
