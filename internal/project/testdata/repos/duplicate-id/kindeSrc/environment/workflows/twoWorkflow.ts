export const workflowSettings = {
  trigger: "user:plan_selection",
  id: "same",
};
export default async function () {}
