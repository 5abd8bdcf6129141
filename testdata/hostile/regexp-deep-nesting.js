module.exports.default = async function (event) {
  new RegExp("(".repeat(2e5) + "a" + ")".repeat(2e5)).test("a"); throw new Error("survived");
};
