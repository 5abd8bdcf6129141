module.exports.default = async function (event) {
  return Array(10).fill("a".repeat(30) + "!").filter(RegExp.prototype.test, /^(a+)+$(?!x)/);
};
