module.exports.default = async function (event) {
  let a; eval("a=".repeat(3e4) + "1"); throw new Error("survived");
};
