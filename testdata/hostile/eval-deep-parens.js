module.exports.default = async function (event) {
  eval("(".repeat(2e6) + "1" + ")".repeat(2e6));
};
