module.exports.default = async function (event) {
  const junk = []; for (let i = 0; i < 70000; i++) junk.push(Math.abs.bind(null));
  let f = function () { return 1 }; for (let i = 0; i < 1e5; i++) f = f.bind(null); f();
};
