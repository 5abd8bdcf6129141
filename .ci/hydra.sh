#!/usr/bin/env bash
# A real Ory Hydra binary for the token-hook adapter's end-to-end tests.
#
#   eval "$(.ci/hydra.sh)"   # build if needed, print the env var
#
# Prints only `export FLOWGATE_TEST_HYDRA=<path>` on stdout (progress goes to
# stderr). The tests start their own `hydra serve all --dev` with an in-memory
# database, one per test, so nothing is left running.
#
# The binary is pinned and reused: ${FLOWGATE_TOOLS:-$HOME/.cache/flowgate-tools}/hydra-v2.3.0,
# built once from the Go module proxy (2-3 minutes cold on 2 cores). `go install`
# refuses Hydra for its replace directives, so a small wrapper module builds it.
set -euo pipefail

HYDRA_VERSION="v2.3.0"
# Hydra v2.3.0's go.mod replaces pop with Ory's fork; a wrapper must say so too.
POP_REPLACE="github.com/ory/pop/v6@v6.2.1-0.20241121111754-e5dfc0f3344b"
TOOLS="${FLOWGATE_TOOLS:-$HOME/.cache/flowgate-tools}"
BIN="$TOOLS/hydra-$HYDRA_VERSION"

log() { echo "hydra.sh: $*" >&2; }

build() {
  mkdir -p "$TOOLS"
  # One build at a time: a second caller waits for the first one's binary.
  exec 9>"$TOOLS/.hydra-build.lock"
  flock 9
  if [[ ! -x "$BIN" ]]; then
    log "building github.com/ory/hydra/v2@$HYDRA_VERSION into $TOOLS (2-3 minutes cold)"
    local src
    src="$(mktemp -d)"
    # shellcheck disable=SC2064
    trap "rm -rf '$src'" RETURN
    cat >"$src/go.mod" <<MOD
module flowgate.local/hydrabuild

go 1.23
MOD
    cat >"$src/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/ory/hydra/v2"
GO
    (
      cd "$src"
      go mod edit -require "github.com/ory/hydra/v2@$HYDRA_VERSION" \
        -replace "github.com/gobuffalo/pop/v6=$POP_REPLACE"
      GOFLAGS=-mod=mod go mod tidy >&2
      CGO_ENABLED=1 GOFLAGS=-mod=mod go build -tags sqlite,sqlite_omit_load_extension \
        -o "$BIN.tmp" github.com/ory/hydra/v2 >&2
    )
    mv "$BIN.tmp" "$BIN"
  fi
  flock -u 9
  [[ -x "$BIN" ]] || { log "build did not produce $BIN"; exit 1; }
}

build
echo "export FLOWGATE_TEST_HYDRA=$BIN"
