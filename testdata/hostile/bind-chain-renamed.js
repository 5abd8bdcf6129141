module.exports.default = async function (event) {
  let f = function () { return 1 }; for (let i = 0; i < 1e5; i++) { f = f.bind(null); Object.defineProperty(f, "name", {value: "x"}); } f();
};
