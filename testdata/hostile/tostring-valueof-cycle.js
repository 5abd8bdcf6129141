module.exports.default = async function (event) {
  const o = {}; o.toString = Object.prototype.toLocaleString; o.valueOf = Object.prototype.toLocaleString; String(o);
};
