#!/usr/bin/env bash
# Runs the companion GitHub Action (action.yml) under nektos/act, on the host,
# with no Docker and no network, against the fixture repositories in
# testdata/action/:
#   broken  the job must fail, with an ::error annotation on
#           kindeSrc/environment/workflows/tokensWorkflow.ts line 8;
#   good    the job must pass, with 2 workflows, 0 errors, tests passed;
#   warnings  with fail-on-warnings, the job must fail on a ::warning
#           annotation (tokensWorkflow.ts line 11) and no error.
#
# Usage: .ci/act.sh [broken|good|warnings ...]   (default: all three)
# Needs: go (and its module cache: nothing is downloaded), git, jq (the
#        summary table), and act, installed here when missing.
# Env:   FLOWGATE_TOOLS        where act is kept (default $HOME/.cache/flowgate-tools)
#        FLOWGATE_ACT_TIMEOUT  seconds per act run (default 600)
#        FLOWGATE_ACT_KEEP=1   keep the temporary repositories and logs
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
tools="${FLOWGATE_TOOLS:-$HOME/.cache/flowgate-tools}"
act_version="v0.2.89"
act="$tools/act"
run_timeout="${FLOWGATE_ACT_TIMEOUT:-600}"

say() { printf 'act.sh: %s\n' "$*"; }
fail() { printf 'act.sh: FAIL: %s\n' "$*" >&2; exit 1; }

# --- act itself --------------------------------------------------------------

install_act() {
	if [ -x "$act" ]; then
		return
	fi
	# A build may already be under way (the CI image queues one): wait for it
	# rather than starting a second one, but not forever.
	local waited=0
	while pgrep -f "go install github.com/nektos/act@" >/dev/null 2>&1; do
		if [ "$waited" -ge 1200 ]; then
			fail "an act build has been running for 20 minutes; giving up waiting for $act"
		fi
		[ "$waited" -eq 0 ] && say "waiting for the act build already under way (into $tools)"
		sleep 10
		waited=$((waited + 10))
		if [ -x "$act" ]; then
			return
		fi
	done
	if [ -x "$act" ]; then
		return
	fi
	say "installing github.com/nektos/act@$act_version into $tools"
	mkdir -p "$tools"
	GOBIN="$tools" timeout 1200 go install "github.com/nektos/act@$act_version" ||
		fail "could not install github.com/nektos/act@$act_version (go install failed or timed out)"
}

# --- static checks of action.yml ----------------------------------------------

