import { defaults } from "./lib/settings";

export const workflowSettings = { id: "postAuth", trigger: "user:post_authentication", ...defaults };

export default async function () {}
