module.exports.default = async function (event) {
  const o = {}; o.toISOString = Date.prototype.toJSON; Date.prototype.toJSON.call(o);
};