# Expressions must reach scripts through env:, never be pasted into them: an
# input such as working-directory: '$(curl …)' would otherwise run as code.
lint_action() {
	local hits
	hits=$(awk '
		/^[[:space:]]*(- )?run:[[:space:]]*[|>]/ { match($0, /^[[:space:]]*/); indent = RLENGTH; inrun = 1; next }
		inrun {
			match($0, /^[[:space:]]*/)
			if ($0 !~ /^[[:space:]]*$/ && RLENGTH <= indent) { inrun = 0 }
		}
		inrun && /\$\{\{/ { printf "action.yml:%d: %s\n", NR, $0 }
	' "$repo_root/action.yml")
	if [ -n "$hits" ]; then
		printf '%s\n' "$hits" >&2
		fail "action.yml pastes \${{ }} expressions into a run script; pass them through env:"
	fi
	local input
	for input in working-directory fail-on-warnings run-tests version; do
		grep -q "^  $input:" "$repo_root/action.yml" || fail "action.yml lacks the input $input"
	done
	for output in workflow-count error-count; do
		grep -q "^  $output:" "$repo_root/action.yml" || fail "action.yml lacks the output $output"
	done
	say "ok: action.yml keeps expressions out of its scripts and declares its inputs and outputs"
}

lint_action
install_act
say "using $("$act" --version 2>&1 | head -n 1) at $act"

# --- the fixture repositories -------------------------------------------------

# The action's source: what is committed (HEAD must build), plus the working
# tree's action.yml so edits to the action are tested before they are committed.
export_action() {
	local dest=$1
	mkdir -p "$dest"
	if git -C "$repo_root" rev-parse --verify -q HEAD >/dev/null 2>&1; then
		git -C "$repo_root" archive --format=tar HEAD go.mod go.sum cmd internal | tar -x -C "$dest"
	else
		# Not a git checkout (a source tarball): take the files as they are.
		cp -R "$repo_root/go.mod" "$repo_root/go.sum" "$repo_root/cmd" "$repo_root/internal" "$dest/"
	fi
	cp "$repo_root/action.yml" "$dest/action.yml"
}

# act clones every remote action a composite action names before looking at
# its "if:", so actions/setup-go (used only when go is missing) is replaced by
# a local stub that fails loudly if it ever runs.
setup_go_ref=$(grep -Eo 'actions/setup-go@[A-Za-z0-9._-]+' "$repo_root/action.yml" | head -n 1)
[ -n "$setup_go_ref" ] || fail "action.yml does not name actions/setup-go@<ref>"

work=$(mktemp -d "${TMPDIR:-/tmp}/flowgate-act.XXXXXX")
passed=0
cleanup() {
	if [ "${FLOWGATE_ACT_KEEP:-}" = "1" ] || [ "$passed" != "1" ]; then
		say "kept $work (temporary repositories and act logs)"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

stub="$work/setup-go-stub"
mkdir -p "$stub"
cat >"$stub/action.yml" <<'EOF'
name: setup-go stub for offline act runs
description: Stands in for actions/setup-go; running it means go was not found.
inputs:
  go-version-file: { description: ignored, required: false }
  cache: { description: ignored, required: false }
runs:
  using: composite
  steps:
    - shell: bash
      run: |
        echo "setup-go stub: go was not found on PATH, and act runs offline here"
        exit 1
EOF

make_repo() {
	local fixture=$1 dest=$2
	mkdir -p "$dest"
	cp -R "$repo_root/testdata/action/$fixture/." "$dest/"
	export_action "$dest/.flowgate-action"
	cat >"$work/$fixture.event.json" <<'EOF'
{
  "action": "opened",
  "number": 1,
  "pull_request": {
    "number": 1,
    "head": { "ref": "feature", "sha": "0000000000000000000000000000000000000001" },
    "base": { "ref": "main", "sha": "0000000000000000000000000000000000000000" }
  },
  "repository": { "full_name": "example/workflows", "name": "workflows", "owner": { "login": "example" } }
}
EOF
	(
		cd "$dest"
		git init -q -b main .
		git remote add origin https://github.com/example/workflows.git
		git add -A
		git -c user.name=act -c user.email=act@example.invalid -c commit.gpgsign=false commit -q -m fixture
	)
}

# run_act FIXTURE: runs the pull_request workflow; sets act_rc and act_log.
run_act() {
	local fixture=$1
	local dir="$work/$fixture"
	make_repo "$fixture" "$dir"
	act_log="$work/$fixture.log"
	say "running act on fixture '$fixture' (timeout ${run_timeout}s, log $act_log)"
	set +e
	(
		cd "$dir"
		# No network: Go must build from the module cache with the local toolchain.
		ACT_DISABLE_VERSION_CHECK=1 GOPROXY=off GOTOOLCHAIN=local GOFLAGS=-buildvcs=false \
			timeout --kill-after=15 "$run_timeout" "$act" pull_request \
			-P ubuntu-latest=-self-hosted \
			--pull=false \
			-W .github/workflows/flowgate.yml \
			-e "$work/$fixture.event.json" \
			--no-cache-server \
			--action-cache-path "$work/act-cache" \
			--local-repository "$setup_go_ref=$stub"
	) >"$act_log" 2>&1 </dev/null
	act_rc=$?
	set -e
	if [ "$act_rc" -eq 124 ] || [ "$act_rc" -eq 137 ]; then
		tail -n 40 "$act_log" >&2
		fail "act on '$fixture' timed out after ${run_timeout}s"
	fi
}

# act logs each workflow command a step prints as "❗  ::error …" (errors) or
# "🚧  ::warning …"; the step's own script text, which act logs too, never
# carries that prefix.
emitted_error='❗  ::error'

# expect LOG PATTERN WHAT: the log must contain the fixed string PATTERN.
expect() {
	if ! grep -qF -- "$2" "$1"; then
		printf -- '--- last 60 lines of %s ---\n' "$1" >&2
		tail -n 60 "$1" >&2
		fail "$3: expected to find in the act log: $2"
	fi
}

refuse() {
	if grep -qF -- "$2" "$1"; then
		grep -nF -- "$2" "$1" | head -n 5 >&2
		fail "$3: did not expect in the act log: $2"
	fi
}

check_broken() {
	run_act broken
	local log=$act_log
	expect "$log" "flowgate: CLI ready at" "broken: the action did not build the flowgate CLI"
	refuse "$log" "setup-go stub" "broken: the action ran setup-go although go is on PATH"
	expect "$log" "$emitted_error file=kindeSrc/environment/workflows/tokensWorkflow.ts,line=8,col=5,title=flowgate unknown-binding::" \
		"broken: no annotation on tokensWorkflow.ts line 8"
	expect "$log" "flowgate outputs workflow-count=2 error-count=1 warning-count=0" "broken: wrong action outputs"
	expect "$log" '| `addPlanClaim`<br>kindeSrc/environment/workflows/tokensWorkflow.ts | `user:tokens_generation` | `kinde.accessToken` | ❌ 1 error(s) |' \
		"broken: the summary table does not mark the workflow as failed"
	expect "$log" "Job failed" "broken: act did not report the job as failed"
	[ "$act_rc" -ne 0 ] || fail "broken: act exited 0, but the job must fail"
	say "ok: broken fixture fails the job with the annotation on tokensWorkflow.ts:8"
}

check_good() {
	run_act good
	local log=$act_log
	expect "$log" "flowgate: CLI ready at" "good: the action did not build the flowgate CLI"
	refuse "$log" "$emitted_error" "good: unexpected error annotation"
	expect "$log" "1 passed, 0 failed" "good: flowgate test did not pass"
	expect "$log" "Tests: passed." "good: the summary does not report the tests"
	expect "$log" '| `addPlanClaim`<br>kindeSrc/environment/workflows/tokensWorkflow.ts | `user:tokens_generation` | `kinde.accessToken` | ✅ ok |' \
		"good: the summary table lacks the workflow row"
	expect "$log" "flowgate outputs workflow-count=2 error-count=0 warning-count=0" "good: wrong action outputs"
	expect "$log" "Job succeeded" "good: act did not report the job as succeeded"
	[ "$act_rc" -eq 0 ] || fail "good: act exited $act_rc, but the job must pass"
	say "ok: good fixture passes"
}

check_warnings() {
	run_act warnings
	local log=$act_log
	expect "$log" "🚧  ::warning file=kindeSrc/environment/workflows/tokensWorkflow.ts,line=11,col=16,title=flowgate undeclared-binding::" \
		"warnings: no warning annotation on tokensWorkflow.ts line 11"
	refuse "$log" "$emitted_error" "warnings: unexpected error annotation"
	expect "$log" "flowgate outputs workflow-count=2 error-count=0 warning-count=1" "warnings: wrong action outputs"
	expect "$log" "fail-on-warnings is set" "warnings: the action did not fail because of fail-on-warnings"
	expect "$log" "Job failed" "warnings: act did not report the job as failed"
	[ "$act_rc" -ne 0 ] || fail "warnings: act exited 0, but fail-on-warnings must fail the job"
	say "ok: warnings fixture fails the job because fail-on-warnings is set"
}

fixtures=("$@")
[ "${#fixtures[@]}" -gt 0 ] || fixtures=(broken good warnings)
for f in "${fixtures[@]}"; do
	case "$f" in
	broken) check_broken ;;
	good) check_good ;;
	warnings) check_warnings ;;
	*) fail "unknown fixture '$f': use broken, good or warnings" ;;
	esac
done
passed=1
say "all act checks passed"
