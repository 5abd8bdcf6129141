#!/usr/bin/env bash
# The runtime API's figures of BENCHMARKS.md, interleaved with the in-process
# bench of the same bundle (examples/starter's claims workflow) as the
# baseline: RUNS rounds of `flowgate bench --isolation inprocess` at c=2 and
# the HTTP runtime API (BenchmarkRuntimeAPI: the real service on SQLite,
# runtime logs written, c=1/2/8, process and in-process isolation). Prints
# the medians and the ratios issue 14's goals are stated in.
#   bash bench/runtime-api.sh [RUNS] [N]
# BEFORE_APP, when set, is an `internal/app` test binary built from another
# commit (go test -c ./internal/app) whose benchmark joins every round.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
N=${2:-3000}
export GOGC=${GOGC:-400}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/flowgate" ./cmd/flowgate
go test -c -o "$out/app.test" ./internal/app
# The baseline's copy of the starter with the library installed inside it
# (the service installs it itself when it syncs; a link out of a
# repository is refused).
mkdir -p "$out/starter/node_modules/@kinde"
cp -R examples/starter/. "$out/starter/"
cp -R testdata/npm/node_modules/@kinde/infrastructure "$out/starter/node_modules/@kinde/"
ev=examples/starter/events/tokens.json
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for i in $(seq "$RUNS"); do
  echo "== round $i (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  "$out/flowgate" bench --isolation inprocess --trigger user:tokens_generation --event "$ev" --n "$N" \
    --concurrency 2 --format json "$out/starter" >"$out/inproc-$i.json"
  (cd internal/app && "$out/app.test" -test.run '^$' -test.bench RuntimeAPI -test.benchtime "${N}x") |
    grep '^Benchmark' | tee -a "$out/api-after.txt" >&2
  if [ -n "${BEFORE_APP:-}" ]; then
    (cd internal/app && "$BEFORE_APP" -test.run '^$' -test.bench RuntimeAPI -test.benchtime "${N}x") |
      grep '^Benchmark' | tee -a "$out/api-before.txt" >&2
  fi
done
node bench/median.mjs "$out"/inproc-*.json --label "in-process bench c=2 (baseline)" >"$out/baseline.json"
echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD) $(go env GOVERSION) GOGC=$GOGC nproc=$(nproc) rounds=$RUNS N=$N load: $load0 -> $(cut -d' ' -f1-3 /proc/loadavg)"
node --input-type=module - "$out" <<'JS'
import fs from "node:fs";
const dir = process.argv[2];
const med = (xs) => { const s = [...xs].sort((a, b) => a - b), m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const base = JSON.parse(fs.readFileSync(`${dir}/baseline.json`, "utf8"));
const baseRate = base.median.throughputPerSec;
// BenchmarkRuntimeAPI/isolation=process/c=2-2  3000  350651 ns/op  351.7 cpu-µs/call  436.0 p50-µs ...
function parse(file) {
  const rows = {};
  if (!fs.existsSync(file)) return null;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const m = line.match(/isolation=(\w+)\/c=(\d+)/);
    if (!m) continue;
    const f = {};
    for (const [, v, unit] of line.matchAll(/([\d.]+) ([^\s]+)/g)) f[unit] = Number(v);
    const k = `${m[1]} c=${m[2]}`;
    (rows[k] ??= []).push(f);
  }
  const out = {};
  for (const [k, rs] of Object.entries(rows)) {
    out[k] = {};
    for (const unit of ["req/s", "p50-µs", "p99-µs", "cpu-µs/call", "workers-cpu-µs/call"]) {
      const xs = rs.map((r) => r[unit]).filter((x) => x !== undefined);
      out[k][unit] = xs.length ? med(xs) : undefined;
      out[k][unit + " all"] = xs;
    }
  }
  return out;
}
for (const which of ["after", "before"]) {
  const t = parse(`${dir}/api-${which}.txt`);
  if (!t) continue;
  console.log(`\n${which === "after" ? "this commit" : "BEFORE_APP"}: medians (every round in brackets)\n`);
  console.log("| isolation | c | requests/s | p50 µs | p99 µs | CPU µs/call (workers) |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const [k, r] of Object.entries(t)) {
    const [iso, c] = k.split(" ");
    console.log(`| ${iso} | ${c.slice(2)} | ${r["req/s"]} [${r["req/s all"].join(", ")}] | ${r["p50-µs"]} | ${r["p99-µs"]} [${r["p99-µs all"].join(", ")}] | ${r["cpu-µs/call"]} [${r["cpu-µs/call all"].join(", ")}] (${r["workers-cpu-µs/call"] ?? "-"}) |`);
  }
  const p2 = t["process c=2"], p8 = t["process c=8"];
  console.log(`\nbaseline: in-process bench c=2 ${baseRate}/s [${base.each.map((e) => e.perSec).join(", ")}], CPU ${base.median.cpuUsPerInvocation} µs/inv`);
  console.log(`goal: process c=2 ≥ 50% of the baseline's throughput: ${(100 * p2["req/s"] / baseRate).toFixed(0)}% ${p2["req/s"] / baseRate >= 0.5 ? "MET" : "not met"}`);
  console.log(`goal: process c=2 p99 < 5 ms: ${(p2["p99-µs"] / 1000).toFixed(2)} ms ${p2["p99-µs"] < 5000 ? "MET" : "not met"}`);
  console.log(`goal: process c=8 p99 < 10 ms: ${(p8["p99-µs"] / 1000).toFixed(2)} ms ${p8["p99-µs"] < 10000 ? "MET" : "not met"}`);
}
JS
