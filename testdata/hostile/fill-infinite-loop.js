module.exports.default = async function (event) {
  const a = Array(1 << 20).fill(0); for (;;) a.forEach(Math.abs);
};
