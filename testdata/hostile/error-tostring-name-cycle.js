module.exports.default = async function (event) {
  const e = {}; e.name = e; e.toString = Error.prototype.toString; String(e);
};
