module.exports.default = async function (event) {
  const a = [0]; a[0] = {toLocaleString: Array.prototype.toLocaleString, length: 1, 0: null}; a[0][0] = a[0]; a.toLocaleString();
  throw new Error("goja detects the cycle: the run goes on");
};
