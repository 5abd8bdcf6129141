exports.workflowSettings = { id: "denyCancel", trigger: "user:plan_cancellation_request", bindings: { "kinde.plan": {} } };
exports.default = async () => kinde.plan.denyCancellation("talk to us first");
