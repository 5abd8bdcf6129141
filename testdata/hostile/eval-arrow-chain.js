module.exports.default = async function (event) {
  eval("x=>".repeat(2e4) + "1"); throw new Error("survived");
};
