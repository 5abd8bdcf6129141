module.exports.default = async function (event) {
  new Function("return " + "(".repeat(2e6) + "1" + ")".repeat(2e6));
};
