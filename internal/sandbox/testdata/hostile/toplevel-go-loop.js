const t = {}, p = new Proxy(t, {}); Object.setPrototypeOf(t, p); t instanceof Date;
module.exports.workflowSettings = { id: "w", trigger: "user:tokens_generation" };
module.exports.default = async function () {};
