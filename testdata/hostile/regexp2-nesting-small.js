module.exports.default = async function (event) {
  new RegExp("(?=".repeat(1e4) + "a" + ")".repeat(1e4)).test("a"); throw new Error("survived");
};
