package runtime

import (
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/flowgate/flowgate/internal/workflow"
)

// Issue 14: single native calls bounded by their input before they start.
// Each refusal must come from its guard (the message says which), not
// from the wall time or the heap sampler racing the call.
func TestTextGuardsRefuseBeforeTheCall(t *testing.T) {
	e := New(Options{})
	defer e.Close()
	tests := []struct{ name, body, guard string }{
		{"BigInt decimal", `BigInt("9".repeat(4 << 20))`, "BigInt text length"},
		{"BigInt padded", `BigInt(" ".repeat(10) + "9".repeat(1 << 17))`, "BigInt text length"},
		{"BigInt valueOf", `BigInt({ valueOf() { return "9".repeat(1 << 20) } })`, "BigInt text length"},
		{"BigInt toPrimitive", `BigInt({ [Symbol.toPrimitive]() { return "9".repeat(1 << 20) } })`, "BigInt text length"},
		{"BigInt via constructor", `(1n).constructor("9".repeat(1 << 20))`, "BigInt text length"},
		{"BigInt.asUintN", `BigInt.asUintN(64, "9".repeat(1 << 20))`, "BigInt text length"},
		{"BigInt.asIntN", `BigInt.asIntN(64, "9".repeat(1 << 20))`, "BigInt text length"},
		{"parseFloat", `parseFloat("9".repeat(16 << 20))`, "number text length"},
		{"Number.parseFloat", `Number.parseFloat(" " + "9".repeat(1 << 20))`, "number text length"},
		{"parseInt", `parseInt("9".repeat(16 << 20))`, "number text length"},
		{"parseInt radix 36", `Number.parseInt("z".repeat(1 << 20), 36)`, "number text length"},
		{"normalize", `"e\u0301".repeat(8 << 20).normalize()`, "normalized string length"},
		{"normalize NFKD", `"\u00e9".repeat(2 << 20).normalize("NFKD")`, "normalized string length"},
		{"normalize boxed", `String.prototype.normalize.call(new String("\u00e9".repeat(2 << 20)))`, "normalized string length"},
		{"encodeURIComponent", `encodeURIComponent("\uffff".repeat(16e6))`, "encoded string length"},
		{"toUpperCase", `"\u00e9".repeat(16 << 20).toUpperCase()`, "case-mapped string length"},
		{"toLocaleLowerCase", `"\u00c9".repeat(2 << 20).toLocaleLowerCase()`, "case-mapped string length"},
		{"localeCompare", `const a = "\u00e9".repeat(1 << 20); a.localeCompare(a + "x")`, "compared string length"},
		{"localeCompare one side", `"a".repeat(1 << 20).localeCompare("\u00e9")`, "compared string length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, e, load(t, e, handler(tt.body)), `{}`)
			if r.Error == nil || r.Error.Kind != workflow.KindMemory || !strings.Contains(r.Error.Message, tt.guard) {
				t.Fatalf("error %+v; want kind memory from the %q guard", r.Error, tt.guard)
			}
		})
	}
}

// The guards keep what these builtins do.
func TestTextGuardsKeepBehaviour(t *testing.T) {
	e := New(Options{})
	defer e.Close()
	p := load(t, e, handler(`
const long = " ".repeat(1 << 17);
const checks = {
  bigint: BigInt(10) === 10n && BigInt(" 12 ") === 12n && BigInt("0x1f") === 31n && BigInt(true) === 1n,
  bigintObj: BigInt({ valueOf: () => 7 }) === 7n && BigInt({ [Symbol.toPrimitive]: (h) => h === "number" ? "5" : "0" }) === 5n,
  bigintShape: typeof BigInt === "function" && BigInt.name === "BigInt" && BigInt.length === 1 &&
    BigInt.prototype.constructor === BigInt && (1n).constructor === BigInt && Object.getPrototypeOf(1n) === BigInt.prototype,
  bigintNew: (() => { try { new BigInt(1); return false } catch (e) { return e instanceof TypeError } })(),
  bigintSyntax: (() => { try { BigInt("12x"); return false } catch (e) { return e instanceof SyntaxError } })(),
  asUintN: BigInt.asUintN(8, 257n) === 1n && BigInt.asIntN(8, "255") === -1n,
  parse: parseInt("0x1f") === 31 && parseInt("12px") === 12 && parseFloat("1.5e3xyz") === 1500 && Number.isNaN(parseFloat("x")),
  parseLong: parseFloat(long + "2.5e1" + "!".repeat(1 << 20)) === 25 && parseInt("ff" + "g".repeat(1 << 20), 16) === 255 &&
    parseFloat("-Infinity" + long) === -Infinity && parseInt(long + "-7" + long) === -7,
  same: Number.parseFloat === parseFloat && Number.parseInt === parseInt,
  normalize: "e\u0301".normalize() === "\u00e9" && "\u00e9".normalize("NFD").length === 2 && "a".repeat(4 << 20).normalize().length === 4 << 20,
  normalizeBad: (() => { try { "x".normalize("bad"); return false } catch (e) { return e instanceof RangeError } })(),
  cases: "\u00e9".toUpperCase() === "\u00c9" && "a".repeat(4 << 20).toUpperCase().length === 4 << 20 && "\u00c9".toLocaleLowerCase() === "\u00e9",
  collate: "a".localeCompare("b") < 0 && "\u00e9".localeCompare("\u00e9") === 0 && "a".repeat(1 << 20).localeCompare("a".repeat(1 << 20)) === 0 &&
    String.prototype.localeCompare.call(5, "5") === 0,
  encode: encodeURIComponent("a b\uffff") === "a%20b%EF%BF%BF" && encodeURIComponent("\ud83d\ude00".repeat(3)).length === 36,
};
for (const [k, v] of Object.entries(checks)) kinde.accessToken.setCustomClaim(k, v);`))
	r := run(t, e, p, `{}`)
	wantSucceeded(t, r)
	for k, v := range r.AccessToken.CustomClaims {
		if v != true {
			t.Errorf("%s: %v", k, v)
		}
	}
	if len(r.AccessToken.CustomClaims) != 14 {
		t.Fatalf("claims %v", r.AccessToken.CustomClaims)
	}
}

// encodeURIComponent of a 16 M unit string is refused without converting
// it to Go text (hundreds of MB before): counted by allocation, not time.
func TestEncodeGuardAllocatesLittle(t *testing.T) {
	e := New(Options{})
	defer e.Close()
	// The string itself is 32 MB; measure around a run that makes it
	// and one that also encodes it.
	alloc := func(body string) uint64 {
		var m0, m1 goruntime.MemStats
		goruntime.ReadMemStats(&m0)
		run(t, e, load(t, e, handler(body)), `{}`)
		goruntime.ReadMemStats(&m1)
		return m1.TotalAlloc - m0.TotalAlloc
	}
	base := alloc(`const s = "\uffff".repeat(16e6); kinde.accessToken.setCustomClaim("n", s.length);`)
	with := alloc(`const s = "\uffff".repeat(16e6); try { encodeURIComponent(s) } catch (e) {} kinde.accessToken.setCustomClaim("n", s.length);`)
	if with > base+(8<<20) {
		t.Fatalf("the refused encodeURIComponent allocated %d MB more than making its input (%d MB)", (with-base)>>20, base>>20)
	}
}
