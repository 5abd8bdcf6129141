import { WorkflowTrigger, denyAccess } from "@kinde/infrastructure";

export const workflowSettings = {
  id: "ipCheck",
  trigger: WorkflowTrigger.PostAuthentication,
  bindings: { "kinde.auth": {}, "kinde.fetch": {} },
};

export default async function (event: { request: { ip: string } }) {
  const res = await fetch(`https://ip.example.com/${event.request.ip}`, { method: "GET" });
  if (!res.ok) denyAccess("blocked");
  conosle.log("checked", event.request.ip);
}
