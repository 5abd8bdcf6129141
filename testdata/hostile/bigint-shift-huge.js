module.exports.default = async function (event) {
  const x = 1n << (2n ** 40n);
};
