JSON.parse("[".repeat(4e6));
module.exports.default = async function () {};
