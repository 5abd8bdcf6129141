module.exports.default = async function (event) {
  let e; try { require("fs") } catch (x) { e = x } if (e && e.value && typeof e.value.Error === "function") throw new Error("GoError reachable: " + e.value.Error()); throw e;
};
