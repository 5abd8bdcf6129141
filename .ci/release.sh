#!/usr/bin/env bash
# Builds a Flowgate release from a git ref, publishing nothing:
#   flowgate_<version>_<os>_<arch>.tar.gz (.zip for windows)      the CLI (cmd/flowgate)
#   flowgate-app_<version>_<os>_<arch>.tar.gz (.zip for windows)  the service (cmd/flowgate-app)
#   <same name>.spdx.json                                         an SPDX SBOM per binary
#   checksums.txt                                                 sha256 of every file above
#   image/linux_<arch>/flowgate-app                               the binaries the Dockerfile's
#                                                                 prebuilt mode copies (APP_FROM=prebuilt)
#
# Everything is built from a fresh clone of the ref's commit (never the work
# tree), with -trimpath, CGO off and the Go toolchain stamping the version
# (the tag, or a pseudo-version for any other commit) and the commit into the
# binary, which is what --version prints. Archives are written by releasetool
# (internal/release) with sorted entries, owner root and the commit's time,
# so the same ref and toolchain give the same bytes.
#
# Usage: .ci/release.sh [--snapshot] [--ref REF] [--targets "os/arch ..."] [--out DIR] [--verify]
#   --ref REF       what to build (default HEAD). Without --snapshot REF must be
#                   a tag vMAJOR.MINOR.PATCH[-PRERELEASE].
#   --snapshot      allow any commit (the version is then a Go pseudo-version).
#   --targets LIST  default: linux, darwin and windows on amd64 and arm64.
#   --out DIR       default dist/ (emptied first).
#   --verify        build everything a second time from another clone and
#                   fail unless every file is byte-identical.
# Every binary that can run here runs --version, from its archive, and must
# print its version and commit; the others have their build information read.
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
ref=HEAD
snapshot=0
verify=0
out="$repo_root/dist"
targets="linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"
binaries="flowgate flowgate-app"

say() { printf 'release.sh: %s\n' "$*"; }
fail() { printf 'release.sh: FAIL: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	--ref) ref=${2:?--ref needs a value}; shift 2 ;;
	--snapshot) snapshot=1; shift ;;
	--targets) targets=${2:?--targets needs a value}; shift 2 ;;
	--out) out=${2:?--out needs a value}; shift 2 ;;
	--verify) verify=1; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) fail "unknown argument '$1' (see --help)" ;;
	esac
done

for t in $targets; do
	case "$t" in
	linux/amd64 | linux/arm64 | darwin/amd64 | darwin/arm64 | windows/amd64 | windows/arm64) ;;
	*) fail "unsupported target '$t' (linux, darwin or windows; amd64 or arm64)" ;;
	esac
done

commit=$(git -C "$repo_root" rev-parse --verify -q "$ref^{commit}") || fail "'$ref' is not a commit in $repo_root"
if [ "$snapshot" = 0 ]; then
	printf '%s' "$ref" | grep -Eq '^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$' ||
		fail "'$ref' is not a release tag (vMAJOR.MINOR.PATCH); use --snapshot to build any commit"
	git -C "$repo_root" rev-parse --verify -q "refs/tags/$ref" >/dev/null || fail "there is no tag '$ref'"
fi
# Archive entries carry the commit's time, not the build's.
epoch=$(git -C "$repo_root" log -1 --format=%ct "$commit")

