module.exports.default = async function (event) {
  Array.from("x".repeat(16e6));
};
