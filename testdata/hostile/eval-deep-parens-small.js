module.exports.default = async function (event) {
  eval("(".repeat(3e4) + "1" + ")".repeat(3e4));
};
