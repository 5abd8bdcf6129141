module.exports.default = async function (event) {
  const a = [1]; a.push(a); if (String(a) !== "1,") throw new Error("join: " + String(a)); throw new Error("done");
};
