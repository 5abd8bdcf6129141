module.exports.default = async function (event) {
  const r = {}; r.raw = r; r.length = 1; r[0] = r; r.toString = Object.prototype.toLocaleString; String.raw(r, 1);
};
