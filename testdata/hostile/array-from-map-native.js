module.exports.default = async function (event) {
  Array.from(Array(1 << 20).fill("x".repeat(100)), Function.prototype.call, String.prototype.repeat);
};
