module.exports.default = async function (event) {
  Array(1 << 20).fill("abcdefghij").map(Function.prototype.call, String.prototype.repeat);
};
