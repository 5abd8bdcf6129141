// Baseline for `flowgate bench`: Node's vm module with a fresh context per
// invocation, running the same bundle `flowgate build` writes. The script
// is compiled once (as Flowgate and Kinde's runtime cache the compiled
// program); each invocation gets a new context with a minimal kinde and
// console, runs the CommonJS bundle in it and awaits the default export.
//
//   node bench/node-vm.mjs BUNDLE.js EVENT.json [--n N] [--warmup W]
//
// Prints the JSON fields `flowgate bench --format json` prints. CPU is
// process.cpuUsage() (user+system) over the measured loop; Node has no
// allocation counter, so allocsPerInvocation is null.
import fs from "node:fs";
import vm from "node:vm";

function parseArgs(argv) {
  const opts = { n: 2000, warmup: 200, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--n" || a === "--warmup") {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < (a === "--n" ? 1 : 0)) {
        throw new Error(`${a} needs a whole number`);
      }
      opts[a.slice(2)] = v;
    } else {
      opts.files.push(a);
    }
  }
  if (opts.files.length !== 2) {
    throw new Error("usage: node bench/node-vm.mjs BUNDLE.js EVENT.json [--n N] [--warmup W]");
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const code = fs.readFileSync(opts.files[0], "utf8");
const eventText = fs.readFileSync(opts.files[1], "utf8");
const script = new vm.Script(`(function (module, exports, require) {${code}\n})`, { filename: "bundle.js" });

function require(name) {
  throw new Error(`require(${JSON.stringify(name)}) is not available`);
}

// invoke runs the bundle once in a brand-new context and returns what a
// Result would carry.
async function invoke() {
  const claims = {};
  const logs = [];
  const token = {
    setCustomClaim(name, value) { claims[name] = value; },
    getCustomClaims() { return { ...claims }; },
  };
  const kinde = { accessToken: token, idToken: token, env: { get() { return undefined; } } };
  const log = (level) => (...args) => { logs.push({ level, message: args.join(" ") }); };
  const console = { log: log("info"), info: log("info"), warn: log("warn"), error: log("error"), debug: log("debug") };
  const context = vm.createContext({ kinde, console, URLSearchParams, URL });
  const module = { exports: {} };
  script.runInContext(context)(module, module.exports, require);
  await module.exports.default(JSON.parse(eventText));
  return { claims, logs };
}

const check = await invoke();
if (Object.keys(check.claims).length === 0) {
  throw new Error("the workflow set no claims: is this the benchmark bundle?");
}
for (let i = 0; i < opts.warmup; i++) await invoke();

const lat = new Float64Array(opts.n);
const cpu0 = process.cpuUsage();
const start = process.hrtime.bigint();
for (let i = 0; i < opts.n; i++) {
  const t0 = process.hrtime.bigint();
  await invoke();
  lat[i] = Number(process.hrtime.bigint() - t0) / 1e3;
}
const wallUs = Number(process.hrtime.bigint() - start) / 1e3;
const cpu = process.cpuUsage(cpu0);

lat.sort();
const round2 = (x) => Math.round(x * 100) / 100;
const pct = (q) => lat[Math.min(Math.max(Math.round(opts.n * q) - 1, 0), opts.n - 1)];
const mean = lat.reduce((a, b) => a + b, 0) / opts.n;
console.log(JSON.stringify({
  mode: "node-vm-fresh-context",
  node: process.version,
  n: opts.n,
  concurrency: 1,
  meanUs: round2(mean),
  p50Us: round2(pct(0.5)),
  p99Us: round2(pct(0.99)),
  throughputPerSec: round2(opts.n / (wallUs / 1e6)),
  cpuUsPerInvocation: round2((cpu.user + cpu.system) / opts.n),
  allocsPerInvocation: null,
}, null, 2));
