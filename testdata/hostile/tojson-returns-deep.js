module.exports.default = async function (event) {
  let a = []; for (let i = 0; i < 1e5; i++) a = [a]; JSON.stringify({toJSON() { return a }});
};
