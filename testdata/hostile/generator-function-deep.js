module.exports.default = async function (event) {
  const GF = Object.getPrototypeOf(function* () {}).constructor; GF("yield " + "[".repeat(2e4));
};
