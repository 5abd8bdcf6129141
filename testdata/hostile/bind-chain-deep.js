module.exports.default = async function (event) {
  let f = function () { return 1 }; for (let i = 0; i < 2e6; i++) f = f.bind(null); f();
};
