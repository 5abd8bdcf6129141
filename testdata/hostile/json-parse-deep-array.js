module.exports.default = async function (event) {
  JSON.parse("[".repeat(4e6));
};
