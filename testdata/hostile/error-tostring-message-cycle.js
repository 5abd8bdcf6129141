module.exports.default = async function (event) {
  const e = {}; e.message = e; e.toString = Error.prototype.toString; String(e);
};
