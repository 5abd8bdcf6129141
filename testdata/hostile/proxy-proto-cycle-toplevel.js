const t = {}, p = new Proxy(t, {}); Object.setPrototypeOf(t, p); p.foo;
module.exports.default = async function () {};
