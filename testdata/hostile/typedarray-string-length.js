module.exports.default = async function (event) {
  new Float64Array("1099511627776");
};
