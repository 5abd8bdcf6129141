package runtime

import (
	"testing"
	"time"
)

// The Go guards stop single native calls themselves (not the heap
// sampler: the budget here is far above what the calls would reach before
// the sampler looked), and guarded builtins still behave as the originals.
func TestGuards(t *testing.T) {
	// A generous wall time: under -race the bombs that are stopped after a
	// few 1 MiB copies take seconds.
	e := New(Options{Limits: Limits{WallTime: 60 * time.Second, MemoryBytes: 1 << 40, SampleInterval: time.Hour}})
	bombs := []struct{ body, want string }{
		{`"x".repeat(2 ** 30)`, "memory limit exceeded: string length of 1073741824"},
		{`"x".padStart(2 ** 31)`, "memory limit exceeded: string length"},
		{`"x".concat("y".repeat(1 << 23), "y".repeat(1 << 23))`, "memory limit exceeded: string length"},
		{`new Array(1e9).fill(0)`, "memory limit exceeded: array length of 1000000000"},
		{`[].concat(new Array(1e9))`, "memory limit exceeded: array length"},
		{`for (const x of new Array(1e9)) {}`, "memory limit exceeded: array length"},
		{`Array.prototype.forEach.call({length: 2 ** 32 - 1}, () => {})`, "memory limit exceeded: array length"},
		{`String(new Array(1e7))`, "memory limit exceeded: array length"},
		{`const b = "x".repeat(1 << 20); new Array(1 << 19).fill(b).join()`, "memory limit exceeded: joined string length"},
		{`Array.from({length: 1e9})`, "memory limit exceeded: array-like length"},
		{`Math.max.apply(null, {length: 1e9})`, "memory limit exceeded: argument list length"},
		{`Reflect.apply(Math.max, null, {length: 1e9})`, "memory limit exceeded: argument list length"},
		{`Reflect.construct(Array, {length: 1e9})`, "memory limit exceeded: argument list length"},
		{`"x".repeat(1 << 20).replace(/x/g, "$&$&")`, "memory limit exceeded: replaced string length"},
		{`"ab".repeat(1 << 19).replaceAll("a", "y".repeat(64))`, "memory limit exceeded: replaced string length"},
		{`const b = "x".repeat(1 << 20); JSON.stringify(new Array(1 << 19).fill(b))`, "memory limit exceeded: JSON string length"},
		{`const b = "x".repeat(1 << 20); JSON.stringify({a: 1}, (k, v) => k === "" ? new Array(1 << 5).fill(b) : v)`, "memory limit exceeded: JSON string length"},
		{`Uint8Array.from({length: 1e9})`, "memory limit exceeded: array-like length"},
		{`new Uint8Array(1 << 20).join("x".repeat(100))`, "memory limit exceeded: joined string length"},
	}
	for _, tt := range bombs {
		t.Run(tt.body, func(t *testing.T) {
			wantFailed(t, run(t, e, load(t, e, handler(tt.body)), `{}`), tt.want)
		})
	}
	same := []string{
		`[].map.name === "map" && [].map.length === 1 && [].join.name === "join" && JSON.stringify.length === 3`,
		`Array.prototype.values === Array.prototype[Symbol.iterator]`,
		`!Object.getOwnPropertyDescriptor(Array.prototype, "map").enumerable && String([].map).includes("native code")`,
		`[3, 1, 2].sort().join("-") === "1-2-3" && [1, [2, [3]]].flat(Infinity).length === 3 && [..."ab"].length === 2`,
		`JSON.stringify({a: [1, {b: 2}]}, null, 2) === '{\n  "a": [\n    1,\n    {\n      "b": 2\n    }\n  ]\n}'`,
		`JSON.stringify({a: 1, b: 2}, (k, v) => k === "b" ? undefined : v) === '{"a":1}'`,
		`JSON.stringify({a: 1, b: 2}, ["b"]) === '{"b":2}'`,
		`JSON.stringify({t: {toJSON() { return JSON.stringify([1]) }}}) === '{"t":"[1]"}'`,
		`"a-b".replace("-", "$&$&") === "a--b" && "aaa".replaceAll("a", (m) => m + 1) === "a1a1a1"`,
		`"ab".concat(1, "c") === "ab1c" && "x".padEnd(3, "-") === "x--" && "ab".repeat(2) === "abab"`,
		`Math.max.apply(null, [1, 3, 2]) === 3 && Reflect.apply(Math.min, null, [4, 5]) === 4`,
		`Array.from({length: 2}, (_, i) => i).join() === "0,1" && Uint8Array.of(1, 2).join() === "1,2"`,
		`(() => { try { [].map.call(null) } catch (e) { return e instanceof TypeError } })()`,
	}
	for _, expr := range same {
		t.Run(expr, func(t *testing.T) {
			r := run(t, e, load(t, e, handler(`kinde.accessToken.setCustomClaim("v", !!(`+expr+`))`)), `{}`)
			wantSucceeded(t, r)
			if claim(r, "v") != true {
				t.Fatalf("%s is false", expr)
			}
		})
	}
}
