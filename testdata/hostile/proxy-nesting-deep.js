module.exports.default = async function (event) {
  let p = {}; for (let i = 0; i < 2e6; i++) p = new Proxy(p, {}); p.x;
};
