module.exports.default = async function (event) {
  const o = {}; for (let i = 0; ; i++) o["k" + i] = "v".repeat(1000) + i;
};
