#!/usr/bin/env bash
# A real Ory Kratos binary for the web-hook adapter's end-to-end tests.
#
#   eval "$(.ci/kratos.sh)"   # build if needed, print the env var
#
# Prints only `export FLOWGATE_TEST_KRATOS=<path>` on stdout (progress goes to
# stderr). The tests start their own `kratos serve --dev` with an in-memory
# database, one per test, so nothing is left running.
#
# The binary is pinned and reused: ${FLOWGATE_TOOLS:-$HOME/.cache/flowgate-tools}/kratos-v1.3.1,
# built once from the module's source on the Go module proxy (2-3 minutes cold
# on 2 cores). Kratos' go.mod replaces its client with a nested module the
# proxy's zip does not hold; dropping that replace uses the published client.
set -euo pipefail

KRATOS_VERSION="v1.3.1"
TOOLS="${FLOWGATE_TOOLS:-$HOME/.cache/flowgate-tools}"
BIN="$TOOLS/kratos-$KRATOS_VERSION"

log() { echo "kratos.sh: $*" >&2; }

build() {
  mkdir -p "$TOOLS"
  exec 9>"$TOOLS/.kratos-build.lock"
  flock 9
  if [[ ! -x "$BIN" ]]; then
    log "building github.com/ory/kratos@$KRATOS_VERSION into $TOOLS (2-3 minutes cold)"
    local dir src
    dir="$(go mod download -json "github.com/ory/kratos@$KRATOS_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [[ -d "$dir" ]] || { log "go mod download gave no source folder"; exit 1; }
    src="$(mktemp -d)"
    # shellcheck disable=SC2064
    trap "rm -rf '$src'" RETURN
    cp -r "$dir/." "$src/"
    chmod -R u+w "$src"
    (
      cd "$src"
      go mod edit -dropreplace github.com/ory/client-go
      CGO_ENABLED=1 GOFLAGS=-mod=mod go build -tags sqlite,sqlite_omit_load_extension \
        -o "$BIN.tmp" . >&2
    )
    mv "$BIN.tmp" "$BIN"
  fi
  flock -u 9
  [[ -x "$BIN" ]] || { log "build did not produce $BIN"; exit 1; }
}

build
echo "export FLOWGATE_TEST_KRATOS=$BIN"
