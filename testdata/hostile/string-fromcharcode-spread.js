module.exports.default = async function (event) {
  String.fromCharCode(...Array(1 << 22).fill(65));
};
