module.exports.default = async function (event) {
  new ArrayBuffer({ valueOf() { return 2 ** 40 } });
};
