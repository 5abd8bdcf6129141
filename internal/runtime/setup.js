// setup.js runs once per runtime, after bindings.InstallGlobals and the Go
// guards (guards.go, native.go), before any workflow code. It (1) replaces
// the ArrayBuffer and typed-array constructors, which can allocate a lot
// in a single native call that vm.Interrupt cannot stop, with
// size-checking wrappers; (2) replaces Proxy (nesting) and the Function
// constructors (parsed text) with checking wrappers, and guards the
// __proto__ setter (prototype cycles); (3) turns the properties people
// commonly override by assignment into accessors, so freezing does not
// break `this.name = "MyError"`; (4) wraps every builtin reachable from
// globalThis and the hidden intrinsics (native.go: nested builtins are
// counted, none starts once the run is over) and (5) deep-freezes them
// and globalThis itself.
// L holds the limits (maxStringLength, maxArrayLength, maxBufferBytes),
// freeze (false for a runtime used once, Engine.Inspect, which needs the
// guards only) and the Go checks (native.go): wrap, checkSource,
// makeProxy, checkPattern, toIndex, guardProtoSetter, over.
(function (L) {
  "use strict";
  const G = globalThis;
  const construct = Reflect.construct;
  const defineProperty = Reflect.defineProperty, getOwn = Reflect.getOwnPropertyDescriptor;
  const ownKeys = Reflect.ownKeys, getProto = Reflect.getPrototypeOf;
  const freeze = Object.freeze;
  const RangeErr = RangeError, TypeErr = TypeError, Str = String;
  const MAXB = L.maxBufferBytes, MAXA = L.maxArrayLength;
  const iterSym = Symbol.iterator;

  const over = L.over; // throws a RangeError of kind memory

  function lenOf(o) {
    if (o === null || o === undefined) return 0;
    const n = +o.length;
    return n > 0 ? n : 0;
  }
  const toIndex = L.toIndex, checkSource = L.checkSource, makeProxy = L.makeProxy;
  // replaceCtor puts W in place of the constructor C at holder[key]: W
  // gets C's own properties (prototype included, so instanceof holds) and
  // every path back to C (prototype.constructor) points at W.
  function replaceCtor(holder, key, C, W) {
    for (const k of ownKeys(C)) {
      if (k === "name") continue;
      const d = getOwn(C, k);
      if (k === "prototype") {
        defineProperty(W, "prototype", { value: d.value, writable: false, enumerable: false, configurable: false });
        defineProperty(d.value, "constructor", { value: W, writable: true, enumerable: false, configurable: true });
        continue;
      }
      defineProperty(W, k, d);
    }
    defineProperty(W, "name", { value: C.name, writable: false, enumerable: false, configurable: true });
    Object.setPrototypeOf(W, getProto(C));
    if (holder !== null) defineProperty(holder, key, { value: W, writable: true, enumerable: false, configurable: true });
  }

  // ArrayBuffer and typed arrays: one `new ArrayBuffer(2**40)` is a fatal
  // Go out-of-memory. A length is converted once (a string or valueOf
  // could otherwise pass the check and then ask for more) and checked.
  const AB = ArrayBuffer;
  function guardCtor(name, bytesPer) {
    const C = G[name];
    if (typeof C !== "function") return;
    // A plain function, not a Proxy: goja's instanceof rejects callable proxies.
    const W = { [name]: function (...args) {
      if (new.target === undefined) throw new TypeErr("Constructor " + name + " requires 'new'");
      const a = args[0];
      let n = 0, count = 0;
      if (name === "ArrayBuffer" || a === null || (typeof a !== "object" && typeof a !== "function")) {
        args[0] = toIndex(a);
        n = args[0] * bytesPer;
        count = args[0];
      } else if (!(a instanceof AB)) {
        count = lenOf(a);
        n = count * bytesPer;
      } else if (name !== "ArrayBuffer") {
        // A view of a buffer: offset and length converted once, the
        // element count is what the buffer can hold of it.
        const off = args[1] = toIndex(args[1]);
        const avail = Math.max(0, Math.floor((a.byteLength - off) / bytesPer));
        count = args[2] === undefined ? avail : Math.min(args[2] = toIndex(args[2]), avail);
      }
      if (n > MAXB) over(name + " size", n, MAXB);
      // A typed array has an own key per element, which Object.keys,
      // Object.assign, JSON.stringify, spread and for-in list natively:
      // 16 Mi of them ran a minute past the wall time. Elements are
      // bounded like an array's.
      if (name !== "ArrayBuffer" && count > MAXA) over(name + " length", count, MAXA);
      return construct(C, args, new.target === W ? C : new.target);
    } }[name];
    replaceCtor(G, name, C, W);
  }
  guardCtor("ArrayBuffer", 1);
  for (const [name, size] of [["Int8Array", 1], ["Uint8Array", 1], ["Uint8ClampedArray", 1], ["Int16Array", 2],
    ["Uint16Array", 2], ["Int32Array", 4], ["Uint32Array", 4], ["Float32Array", 4], ["Float64Array", 8],
    ["BigInt64Array", 8], ["BigUint64Array", 8]]) guardCtor(name, size);

  // Proxy: nesting is bounded (each level is a Go recursion). A bound
  // function, so that like Proxy it has no prototype property.
  const P = Proxy;
  const PW = function Proxy(target, handler) {
    if (new.target === undefined) throw new TypeErr("Constructor Proxy requires 'new'");
    return makeProxy(target, handler);
  }.bind(undefined);
  defineProperty(PW, "name", { value: "Proxy", writable: false, enumerable: false, configurable: true });
  defineProperty(PW, "revocable", getOwn(P, "revocable"));
  defineProperty(G, "Proxy", { value: PW, writable: true, enumerable: false, configurable: true });

  // The Function constructors parse their text: nesting is bounded, the
  // text converted once.
  function guardCode(holder, key, C) {
    const name = C.name;
    const W = { [name]: function (...args) {
      let text = "";
      for (let i = 0; i < args.length; i++) {
        args[i] = `${args[i]}`;
        text += args[i] + "\n";
      }
      checkSource(text);
      return construct(C, args, new.target === undefined || new.target === W ? C : new.target);
    } }[name];
    replaceCtor(holder, key, C, W);
  }
  guardCode(G, "Function", Function);
  guardCode(null, "", getProto(function* () {}).constructor);
  guardCode(null, "", getProto(async function () {}).constructor);

  // RegExp parses its pattern natively: nesting and size are bounded, the
  // pattern converted once.
  const RE = RegExp, checkPattern = L.checkPattern, apply = Reflect.apply;
  const REW = function RegExp(pattern, flags) {
    let p = pattern;
    const isRE = p !== null && typeof p === "object" && (p instanceof RE);
    if (!isRE && p !== undefined) {
      p = `${p}`;
      checkPattern(p);
    }
    if (new.target === undefined && isRE && flags === undefined && p.constructor === REW) return p;
    const args = arguments.length > 1 ? [p, flags] : [p];
    if (new.target === undefined) return apply(RE, undefined, args);
    return construct(RE, args, new.target === REW ? RE : new.target);
  };
  replaceCtor(G, "RegExp", RE, REW);

  // __proto__ = v must not close a prototype cycle through a proxy.
  const dp = getOwn(Object.prototype, "__proto__");
  if (dp && dp.set) {
    defineProperty(Object.prototype, "__proto__", { get: dp.get, set: L.guardProtoSetter(dp.set),
      enumerable: dp.enumerable, configurable: dp.configurable });
  }

  // The override mistake: once Error.prototype.name is frozen, a strict
  // `this.name = "X"` on an instance throws. Accessors that define an own
  // property on the receiver keep that working.
  function tame(obj, key) {
    const d = getOwn(obj, key);
    if (!d || !("value" in d) || !d.configurable) return;
    // The builtin behind the accessor is the guarded one (native.go).
    const value = L.wrap(d.value);
    defineProperty(obj, key, {
      get() { return value; },
      set(v) {
        if (this === obj) throw new TypeErr("Cannot assign to read only property '" + Str(key) + "' of a builtin");
        if (!defineProperty(Object(this), key, { value: v, writable: true, enumerable: true, configurable: true })) {
          throw new TypeErr("Cannot assign to read only property '" + Str(key) + "'");
        }
      },
      enumerable: d.enumerable,
      // Configurable until the freeze below: the wrapping walk must be
      // able to replace these accessors, and freezing then fixes them.
      configurable: true,
    });
  }
  for (const k of ["constructor", "toString", "valueOf", "hasOwnProperty", "isPrototypeOf",
    "propertyIsEnumerable", "toLocaleString"]) tame(Object.prototype, k);
  for (const E of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, G.AggregateError]) {
    if (typeof E !== "function") continue;
    for (const k of ["name", "message", "constructor", "toString"]) tame(E.prototype, k);
  }
  for (const C of [Function, Array, String, Number, Boolean, Symbol, Date, RegExp, Promise, Map, Set, WeakMap,
    WeakSet, G.URL, G.URLSearchParams]) {
    if (typeof C !== "function" || !C.prototype) continue;
    for (const k of ["constructor", "toString"]) tame(C.prototype, k);
  }

  // Wrap every builtin (native.go: nested builtins are counted, and none
  // starts once the run is over), then deep-freeze, from globalThis and
  // the intrinsics it does not name.
  const wrap = L.wrap, doFreeze = L.freeze;
  const regexpProto = RegExp.prototype;
  // goja optimises regexps while these RegExp.prototype properties are
  // its own; they are left as they are.
  const regexpKept = new Set(["exec", "global", "multiline", "ignoreCase", "unicode", "sticky"]);
  const seen = new Set();
  const stack = [G,
    getProto(function* () {}), getProto((function* () {})()), getProto(async function () {}),
    getProto([][iterSym]()), getProto(new Map()[iterSym]()), getProto(new Set()[iterSym]()),
    getProto(""[iterSym]()), getProto(/a/[Symbol.matchAll]("a")),
    getOwn((function () { "use strict"; return arguments; })(), "callee").get,
    (function () { return arguments; })()[iterSym],
  ];
  // Indexed loops: cheaper than the guarded array methods.
  let top = stack.length;
  while (top > 0) {
    const o = stack[--top];
    if (o === null || (typeof o !== "object" && typeof o !== "function") || seen.has(o)) continue;
    seen.add(o);
    stack[top++] = getProto(o);
    const keys = ownKeys(o);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      const d = getOwn(o, k);
      if (d === undefined) continue;
      if (o === regexpProto && regexpKept.has(k)) {
        stack[top++] = d.value;
        stack[top++] = d.get;
        continue;
      }
      // Indexed over the three fields: cheaper than for-of.
      let changed = false;
      for (let j = 0; j < 3; j++) {
        const f = j === 0 ? "value" : j === 1 ? "get" : "set";
        const v = d[f];
        stack[top++] = v; // frozen too: a property that cannot be redefined keeps it
        if (typeof v !== "function") continue;
        const w = wrap(v);
        if (w !== v) {
          d[f] = w;
          changed = true;
        }
        stack[top++] = w;
      }
      if (changed) defineProperty(o, k, d);
      // What a getter returns is reachable too (tame's accessors hand out
      // the wrapped builtin they hold): read it and freeze it as well.
      if (typeof d.get === "function") {
        try { stack[top++] = apply(d.get, o, []); } catch (e) { /* a getter refusing this receiver */ }
      }
    }
    if (doFreeze) freeze(o);
  }
})
