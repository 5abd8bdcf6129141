module.exports.default = async function (event) {
  JSON.parse("[" + "0,".repeat(8e6) + "0]");
};
