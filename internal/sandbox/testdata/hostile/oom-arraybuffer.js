module.exports.default = async function (event) {
  const b = new ArrayBuffer("1099511627776");
  return b.byteLength;
};