work=$(mktemp -d "${TMPDIR:-/tmp}/flowgate-release.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The build environment is fixed: nothing from the caller's GOFLAGS, no cgo.
export CGO_ENABLED=0 GOFLAGS=-mod=readonly GOTOOLCHAIN=local
unset GOAMD64 GOARM64 GOEXPERIMENT GODEBUG 2>/dev/null || true
host="$(go env GOHOSTOS)/$(go env GOHOSTARCH)"
say "building $commit ($ref) with $(go version | cut -d' ' -f3) for: $targets"

# build_release DEST: clones the commit and builds, archives and sums everything into DEST.
build_release() {
	local dest=$1 src tool t os arch bin ext stage name version="" info v
	src=$(mktemp -d "$work/src.XXXXXX")
	git clone -q --no-checkout "$repo_root" "$src"
	git -C "$src" -c advice.detachedHead=false checkout -q --detach "$commit"
	rm -rf "$dest" && mkdir -p "$dest"
	tool="$work/releasetool"
	[ -x "$tool" ] || (cd "$src" && GOOS= GOARCH= go build -o "$tool" ./internal/release/releasetool)
	for t in $targets; do
		os=${t%/*} arch=${t#*/} ext=""
		[ "$os" = windows ] && ext=.exe
		stage="$work/stage/$(basename "$dest")/${os}_${arch}"
		mkdir -p "$stage"
		for bin in $binaries; do
			(cd "$src" && GOOS=$os GOARCH=$arch go build -trimpath -buildvcs=true -ldflags='-s -w' \
				-o "$stage/$bin$ext" "./cmd/$bin") || fail "go build ./cmd/$bin for $t"
			info=$("$tool" info "$stage/$bin$ext")
			v=$(printf '%s\n' "$info" | sed -n 's/^version=//p')
			[ -n "$version" ] || version=$v
			printf '%s\n' "$info" | grep -qx "revision=$commit" || fail "$bin ($t) does not record commit $commit:"$'\n'"$info"
			printf '%s\n' "$info" | grep -qx "modified=false" || fail "$bin ($t) was built from a modified tree"
			printf '%s\n' "$info" | grep -qx "goos=$os" || fail "$bin ($t) is not a $os binary"
			printf '%s\n' "$info" | grep -qx "goarch=$arch" || fail "$bin ($t) is not an $arch binary"
			printf '%s\n' "$info" | grep -qx "trimpath=true" || fail "$bin ($t) was built without -trimpath"
			[ "$v" = "$version" ] || fail "$bin ($t) reports version $v, the others $version"
			case "$version" in "" | "(devel)" | *+dirty) fail "$bin ($t) has no release version ('$version')" ;; esac
			if [ "$snapshot" = 0 ] && [ "$version" != "$ref" ]; then
				fail "$bin ($t) reports version $version, not the tag $ref"
			fi
			name="${bin}_${version}_${os}_${arch}"
			if [ "$os" = windows ]; then
				"$tool" archive -mtime "$epoch" "$dest/$name.zip" "$stage/$bin$ext"
			else
				"$tool" archive -mtime "$epoch" "$dest/$name.tar.gz" "$stage/$bin$ext"
			fi
			"$tool" sbom -created "$epoch" -label "$name" "$dest/$name.spdx.json" "$stage/$bin$ext"
		done
		if [ "$os" = linux ]; then
			mkdir -p "$dest/image/linux_$arch"
			cp "$stage/flowgate-app" "$dest/image/linux_$arch/flowgate-app"
		fi
	done
	"$tool" checksums "$dest"
	printf '%s\n' "$version" >"$work/version"
}

# check_versions DIR: every archived binary that runs here prints its
# version and commit; the archives unpack to the binaries that were built.
check_versions() {
	local dir=$1 version t os arch bin ext name unpack line
	version=$(cat "$work/version")
	(cd "$dir" && sha256sum --quiet -c checksums.txt) || fail "checksums.txt does not match the files in $dir"
	for t in $targets; do
		os=${t%/*} arch=${t#*/} ext=""
		[ "$os" = windows ] && ext=.exe
		for bin in $binaries; do
			name="${bin}_${version}_${os}_${arch}"
			unpack="$work/unpack/$name"
			mkdir -p "$unpack"
			if [ "$os" = windows ]; then
				unzip -q "$dir/$name.zip" -d "$unpack"
			else
				tar -xzf "$dir/$name.tar.gz" -C "$unpack"
			fi
			[ "$(ls "$unpack")" = "$bin$ext" ] || fail "$name: the archive holds $(ls "$unpack" | tr '\n' ' '), want only $bin$ext"
			cmp -s "$unpack/$bin$ext" "$work/stage/$(basename "$dir")/${os}_${arch}/$bin$ext" ||
				fail "$name: the archived binary differs from the one built"
			grep -q "\"SHA256\"" "$dir/$name.spdx.json" || fail "$name.spdx.json names no checksum"
			if [ "$t" = "$host" ]; then
				line=$("$unpack/$bin$ext" --version) || fail "$name: --version failed"
				case "$line" in
				"$bin $version commit $commit "*) say "ok: $name --version: $line" ;;
				*) fail "$name --version printed '$line', want '$bin $version commit $commit …'" ;;
				esac
			else
				say "ok: $name is a $t build of $version at $commit (cannot run it on $host)"
			fi
		done
	done
}

build_release "$out"
check_versions "$out"
if [ "$verify" = 1 ]; then
	say "verify: building again from another clone"
	build_release "$work/second"
	if ! diff -r "$out" "$work/second" >/dev/null; then
		diff "$out/checksums.txt" "$work/second/checksums.txt" >&2 || true
		diff -rq "$out" "$work/second" >&2 || true
		fail "two builds of $commit differ"
	fi
	say "ok: two builds of $commit are byte-identical ($(wc -l <"$out/checksums.txt") files in checksums.txt)"
fi
say "release $(cat "$work/version") in $out:"
sed 's/^/  /' "$out/checksums.txt"
