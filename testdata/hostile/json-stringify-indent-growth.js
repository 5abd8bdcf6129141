module.exports.default = async function (event) {
  let a = 1; for (let i = 0; i < 40; i++) a = [a, a]; JSON.stringify(a, null, 10);
};
