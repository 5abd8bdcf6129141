module.exports.default = async function (event) {
  [].concat(...Array(1000).fill(Array(1 << 20).fill(0)));
};
