module.exports.default = async function (event) {
  let p = {}; for (let i = 0; i < 1e5; i++) p = Proxy.revocable(p, {}).proxy; p.x;
};
