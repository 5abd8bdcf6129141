module.exports.default = async function (event) {
  throw { get message() { for (;;) {} } };
};
