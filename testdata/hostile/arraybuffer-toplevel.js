new ArrayBuffer("1099511627776");
module.exports.default = async function () {};
