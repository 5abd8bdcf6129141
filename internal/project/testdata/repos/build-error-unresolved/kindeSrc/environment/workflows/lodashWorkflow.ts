import { WorkflowTrigger } from "@kinde/infrastructure";
import { chunk } from "lodash-es";
import { helper } from "./missing/helper";

export const workflowSettings = { id: "lodash", trigger: WorkflowTrigger.UserPreMFA };
export default async function () {
  chunk([1, 2], 1);
  helper();
}
