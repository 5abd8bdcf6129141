module.exports.default = async function (event) {
  "x".repeat(16e6).split("");
};
