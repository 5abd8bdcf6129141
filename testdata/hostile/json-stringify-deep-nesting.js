module.exports.default = async function (event) {
  let a = []; for (let i = 0; i < 30000; i++) a = [a]; JSON.stringify(a);
};
