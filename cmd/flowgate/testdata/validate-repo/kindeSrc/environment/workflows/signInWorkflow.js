export const workflowSettings = {
  id: "tokens",
  trigger: "user:post_authentication, 100%",
};

export default async function (event) {}
