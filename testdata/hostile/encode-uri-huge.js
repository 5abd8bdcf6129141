module.exports.default = async function (event) {
  let s = "\u00e9".repeat(16e6 - 1); for (let i = 0; i < 100; i++) encodeURIComponent(s);
};
