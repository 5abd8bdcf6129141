// Prints the median of every numeric field over several `flowgate bench
// --format json` or node-vm.mjs outputs (nested "baseline" included).
//   node bench/median.mjs FILE.json... [--label TEXT]
import fs from "node:fs";

const args = process.argv.slice(2);
const li = args.indexOf("--label");
const label = li >= 0 ? args.splice(li, 2)[1] : "";
const runs = args.map((f) => JSON.parse(fs.readFileSync(f, "utf8")));

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function collect(objs) {
  const out = {};
  for (const k of Object.keys(objs[0])) {
    const vals = objs.map((o) => o[k]);
    if (typeof vals[0] === "number") out[k] = Math.round(median(vals) * 100) / 100;
    else if (vals[0] && typeof vals[0] === "object") out[k] = collect(vals);
    else out[k] = vals[0];
  }
  return out;
}

// Each run's headline figures too, to show the spread behind the median.
const each = runs.map((r) => ({ cpuUs: r.cpuUsPerInvocation, p99Us: r.p99Us, perSec: r.throughputPerSec,
  ...(r.cpuRatio !== undefined && { cpuRatio: r.cpuRatio }) }));
console.log(JSON.stringify({ label, runs: runs.length, median: collect(runs), each }, null, 2));
