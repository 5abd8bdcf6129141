module.exports.default = async function (event) {
  new Uint8Array(new ArrayBuffer(8), 0, { valueOf() { return 2 ** 40 } });
};
