module.exports.default = async function (event) {
  new ArrayBuffer("1099511627776");
};
