throw { get message() { for (;;) {} }, get name() { for (;;) {} }, toString() { for (;;) {} } };
module.exports.default = async function () {};
