#!/usr/bin/env bash
# One interleaved comparison on the benchmark workflow (bench/claims, the
# real @kinde/infrastructure) and one event, ROUNDS rounds of N measured
# invocations each at concurrency 1, then the median of every field:
#   - Flowgate's in-process pool     (flowgate bench --isolation inprocess)
#   - Flowgate's supervised path     (flowgate bench --isolation process, the
#     default: every call goes through a worker process; CPU includes the
#     workers')
#   - Kinde's own runtime            (github.com/kinde-oss/workflows-runtime,
#     a fresh goja VM per call, driven by bench/kinde), with a context per
#     call, and with context.Background() as its own tests pass it
#   - Node's vm module               (a fresh context per call, bench/node-vm.mjs)
# Every round runs the four in turn, so load from elsewhere hits all alike.
#
#   bash bench/compare.sh [ROUNDS] [N]
#
# Needs Go, Node, git and `npm ci --prefix testdata/npm`. Kinde's runtime is
# not on the Go module proxy: KINDE_RUNTIME names a git repository to clone
# it from (a local checkout or a URL; default its GitHub repository); its
# own dependencies come from the proxy. GOGC is 400 for every Go process
# (the flowgate CLI's own default), unless GOGC is set. BEFORE, when set, is
# another flowgate binary (say, built from an older commit) whose in-process
# and supervised paths join every round, for a before/after in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
N=${2:-3000}
export GOGC=${GOGC:-400}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

go build -o "$out/flowgate" ./cmd/flowgate
# The benchmark repository with the library installed inside it (a link out
# of a repository is refused).
mkdir -p "$out/claims/node_modules/@kinde"
cp -R bench/claims/kinde.json bench/claims/kindeSrc bench/claims/events "$out/claims/"
cp -R testdata/npm/node_modules/@kinde/infrastructure "$out/claims/node_modules/@kinde/"
"$out/flowgate" build --out "$out/dist" "$out/claims" >/dev/null
bundle="$out/dist/benchClaims.js"
ev=bench/claims/events/tokens.json

mkdir -p "$out/kinde"
cp bench/kinde/main.go bench/kinde/go.mod "$out/kinde/"
git clone -q "${KINDE_RUNTIME:-https://github.com/kinde-oss/workflows-runtime}" "$out/kinde/workflows-runtime"
kinde_rev=$(git -C "$out/kinde/workflows-runtime" rev-parse --short HEAD)
(cd "$out/kinde" && GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 && go build -o "$out/kinde-bench" .)

flowgate() {
  local bin=$1
  shift
  "$bin" bench --trigger user:tokens_generation --event "$ev" --n "$N" --concurrency 1 --format json "$@" "$out/claims"
}
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq "$ROUNDS"); do
  echo "== round $r (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  flowgate "$out/flowgate" --isolation inprocess >"$out/inprocess-$r.json"
  flowgate "$out/flowgate" --isolation process >"$out/process-$r.json"
  if [ -n "${BEFORE:-}" ]; then
    flowgate "$BEFORE" --isolation inprocess >"$out/beforein-$r.json"
    flowgate "$BEFORE" --isolation process >"$out/beforeproc-$r.json"
  fi
  "$out/kinde-bench" --n "$N" "$bundle" "$ev" >"$out/kinde-$r.json"
  "$out/kinde-bench" --n "$N" --context background "$bundle" "$ev" >"$out/kindebg-$r.json"
  node bench/node-vm.mjs "$bundle" "$ev" --n "$N" >"$out/node-$r.json"
done

echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD) kinde-oss/workflows-runtime@$kinde_rev $(go env GOVERSION) node $(node --version) GOGC=$GOGC nproc=$(nproc) rounds=$ROUNDS N=$N load: $load0 -> $(cut -d' ' -f1-3 /proc/loadavg)"
paths="inprocess process kinde kindebg node"
[ -n "${BEFORE:-}" ] && paths="$paths beforein beforeproc"
for m in $paths; do
  node bench/median.mjs "$out"/$m-*.json --label "$m" >"$out/median-$m.json"
done
# One line per path, then the ratios the goals are stated in.
node --input-type=module - "$out" <<'JS'
import fs from "node:fs";
const dir = process.argv[2];
const m = (k) => JSON.parse(fs.readFileSync(`${dir}/median-${k}.json`, "utf8"));
const rows = { inprocess: "in-process pool", process: "supervised (worker processes, the default)",
  kinde: "Kinde workflows-runtime, context per call", kindebg: "Kinde workflows-runtime, context.Background()", node: "Node vm, fresh context",
  beforein: "before: in-process pool", beforeproc: "before: supervised" };
const med = {};
console.log("| path | CPU µs/inv | p50 µs | p99 µs | mean µs | inv/s | CPU µs per round |");
console.log("| --- | --- | --- | --- | --- | --- | --- |");
for (const [k, label] of Object.entries(rows)) {
  if (!fs.existsSync(`${dir}/median-${k}.json`)) continue;
  const r = m(k);
  med[k] = r.median.cpuUsPerInvocation;
  console.log(`| ${label} | ${r.median.cpuUsPerInvocation} | ${r.median.p50Us} | ${r.median.p99Us} | ${r.median.meanUs} | ${r.median.throughputPerSec} | ${r.each.map((e) => e.cpuUs).join(", ")} |`);
}
const ratio = (a, b) => med[a] / med[b];
const x = (a, b) => ratio(a, b).toFixed(2) + "×";
const met = (ok) => (ok ? "MET" : "not met");
console.log();
console.log(`Kinde (per call) / supervised: ${x("kinde", "process")}   Kinde (Background) / supervised: ${x("kindebg", "process")}`);
console.log(`Node vm / supervised: ${x("node", "process")}   supervised / in-process: ${x("process", "inprocess")}   Node vm / in-process: ${x("node", "inprocess")}`);
// Issue 14's goals, on the medians above.
const p99 = m("process").median.p99Us;
console.log();
console.log(`goal: supervised CPU ≥ 3× below Kinde's fresh-VM runtime (context per call): ${x("kinde", "process")} ${met(ratio("kinde", "process") >= 3)}`);
console.log(`goal: supervised CPU ≥ 4× below Node vm: ${x("node", "process")} ${met(ratio("node", "process") >= 4)}`);
console.log(`goal: supervised p99 < 0.5 ms at c=1: ${(p99 / 1000).toFixed(2)} ms ${met(p99 < 500)}`);
console.log(`goal: supervised ≤ 1.5× the in-process CPU: ${x("process", "inprocess")} ${met(ratio("process", "inprocess") <= 1.5)}`);
console.log(`goal: in-process CPU ≥ 8× below Node vm: ${x("node", "inprocess")} ${met(ratio("node", "inprocess") >= 8)}`);
JS
