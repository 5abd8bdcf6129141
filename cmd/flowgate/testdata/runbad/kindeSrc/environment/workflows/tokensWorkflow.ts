export const workflowSettings = {
  id: "tokens",
  trigger: "user:tokens_generation",
  bindings: {},
};

export default async function (event: any) {
  const x = ;
}
