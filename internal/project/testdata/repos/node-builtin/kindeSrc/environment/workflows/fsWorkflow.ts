import { readFileSync } from "node:fs";

export const workflowSettings = { id: "fs", trigger: "user:pre_mfa" };
export default async function () {
  return readFileSync("/etc/hostname", "utf8");
}
