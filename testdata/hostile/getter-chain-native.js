module.exports.default = async function (event) {
  const o = {}; Object.defineProperty(o, "x", {get: Object.prototype.toLocaleString}); o.toString = Object.prototype.toLocaleString; o.toLocaleString = Object.prototype.toLocaleString; String(o);
};
