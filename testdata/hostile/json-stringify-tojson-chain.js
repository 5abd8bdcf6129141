module.exports.default = async function (event) {
  const o = {}; o.toJSON = Date.prototype.toJSON; o.toISOString = Date.prototype.toJSON; JSON.stringify(o);
};
