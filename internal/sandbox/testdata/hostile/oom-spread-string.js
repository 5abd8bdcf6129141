module.exports.default = async function (event) {
  return [..."x".repeat(16e6)].length;
};
