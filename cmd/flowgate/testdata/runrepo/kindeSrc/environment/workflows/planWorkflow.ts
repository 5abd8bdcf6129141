// Reports the requested plan to an audit service with kinde.secureFetch.
export const workflowSettings = {
  id: "plan",
  trigger: "user:plan_selection",
  bindings: { "kinde.plan": {}, "kinde.secureFetch": {} },
};

export default async function (event: any) {
  const r = await kinde.secureFetch(`${event.context.auditUrl}/audit`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: { plan: event.context.billing.requestedPlanCode },
  });
  if (!r.json.allowed) {
    kinde.plan.denySelection("That plan is not available", ["Choose pro"]);
  }
}

declare const kinde: any;
