export const notAWorkflow = (
