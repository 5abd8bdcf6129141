module.exports.default = async function (event) {
  const o = {}; o[Symbol.toPrimitive] = Object.prototype.toLocaleString; o.toString = Object.prototype.toLocaleString; "" + o;
};
