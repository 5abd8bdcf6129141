module.exports.default = async function (event) {
  JSON.parse("{\"a\":".repeat(2e6));
};
