module.exports.default = async function (event) {
  eval("!".repeat(6e4) + "1");
  throw new Error("goja parses a long unary chain iteratively: the run goes on");
};
