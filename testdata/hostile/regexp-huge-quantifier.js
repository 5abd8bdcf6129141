module.exports.default = async function (event) {
  new RegExp("a{1000000}{1000000}").test("a"); throw new Error("survived");
};
