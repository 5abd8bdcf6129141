export const workflowSettings = {
  id: "noTrigger",
};
export default async function () {}
