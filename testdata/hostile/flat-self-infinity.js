module.exports.default = async function (event) {
  const a = [0]; a[0] = a; a.flat(Infinity);
};
