module.exports.default = async function (event) {
  const p = new Proxy({}, { getPrototypeOf() { return p } }); p instanceof Date;
};
