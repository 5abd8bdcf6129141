module.exports.default = async function (event) {
  new Function("return " + "[".repeat(2e4) + "]".repeat(2e4));
};
