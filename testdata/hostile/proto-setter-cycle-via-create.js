module.exports.default = async function (event) {
  const t = {}, p = new Proxy(t, {}); const o = Object.create(p); t.__proto__ = o; o.x;
};
