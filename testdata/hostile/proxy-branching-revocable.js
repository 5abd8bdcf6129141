module.exports.default = async function (event) {
  let p = {}; for (let i = 0; i < 60; i++) p = Proxy.revocable(p, p).proxy; p.x;
};
