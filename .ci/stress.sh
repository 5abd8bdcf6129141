#!/usr/bin/env bash
# Stress run: the tests must pass on a machine far busier than they are.
# Runs `go test` N times in a row with BUSY CPU-bound processes beside it
# and stops at the first failure, naming the failed tests.
#
#   .ci/stress.sh                          go test ./... 5 times beside 16 busy processes
#   .ci/stress.sh ./internal/runtime/...   only these packages
#   STRESS_RUNS=3 STRESS_BUSY=8 .ci/stress.sh ./internal/sandbox -run TestHostile
#
# Arguments are passed to go test as they are (packages, -run, …); the
# default is ./... . -count=1 is always added: a cached pass proves nothing.
# -timeout is STRESS_TIMEOUT (default 60m): with 16 busy processes on 2
# CPUs a package gets a ninth of the CPU, so go test's 10-minute default
# would fail slow packages for their length, not for a flaky outcome.
# The test's own dependencies (PostgreSQL, MinIO, …) are whatever the
# environment provides, as for `go test` itself; .ci/run starts them.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${STRESS_RUNS:-5}
busy=${STRESS_BUSY:-16}
timeout=${STRESS_TIMEOUT:-60m}
args=("$@")
((${#args[@]})) || args=(./...)

log_dir=$(mktemp -d "${TMPDIR:-/tmp}/flowgate-stress.XXXXXX")
pids=()
stop_busy() {
	((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
	pids=()
}
trap stop_busy EXIT
trap 'exit 130' INT TERM

# Compile first, so the runs measure the tests, not the build under load.
echo "stress: building the test binaries for ${args[*]}"
if ! go test -count=1 "${args[@]}" -run '^$' >"$log_dir/build.log" 2>&1; then
	cat "$log_dir/build.log"
	echo "stress: the build failed"
	exit 1
fi

for _ in $(seq "$busy"); do
	# A pure CPU loop in its own process: no I/O, no memory.
	bash -c 'while :; do :; done' &
	pids+=($!)
done
echo "stress: $busy busy processes on $(nproc) CPUs; $runs run(s) of go test ${args[*]}; logs in $log_dir"

for i in $(seq "$runs"); do
	log="$log_dir/run-$i.log"
	start=$(date +%s)
	go test -count=1 -timeout "$timeout" "${args[@]}" >"$log" 2>&1
	rc=$?
	took=$(($(date +%s) - start))
	if ((rc != 0)); then
		echo "stress: run $i/$runs FAILED after ${took}s (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
		echo "failed tests:"
		# go test prints "--- FAIL: TestX/sub (1.2s)" per failed test and
		# "FAIL	pkg" per failed package; a panic or build error has neither.
		grep -E '^\s*--- FAIL: |^FAIL\s|^panic: ' "$log" | sed 's/^/  /' || true
		# A timeout names the tests that were running.
		grep -A6 '^panic: test timed out' "$log" | grep -E '^\s+Test' | sed 's/^\s*/  running at the timeout: /' || true
		echo "the full output: $log"
		exit 1
	fi
	echo "stress: run $i/$runs passed in ${took}s (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
done
echo "stress: all $runs runs passed"
rm -rf "$log_dir"
