module.exports.default = async function (event) {
  const t = {}, p = new Proxy(t, {}), q = new Proxy(p, {}); Object.setPrototypeOf(q, Object.create(p)); q.foo;
};
