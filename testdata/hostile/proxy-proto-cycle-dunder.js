module.exports.default = async function (event) {
  const t = {}, p = new Proxy(t, {}); t.__proto__ = p; p.foo;
};
