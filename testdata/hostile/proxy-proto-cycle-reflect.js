module.exports.default = async function (event) {
  const t = {}, p = new Proxy(t, {}); if (!Reflect.setPrototypeOf(t, p)) throw new TypeError("refused"); p.foo;
};
