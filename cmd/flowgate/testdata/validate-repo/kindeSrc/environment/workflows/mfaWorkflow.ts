import { chunk } from "lodash-es";

export const workflowSettings = { id: "mfa", trigger: "user:pre_mfa" };

export default async function () {
  return chunk([1, 2, 3], 2);
}
