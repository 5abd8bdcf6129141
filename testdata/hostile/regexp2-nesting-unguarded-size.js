module.exports.default = async function (event) {
  const re = /a/g;
  if (RegExp(re) !== re || !(RegExp("a") instanceof RegExp) || new RegExp(re, "i").flags !== "i" || re.constructor !== RegExp) throw new TypeError("RegExp wrapper broke the language");
  RegExp("(?:".repeat(100) + "a" + ")".repeat(100)); throw new Error("the constructor still works");
};
