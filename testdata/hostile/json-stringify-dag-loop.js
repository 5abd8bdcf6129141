module.exports.default = async function (event) {
  let a = [1]; for (let i = 0; i < 60; i++) a = [a, a];
  for (;;) { try { JSON.stringify(a) } catch (e) {} }
};
