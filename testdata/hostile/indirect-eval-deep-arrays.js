module.exports.default = async function (event) {
  (0, eval)("[".repeat(2e6) + "]".repeat(2e6));
};
