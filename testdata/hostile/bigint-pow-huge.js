module.exports.default = async function (event) {
  const x = 2n ** (2n ** 40n);
};
