module.exports.default = async function (event) {
  const t = {}, p = new Proxy(t, {}); Object.setPrototypeOf(t, p); "x" in p;
};
