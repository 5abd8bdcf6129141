module.exports.default = async function (event) {
  eval("1" + "+1".repeat(3e4)); throw new Error("survived");
};
