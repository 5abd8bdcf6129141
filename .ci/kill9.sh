#!/usr/bin/env bash
# The kill -9 loop (docs/operations.md, "Crash safety"): the service syncs a
# git dev repository's commits while it is killed with SIGKILL at random
# moments and restarted, on SQLite and on PostgreSQL (127.0.0.1:5432, or
# FLOWGATE_TEST_POSTGRES_URL). It fails on any manual flip undone, any
# duplicate effect, or any commit not synced within 10 s after a restart.
#
#   .ci/kill9.sh            # 40 kills per database
#   ITERATIONS=80 .ci/kill9.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export FLOWGATE_KILL9_ITERATIONS="${ITERATIONS:-40}"
export FLOWGATE_REQUIRE_DEPS=1
go test ./internal/app -run '^TestKill9$' -count=1 -v -timeout 60m
