module.exports.default = async function (event) {
  "a".repeat(30) + "!".replace(/^(a+)+$(?!x)/, "y"); for (;;) ("a".repeat(28) + "!").replace(/^(a+)+$(?!x)/g, "y");
};
