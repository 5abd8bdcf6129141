module.exports.default = async function (event) {
  let p = {}; for (let i = 0; i < 60; i++) p = new Proxy(p, p); p.x;
};
