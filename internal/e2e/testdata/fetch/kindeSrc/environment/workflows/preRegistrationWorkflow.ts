import { WorkflowSettings, WorkflowTrigger, fetch, denyAccess } from "@kinde/infrastructure";

export const workflowSettings: WorkflowSettings = {
  id: "fetcher",
  trigger: WorkflowTrigger.UserPreRegistration,
  bindings: { "kinde.fetch": {}, "kinde.auth": {}, url: {} },
};

export default async function (event: any) {
  const base = event.context.serviceUrl;
  const { data: score } = await fetch(`${base}/score?ip=${event.request.ip}`, {
    method: "GET",
    headers: { accept: "application/json", "X-Api-Key": "k-123" },
  });
  const { data: banner } = await fetch(`${base}/banner`, {
    method: "POST",
    responseFormat: "text",
    headers: { "Content-Type": "application/json" },
    body: { ip: event.request.ip } as any,
  });
  console.log(`score ${score.risk}, banner ${banner}`);
  if (score.risk > 50) {
    denyAccess(`risk ${score.risk} is too high`);
  }
}
