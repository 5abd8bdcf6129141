#!/usr/bin/env bash
# Runs the companion GitHub Action (action.yml) under nektos/act, on the host,
# with no Docker and no network, against the fixture repositories in
# testdata/action/:
#   broken  the job must fail, with an ::error annotation on
#           kindeSrc/environment/workflows/tokensWorkflow.ts line 8;
#   good    the job must pass, with 2 workflows, 0 errors, tests passed;
#   warnings  with fail-on-warnings, the job must fail on a ::warning
#           annotation (tokensWorkflow.ts line 11) and no error;
#   release   the good fixture with "version:" a release, downloaded from a
#           local server playing GitHub's release download (the archive and
#           checksums.txt of a real release built by .ci/release.sh), with
#           "go" on PATH replaced by a command that fails: the job must pass
#           without compiling anything; run a second time, the CLI must come
#           from the tool cache without a download;
#   tampered  the same with the archive replaced by one holding another
#           "flowgate": the job must fail on the checksum and never run it.
#
# Usage: .ci/act.sh [broken|good|warnings|release|tampered ...]   (default: all)
# Needs: go (and its module cache: nothing is downloaded), git, jq (the
#        summary table), and act, installed here when missing.
# Env:   FLOWGATE_TOOLS        where act is kept (default $HOME/.cache/flowgate-tools)
#        FLOWGATE_ACT_TIMEOUT  seconds per act run (default 600)
#        FLOWGATE_ACT_KEEP=1   keep the temporary repositories and logs
#        FLOWGATE_ACT_RELEASE  a directory .ci/release.sh wrote (with the host's
#                              linux archive); default: build a snapshot here
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
	for input in working-directory fail-on-warnings run-tests version release-url; do
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
server_pid=""
cleanup() {
	[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
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

# run_act NAME [FIXTURE [RELEASE_URL]]: runs the pull_request workflow on a
# copy of FIXTURE (default NAME), with "version:" the release at RELEASE_URL
# when one is given; sets act_rc, act_log and act_secs. act keeps its tool
# cache under the action cache path: runs of one NAME prefix share it.
run_act() {
	local name=$1 fixture=${2:-$1} release_url=${3:-}
	local dir="$work/$name" path=$PATH
	make_repo "$fixture" "$dir"
	if [ -n "$release_url" ]; then
		sed -i "s|^          run-tests: \"true\"\$|&\n          version: \"$release_version\"\n          release-url: \"$release_url\"|" \
			"$dir/.github/workflows/flowgate.yml"
		grep -q "release-url: \"$release_url\"" "$dir/.github/workflows/flowgate.yml" || fail "could not point $name at the release"
		git -C "$dir" -c user.name=act -c user.email=act@example.invalid -c commit.gpgsign=false commit -qam release
		path="$no_go:$PATH"
	fi
	act_log="$work/$name.log"
	say "running act on '$name' (fixture $fixture, timeout ${run_timeout}s, log $act_log)"
	local started=$SECONDS
	set +e
	(
		cd "$dir"
		# No network: Go must build from the module cache with the local toolchain.
		PATH="$path" ACT_DISABLE_VERSION_CHECK=1 GOPROXY=off GOTOOLCHAIN=local GOFLAGS=-buildvcs=false \
			timeout --kill-after=15 "$run_timeout" "$act" pull_request \
			-P ubuntu-latest=-self-hosted \
			--pull=false \
			-W .github/workflows/flowgate.yml \
			-e "$work/$fixture.event.json" \
			--no-cache-server \
			--action-cache-path "$work/act-cache-${name%%-*}" \
			--local-repository "$setup_go_ref=$stub"
	) >"$act_log" 2>&1 </dev/null
	act_rc=$?
	act_secs=$((SECONDS - started))
	set -e
	say "act on '$name' took ${act_secs}s"
	if [ "$act_rc" -eq 124 ] || [ "$act_rc" -eq 137 ]; then
		tail -n 40 "$act_log" >&2
		fail "act on '$name' timed out after ${run_timeout}s"
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

# --- the release download -------------------------------------------------------

# setup_release: a release (built here unless FLOWGATE_ACT_RELEASE names one),
# served by releasetool at $release_base/good/<version>/ and, with the CLI's
# archive swapped for another that holds a different "flowgate", at
# $release_base/tampered/<version>/; and $no_go, a directory whose "go" fails.
release_version=""
setup_release() {
	[ -z "$release_version" ] || return 0
	local dist=${FLOWGATE_ACT_RELEASE:-} host archive www
	host="$(go env GOHOSTOS)/$(go env GOHOSTARCH)"
	if [ -z "$dist" ]; then
		say "building a snapshot release for $host (FLOWGATE_ACT_RELEASE=DIR reuses one)"
		dist="$work/dist"
		bash "$repo_root/.ci/release.sh" --snapshot --targets "$host" --out "$dist" >"$work/release.log" 2>&1 ||
			{ tail -n 30 "$work/release.log" >&2; fail "could not build a snapshot release"; }
	fi
	release_version=$(sed -n 's/^[0-9a-f]\{64\}  flowgate_\(v[^_]*\)_.*/\1/p' "$dist/checksums.txt" | head -n 1)
	[ -n "$release_version" ] || fail "$dist/checksums.txt names no flowgate archive"
	archive="flowgate_${release_version}_${host%/*}_${host#*/}.tar.gz"
	release_archive=$archive
	[ -f "$dist/$archive" ] || fail "$dist has no $archive for this machine"
	(cd "$repo_root" && go build -o "$work/releasetool" ./internal/release/releasetool)

	www="$work/www"
	mkdir -p "$www/good/$release_version" "$www/tampered/$release_version" "$work/evil"
	cp "$dist/checksums.txt" "$dist/$archive" "$www/good/$release_version/"
	cp "$dist/checksums.txt" "$www/tampered/$release_version/"
	printf '#!/bin/sh\necho "tampered flowgate ran" >&2\nexit 0\n' >"$work/evil/flowgate"
	chmod 755 "$work/evil/flowgate"
	"$work/releasetool" archive -mtime 0 "$www/tampered/$release_version/$archive" "$work/evil/flowgate"

	no_go="$work/no-go"
	mkdir -p "$no_go"
	printf '#!/bin/sh\necho "act.sh: go was run (go $*): the release should need no compiler" >&2\nexit 97\n' >"$no_go/go"
	chmod 755 "$no_go/go"

	"$work/releasetool" serve -addr 127.0.0.1:0 "$www" >"$work/serve.url" 2>"$work/serve.log" &
	server_pid=$!
	local i
	for i in $(seq 100); do
		[ -s "$work/serve.url" ] && break
		kill -0 "$server_pid" 2>/dev/null || fail "the release server did not start: $(cat "$work/serve.log")"
		sleep 0.1
	done
	release_base=$(head -n 1 "$work/serve.url")
	[ -n "$release_base" ] || fail "the release server printed no address"
	say "serving release $release_version at $release_base/{good,tampered}/$release_version/"
}

check_release() {
	setup_release
	run_act release good "$release_base/good"
	local log=$act_log
	# act logs each step's script as well as its output; output lines start with "| ".
	expect "$log" "| flowgate: $release_archive matches checksums.txt" \
		"release: the archive was not checked against checksums.txt"
	expect "$log" "| flowgate: CLI ready at" "release: no CLI"
	expect "$log" "(release $release_version, downloaded from $release_base/good)" "release: the CLI was not downloaded"
	refuse "$log" "go was run" "release: the action ran go"
	refuse "$log" "| flowgate: building" "release: the action built the CLI"
	refuse "$log" "| flowgate: installing" "release: the action installed the CLI with go"
	refuse "$log" "setup-go stub" "release: the action tried to install go"
	expect "$log" "1 passed, 0 failed" "release: flowgate test did not pass"
	expect "$log" "flowgate outputs workflow-count=2 error-count=0 warning-count=0" "release: wrong action outputs"
	expect "$log" "Job succeeded" "release: act did not report the job as succeeded"
	[ "$act_rc" -eq 0 ] || fail "release: act exited $act_rc, but the job must pass"
	expect "$work/serve.log" "GET /good/$release_version/flowgate_$release_version" "release: the server saw no archive download"
	local first_secs=$act_secs downloads
	downloads=$(grep -c "GET /good/$release_version/flowgate_" "$work/serve.log")
	say "ok: release downloaded, verified and validated the repository without go (${first_secs}s)"

	run_act release-cached good "$release_base/good"
	log=$act_log
	expect "$log" "(release $release_version, from the tool cache)" "release-cached: the CLI did not come from the tool cache"
	refuse "$log" "go was run" "release-cached: the action ran go"
	expect "$log" "Job succeeded" "release-cached: act did not report the job as succeeded"
	[ "$act_rc" -eq 0 ] || fail "release-cached: act exited $act_rc, but the job must pass"
	[ "$(grep -c "GET /good/$release_version/flowgate_" "$work/serve.log")" = "$downloads" ] ||
		fail "release-cached: the archive was downloaded again"
	say "ok: a second run takes the CLI from the tool cache (${act_secs}s)"
}

check_tampered() {
	setup_release
	run_act tampered good "$release_base/tampered"
	local log=$act_log
	expect "$log" "$emitted_error title=flowgate::checksum mismatch for $release_archive" \
		"tampered: no checksum error"
	refuse "$log" "tampered flowgate ran" "tampered: the tampered binary ran"
	refuse "$log" "| flowgate: CLI ready at" "tampered: the action went on with the tampered archive"
	refuse "$log" "| flowgate: building" "tampered: the action fell back to building the CLI"
	refuse "$log" "go was run" "tampered: the action fell back to building with go"
	expect "$log" "Job failed" "tampered: act did not report the job as failed"
	[ "$act_rc" -ne 0 ] || fail "tampered: act exited 0, but a tampered archive must fail the job"
	say "ok: a tampered archive fails the job before anything runs"
}

fixtures=("$@")
[ "${#fixtures[@]}" -gt 0 ] || fixtures=(broken good warnings release tampered)
for f in "${fixtures[@]}"; do
	case "$f" in
	broken) check_broken ;;
	good) check_good ;;
	warnings) check_warnings ;;
	release) check_release ;;
	tampered) check_tampered ;;
	*) fail "unknown fixture '$f': use broken, good, warnings, release or tampered" ;;
	esac
done
passed=1
say "all act checks passed"
