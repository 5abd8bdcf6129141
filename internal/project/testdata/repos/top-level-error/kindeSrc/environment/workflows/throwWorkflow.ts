import { greeting } from "./lib/greeting";

export const workflowSettings = { id: "throw", trigger: "user:pre_mfa" };
export default async function () {
  return greeting;
}
