const t = {}, p = new Proxy(t, {}); try { Object.setPrototypeOf(t, p) } catch (e) {} t instanceof Date; throw new Error("the cycle was refused");
module.exports.default = async function () {};
