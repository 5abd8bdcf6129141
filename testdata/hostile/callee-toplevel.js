arguments.callee.stash = "x";
module.exports.default = async function () {};
