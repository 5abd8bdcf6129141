#!/usr/bin/env bash
# Hygiene checks (issue 7, item 8), run by .ci/run:
#   1. go.mod and go.sum are tidy (direct imports marked direct, unused modules gone);
#   2. the flowgate CLI builds for macOS and Windows (workflow authors run it on laptops);
#   3. every checked-in fuzz seed parses for its target, and no corpus folder is orphaned
#      (a seed folder whose Fuzz function was renamed or moved is never run);
#   4. the runtime and bindings tests pass under the race detector;
#   5. staticcheck finds nothing (a pinned version, fetched through the module proxy).
# Every check runs; the script fails at the end if any failed, naming them.
set -uo pipefail
cd "$(dirname "$0")/.."

failed=()
check() {
  local what=$1
  shift
  printf -- '-- %s\n' "$what"
  if ! "$@"; then
    printf 'FAILED: %s\n' "$what"
    failed+=("$what")
  fi
}

# 1. go mod tidy -diff prints the diff and exits 1 when tidying would change anything.
check "go mod tidy leaves go.mod and go.sum unchanged (run go mod tidy and commit both)" \
  go mod tidy -diff

# 2. Cross-builds of the CLI: nothing Linux-only outside build-tagged files.
for target in darwin/arm64 darwin/amd64 windows/amd64; do
  check "flowgate builds for $target" \
    env GOOS="${target%/*}" GOARCH="${target#*/}" CGO_ENABLED=0 go build -o /dev/null ./cmd/flowgate
done

# 3. Fuzz seeds. Packages with fuzz targets, found from the sources.
mapfile -t fuzz_pkgs < <(grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' . \
  | grep -v '/node_modules/' | xargs -r -n1 dirname | sort -u)
orphans() {
  local bad=0 dir pkg name
  while IFS= read -r dir; do
    pkg=${dir%/testdata/fuzz/*}
    name=${dir##*/}
    if ! grep -qE "^func ${name}\(" "$pkg"/*_test.go 2>/dev/null; then
      echo "$dir: no func $name in $pkg: move the seeds to the target's package or delete them"
      bad=1
    fi
  done < <(find . -path '*/node_modules' -prune -o -path '*/testdata/fuzz/*' -type d -print)
  return $bad
}
check "every fuzz corpus folder belongs to a fuzz target" orphans
if ((${#fuzz_pkgs[@]})); then
  # Without -fuzz, go test runs each target on its f.Add seeds and on every
  # file under testdata/fuzz/<Target>; a malformed file fails the target.
  check "fuzz seeds parse and pass (${#fuzz_pkgs[@]} packages)" \
    go test -count=1 -run '^Fuzz' "${fuzz_pkgs[@]}"
fi

# 4. The race detector on the packages whose concurrency guards the sandbox.
# -short skips the hostile corpus (tens of seconds of bombs): the race
# detector slows code 5-10x and inflates its memory, which turns the
# corpus's expected kinds (memory, call-depth) into timeouts. The corpus
# runs without -race in the main `go test ./...`; here we look for races.
check "go test -race of runtime and bindings" \
  go test -count=1 -race -short ./internal/runtime/... ./internal/bindings/...

# 5. staticcheck, pinned: `go run pkg@version` fetches and builds it once
# into the module and build caches, so a fresh machine needs nothing else.
# A finding that is intended is silenced where it is, with
# //lint:ignore CHECK reason.
check "staticcheck ./..." \
  go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

if ((${#failed[@]})); then
  printf '\nhygiene: %d check(s) failed:\n' "${#failed[@]}"
  printf '  - %s\n' "${failed[@]}"
  exit 1
fi
echo "hygiene: all checks passed"
