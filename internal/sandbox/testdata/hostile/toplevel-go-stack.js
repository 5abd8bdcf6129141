const t = {}, p = new Proxy(t, {}); Object.setPrototypeOf(t, p); p.foo;
module.exports.workflowSettings = { id: "w", trigger: "user:tokens_generation" };
module.exports.default = async function () {};
