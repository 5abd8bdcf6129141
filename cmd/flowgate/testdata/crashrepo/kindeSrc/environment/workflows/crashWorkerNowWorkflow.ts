// Its file name makes the test worker die while its settings are read.
export const workflowSettings = {
  id: "crashing",
  trigger: "user:post_authentication",
};

export default async function () {}
