// An old version was a workflow:
// export const workflowSettings = { id: "old", trigger: "user:pre_mfa" };
/* export { workflowSettings }; */
const note = "export const workflowSettings = {}";
export const settingsNote = `exports.workflowSettings = ${note}`;
export { note as workflowSettingsNote };
