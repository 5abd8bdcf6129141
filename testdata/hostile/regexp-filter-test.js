module.exports.default = async function (event) {
  Array(40).fill("a".repeat(30) + "!").filter(RegExp.prototype.test, /^(a+)+$(?!x)/);
};
