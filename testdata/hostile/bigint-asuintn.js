module.exports.default = async function (event) {
  BigInt.asUintN(2 ** 40, -1n);
};
