export const workflowSettings = { id: "m2m", trigger: "m2m:token_generation" };
export default { async handle(event: unknown) {} };
