module.exports.default = async function (event) {
  const big = Array(1 << 20).fill(0); Array(1000).fill(big).flat();
};
