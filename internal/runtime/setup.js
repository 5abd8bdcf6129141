// setup.js runs once per pooled runtime, after bindings.InstallGlobals and
// the Go allocation guards (guards.go), before any workflow code. It (1)
// replaces the ArrayBuffer and typed-array constructors, which can
// allocate a lot in a single native call that vm.Interrupt cannot stop,
// with size-checking wrappers; (2) turns the properties people commonly
// override by assignment into accessors, so freezing does not break `this.name = "MyError"`;
// (3) deep-freezes every intrinsic reachable from globalThis plus the
// hidden ones (iterator and generator prototypes), and globalThis itself.
// L is {maxStringLength, maxArrayLength, maxBufferBytes, freeze}; freeze is
// false for a runtime used once (Engine.Inspect), which needs the guards only.
(function (L) {
  "use strict";
  const G = globalThis;
  const construct = Reflect.construct;
  const defineProperty = Reflect.defineProperty, getOwn = Reflect.getOwnPropertyDescriptor;
  const ownKeys = Reflect.ownKeys, getProto = Reflect.getPrototypeOf;
  const freeze = Object.freeze;
  const RangeErr = RangeError, TypeErr = TypeError, Str = String;
  const MAXB = L.maxBufferBytes;
  const iterSym = Symbol.iterator;

  function over(what, n, max) {
    throw new RangeErr("memory limit exceeded: " + what + " of " + n + " exceeds the limit of " + max);
  }
  function lenOf(o) {
    if (o === null || o === undefined) return 0;
    const n = +o.length;
    return n > 0 ? n : 0;
  }
  // ArrayBuffer and typed arrays: one `new ArrayBuffer(2**40)` is a fatal
  // Go out-of-memory, so the constructors are replaced by checking wrappers, and
  // every path back to the original constructor (prototype.constructor)
  // points at the wrapper.
  const AB = ArrayBuffer;
  function guardCtor(name, bytesPer) {
    const C = G[name];
    if (typeof C !== "function") return;
    const check = (args) => {
      const a = args[0];
      let n = 0;
      if (typeof a === "number") n = a * bytesPer;
      else if (a !== null && typeof a === "object" && !(a instanceof AB)) n = lenOf(a) * bytesPer;
      if (n > MAXB) over(name + " size", n, MAXB);
    };
    // A plain function, not a Proxy: goja's instanceof rejects callable proxies.
    const W = { [name]: function (...args) {
      if (new.target === undefined) throw new TypeErr("Constructor " + name + " requires 'new'");
      check(args);
      return construct(C, args, new.target === W ? C : new.target);
    } }[name];
    for (const k of ownKeys(C)) {
      if (k === "prototype" || k === "name") continue;
      defineProperty(W, k, getOwn(C, k));
    }
    Object.setPrototypeOf(W, getProto(C));
    defineProperty(W, "prototype", { value: C.prototype, writable: false, enumerable: false, configurable: false });
    defineProperty(C.prototype, "constructor", { value: W, writable: true, enumerable: false, configurable: true });
    defineProperty(G, name, { value: W, writable: true, enumerable: false, configurable: true });
  }
  guardCtor("ArrayBuffer", 1);
  for (const [name, size] of [["Int8Array", 1], ["Uint8Array", 1], ["Uint8ClampedArray", 1], ["Int16Array", 2],
    ["Uint16Array", 2], ["Int32Array", 4], ["Uint32Array", 4], ["Float32Array", 4], ["Float64Array", 8],
    ["BigInt64Array", 8], ["BigUint64Array", 8]]) guardCtor(name, size);

  // The override mistake: once Error.prototype.name is frozen, a strict
  // `this.name = "X"` on an instance throws. Accessors that define an own
  // property on the receiver keep that working.
  function tame(obj, key) {
    const d = getOwn(obj, key);
    if (!d || !("value" in d) || !d.configurable) return;
    const value = d.value;
    defineProperty(obj, key, {
      get() { return value; },
      set(v) {
        if (this === obj) throw new TypeErr("Cannot assign to read only property '" + Str(key) + "' of a builtin");
        if (!defineProperty(Object(this), key, { value: v, writable: true, enumerable: true, configurable: true })) {
          throw new TypeErr("Cannot assign to read only property '" + Str(key) + "'");
        }
      },
      enumerable: d.enumerable,
      configurable: false,
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

  if (!L.freeze) return;
  // Deep freeze, from globalThis and the intrinsics it does not name.
  const seen = new Set();
  const stack = [G,
    getProto(function* () {}), getProto((function* () {})()), getProto(async function () {}),
    getProto([][iterSym]()), getProto(new Map()[iterSym]()), getProto(new Set()[iterSym]()),
    getProto(""[iterSym]()), getProto(/a/[Symbol.matchAll]("a")),
    getOwn((function () { "use strict"; return arguments; })(), "callee").get,
  ];
  // Indexed loops: cheaper than the guarded array methods.
  let top = stack.length;
  while (top > 0) {
    const o = stack[--top];
    if (o === null || (typeof o !== "object" && typeof o !== "function") || seen.has(o)) continue;
    seen.add(o);
    freeze(o);
    stack[top++] = getProto(o);
    const keys = ownKeys(o);
    for (let i = 0; i < keys.length; i++) {
      const d = getOwn(o, keys[i]);
      if (d === undefined) continue;
      stack[top++] = d.value;
      stack[top++] = d.get;
      stack[top++] = d.set;
    }
  }
})
