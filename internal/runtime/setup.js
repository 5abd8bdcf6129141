// setup.js runs once per pooled runtime, after bindings.InstallGlobals and
// before any workflow code. It (1) wraps the builtins that can allocate a
// lot in a single native call, which vm.Interrupt cannot stop, with size
// checks; (2) turns the properties people commonly override by assignment
// into accessors, so freezing does not break `this.name = "MyError"`;
// (3) deep-freezes every intrinsic reachable from globalThis plus the
// hidden ones (iterator and generator prototypes), and globalThis itself.
// L is {maxStringLength, maxArrayLength, maxBufferBytes}.
(function (L) {
  "use strict";
  const G = globalThis;
  const apply = Reflect.apply, construct = Reflect.construct;
  const defineProperty = Reflect.defineProperty, getOwn = Reflect.getOwnPropertyDescriptor;
  const ownKeys = Reflect.ownKeys, getProto = Reflect.getPrototypeOf;
  const freeze = Object.freeze, isArray = Array.isArray;
  const RangeErr = RangeError, TypeErr = TypeError, Str = String;
  const MAXS = L.maxStringLength, MAXA = L.maxArrayLength, MAXB = L.maxBufferBytes;
  const iterSym = Symbol.iterator;

  function over(what, n, max) {
    throw new RangeErr("memory limit exceeded: " + what + " of " + n + " exceeds the limit of " + max);
  }
  function lenOf(o) {
    if (o === null || o === undefined) return 0;
    const n = +o.length;
    return n > 0 ? n : 0;
  }
  function checkArrayLike(o, what) {
    if (o !== null && typeof o === "object" || typeof o === "function") {
      const n = lenOf(o);
      if (n > MAXA) over(what + " length", n, MAXA);
    }
  }
  // wrap replaces obj[key] by a method with the same name and length that
  // runs check(this, args) first.
  function wrap(obj, key, check) {
    const d = getOwn(obj, key);
    if (!d || typeof d.value !== "function") return;
    const orig = d.value;
    const w = { [key](...args) { check(this, args); return apply(orig, this, args); } }[key];
    defineProperty(w, "length", { value: orig.length });
    defineProperty(obj, key, { value: w, writable: d.writable, enumerable: d.enumerable, configurable: d.configurable });
  }
  function post(obj, key, what) {
    const d = getOwn(obj, key);
    if (!d || typeof d.value !== "function") return;
    const orig = d.value;
    const w = { [key](...args) {
      const r = apply(orig, this, args);
      if (typeof r === "string" && r.length > MAXS) over(what, r.length, MAXS);
      return r;
    } }[key];
    defineProperty(w, "length", { value: orig.length });
    defineProperty(obj, key, { value: w, writable: d.writable, enumerable: d.enumerable, configurable: d.configurable });
  }

  // Arrays: every Array.prototype method iterates `length` natively (holes
  // included), so a sparse `new Array(1e9)` would run for minutes.
  const AP = Array.prototype;
  const thisLen = (self) => checkArrayLike(Object(self), "array");
  for (const k of ownKeys(AP)) {
    if (k === "constructor" || k === "join" || k === "toString") continue;
    wrap(AP, k, (self, args) => {
      thisLen(self);
      if (k === "concat") for (let i = 0; i < args.length; i++) checkArrayLike(args[i], "array");
    });
  }
  // join and toString: the result may alias one big string many times.
  const joinSize = (self, args) => {
    const O = Object(self), n = lenOf(O);
    if (n > MAXA) over("array length", n, MAXA);
    const sep = args[0] === undefined ? 1 : Str(args[0]).length;
    let size = n > 0 ? (n - 1) * sep : 0;
    for (let i = 0; i < n && size <= MAXS; i++) {
      const e = O[i];
      if (typeof e === "string") size += e.length;
    }
    if (size > MAXS) over("joined string length", size, MAXS);
  };
  wrap(AP, "join", joinSize);
  post(AP, "join", "joined string length");
  wrap(AP, "toString", (self) => joinSize(self, []));
  wrap(Array, "from", (self, args) => {
    const src = args[0];
    if (src !== null && src !== undefined && src[iterSym] === undefined) checkArrayLike(Object(src), "array-like");
  });
  const argsCheck = (i) => (self, args) => checkArrayLike(args[i], "argument list");
  wrap(Function.prototype, "apply", argsCheck(1));
  wrap(Reflect, "apply", argsCheck(2));
  wrap(Reflect, "construct", argsCheck(1));

  // Strings.
  const SP = String.prototype;
  wrap(SP, "repeat", (self, args) => {
    const n = Str(self).length * (+args[0] || 0);
    if (n > MAXS) over("string length", n, MAXS);
  });
  const padCheck = (self, args) => { if (+args[0] > MAXS) over("string length", +args[0], MAXS); };
  wrap(SP, "padStart", padCheck);
  wrap(SP, "padEnd", padCheck);
  wrap(SP, "concat", (self, args) => {
    let n = Str(self).length;
    for (let i = 0; i < args.length; i++) if (typeof args[i] === "string") n += args[i].length;
    if (n > MAXS) over("string length", n, MAXS);
  });
  post(SP, "concat", "string length");
  // replace/replaceAll with a string replacement: the result is at most
  // len(s) + matches*expansion; refuse when that bound is over the limit.
  const replaceCheck = (all) => (self, args) => {
    const s = Str(self), pat = args[0], rep = args[1];
    if (typeof rep === "function") return; // the callback is JS, so interruptible
    const r = Str(rep);
    let per = r.length;
    if (r.indexOf("$") >= 0) per = r.length * (s.length + 1);
    if (s.length + (s.length + 1) * per <= MAXS) return;
    let matches = 1;
    const global = all || (pat !== null && typeof pat === "object" && Str(pat.flags).indexOf("g") >= 0);
    if (global) {
      if (typeof pat === "string") {
        matches = 0;
        const step = pat.length || 1;
        for (let i = s.indexOf(pat); i >= 0; i = s.indexOf(pat, i + step)) matches++;
      } else {
        matches = s.length + 1; // a global regexp: assume the worst
      }
    }
    const n = s.length + matches * per;
    if (n > MAXS) over("replaced string length", n, MAXS);
  };
  wrap(SP, "replace", replaceCheck(false));
  wrap(SP, "replaceAll", replaceCheck(true));
  post(SP, "replace", "replaced string length");
  post(SP, "replaceAll", "replaced string length");

  // JSON.stringify: count the output size as the values go by (aliases of
  // one big string count every time), through a composed replacer.
  const stringify = JSON.stringify;
  const jsonStringify = { stringify(value, replacer, space) {
    if (isArray(replacer)) {
      const r = apply(stringify, JSON, [value, replacer, space]);
      if (typeof r === "string" && r.length > MAXS) over("JSON string length", r.length, MAXS);
      return r;
    }
    const gap = typeof space === "number" ? Math.min(10, space) : typeof space === "string" ? Math.min(10, space.length) : 0;
    const user = typeof replacer === "function" ? replacer : null;
    let size = 0;
    const counting = function (key, v) {
      if (user !== null) v = apply(user, this, [key, v]);
      size += Str(key).length + 4 + gap * 2;
      if (typeof v === "string") size += v.length;
      else if (typeof v === "number" || typeof v === "bigint") size += 24;
      if (size > MAXS) over("JSON string length", size, MAXS);
      return v;
    };
    const r = apply(stringify, JSON, [value, counting, space]);
    if (typeof r === "string" && r.length > MAXS) over("JSON string length", r.length, MAXS);
    return r;
  } }.stringify;
  defineProperty(jsonStringify, "length", { value: 3 });
  defineProperty(JSON, "stringify", { value: jsonStringify, writable: true, enumerable: false, configurable: true });

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
  const TA = getProto(Uint8Array);
  wrap(TA, "from", (self, args) => {
    const src = args[0];
    if (src !== null && src !== undefined && src[iterSym] === undefined) checkArrayLike(Object(src), "array-like");
    else if (isArray(src)) checkArrayLike(src, "array");
  });
  wrap(TA, "of", (self, args) => { if (args.length > MAXA) over("argument list length", args.length, MAXA); });
  const TAP = TA.prototype;
  const taJoin = (self, args) => {
    const sep = args[0] === undefined ? 1 : Str(args[0]).length;
    const n = lenOf(self) * (sep + 24);
    if (n > MAXS) over("joined string length", n, MAXS);
  };
  wrap(TAP, "join", taJoin);
  wrap(TAP, "toString", (self) => taJoin(self, []));
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

  // Deep freeze, from globalThis and the intrinsics it does not name.
  const seen = new Set();
  const stack = [G,
    getProto(function* () {}), getProto((function* () {})()), getProto(async function () {}),
    getProto([][iterSym]()), getProto(new Map()[iterSym]()), getProto(new Set()[iterSym]()),
    getProto(""[iterSym]()), getProto(/a/[Symbol.matchAll]("a")),
    getOwn((function () { "use strict"; return arguments; })(), "callee").get,
  ];
  // Indexed loops: the array methods are wrapped by now.
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
