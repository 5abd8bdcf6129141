module.exports.default = async function (event) {
  new DataView(new ArrayBuffer(2 ** 40));
};
