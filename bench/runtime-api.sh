#!/usr/bin/env bash
# The runtime API's figures of BENCHMARKS.md, interleaved with the in-process
# bench of the same bundle (examples/starter's claims workflow) as the
# baseline: RUNS rounds of `flowgate bench --isolation inprocess` at c=2 and
# the HTTP runtime API (BenchmarkRuntimeAPI: the real service on SQLite,
# runtime logs written, c=1/2/8, process and in-process isolation).
#   bash bench/runtime-api.sh [RUNS] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
N=${2:-3000}
out=$(mktemp -d)
go build -o "$out/flowgate" ./cmd/flowgate
go test -c -o "$out/app.test" ./internal/app
ev=examples/starter/events/tokens.json
for i in $(seq "$RUNS"); do
  echo "== round $i"
  GOGC=400 "$out/flowgate" bench --isolation inprocess --trigger user:tokens_generation --event "$ev" --n "$N" \
    --concurrency 2 --format json examples/starter | tee "$out/inproc-$i.json"
  echo
  GOGC=400 "$out/app.test" -test.run '^$' -test.bench RuntimeAPI -test.benchtime "${N}x" | grep Benchmark
done
node bench/median.mjs "$out"/inproc-*.json --label "in-process bench c=2 (baseline)"
rm -rf "$out"
