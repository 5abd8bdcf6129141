module.exports.default = async function (event) {
  let a = []; for (let i = 0; i < 100000; i++) a = [a]; throw a;
};
