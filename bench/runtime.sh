#!/usr/bin/env bash
# Reproduces the "## Runtime" figures of BENCHMARKS.md: RUNS repetitions of
# each measurement on the benchmark workflow (bench/claims), then the median
# of every field. Needs Go, Node and `npm ci --prefix testdata/npm`.
#   bash bench/runtime.sh [RUNS] [N]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
N=${2:-2000}
out=$(mktemp -d)
go build -o "$out/flowgate" ./cmd/flowgate
# A copy of the benchmark repository with the real library installed inside
# it: bench/claims links its node_modules to testdata/npm, and a link out
# of a repository is refused (link-outside-repo).
mkdir -p "$out/claims/node_modules/@kinde"
cp -R bench/claims/kinde.json bench/claims/kindeSrc bench/claims/events "$out/claims/"
cp -R testdata/npm/node_modules/@kinde/infrastructure "$out/claims/node_modules/@kinde/"
repo="$out/claims"
"$out/flowgate" build --out "$out/dist" "$repo" >/dev/null
ev=bench/claims/events/tokens.json
for i in $(seq "$RUNS"); do
  "$out/flowgate" bench --isolation inprocess --trigger user:tokens_generation --event "$ev" --n "$N" --concurrency 1 --baseline fresh --format json "$repo" >"$out/c1-$i.json"
  "$out/flowgate" bench --isolation inprocess --trigger user:tokens_generation --event "$ev" --n "$N" --concurrency 2 --baseline fresh --format json "$repo" >"$out/c2-$i.json"
  "$out/flowgate" bench --isolation process --trigger user:tokens_generation --event "$ev" --n "$N" --concurrency 1 --format json "$repo" >"$out/p1-$i.json"
  "$out/flowgate" bench --isolation process --trigger user:tokens_generation --event "$ev" --n "$N" --concurrency 2 --format json "$repo" >"$out/p2-$i.json"
  node bench/node-vm.mjs "$out/dist/benchClaims.js" "$ev" --n "$N" >"$out/node-$i.json"
done
node bench/median.mjs "$out"/c1-*.json --label "flowgate c=1"
node bench/median.mjs "$out"/c2-*.json --label "flowgate c=2"
node bench/median.mjs "$out"/p1-*.json --label "flowgate supervised c=1"
node bench/median.mjs "$out"/p2-*.json --label "flowgate supervised c=2"
node bench/median.mjs "$out"/node-*.json --label "node vm"
rm -rf "$out"
