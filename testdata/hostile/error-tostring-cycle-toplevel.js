const e = {}; e.name = e; e.toString = Error.prototype.toString; String(e);
module.exports.default = async function () {};
