// Top-level code that would allocate without bound if nothing stopped it.
export const table: number[] = new Array(1e9).fill(0);
export const workflowSettings = { id: "bomb", trigger: "user:tokens_generation" };
export default async function bomb() {}
