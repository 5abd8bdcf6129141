// Recorded with: node testdata/console.js > testdata/console.node.txt (Node on this machine);
// TestConsoleMatchesNode runs the same script in the sandbox and compares.
const m = new Map([["a",1],[{x:1},"b"]]);
console.log(m);
console.log(new Set([1,"a",[2]]));
console.log(10n, -5n);
console.log({a: 10n, m: new Map(), s: new Set()});
console.log("%d %i %s %j", 10n, 10n, 10n, {a:1});
console.log({deep: {deeper: {deepest: new Map([[1,2]]), s: new Set([1])}}});
console.log(new Map([[1, new Map([[2, new Map([[3, new Map([[4,5]])]])]])]]));
console.log(Object(10n), Object("s"), Object(3), Object(false));
console.log([1n]);
class M extends Map {}; console.log(new M([[1,2]]));
console.log(new WeakMap());
console.log(new Set(Array.from({length: 101}, (_, i) => i)).size);
console.log([Symbol("q")], Symbol("r"));
