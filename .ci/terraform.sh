#!/usr/bin/env bash
# Checks deploy/terraform: formatting always; `terraform validate` when the
# AWS provider mirror exists at /opt/tf-plugins (override: FLOWGATE_TF_PLUGINS).
# Nothing is written to the repository: init runs on a copy in a temp dir,
# with TF_DATA_DIR there too, so no .terraform/ or lock file is left behind.
# The structural (security) tests are Go tests: go test ./deploy/terraform/
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
module="$repo_root/deploy/terraform"
plugins="${FLOWGATE_TF_PLUGINS:-/opt/tf-plugins}"

say() { printf 'terraform.sh: %s\n' "$*"; }

if ! command -v terraform >/dev/null 2>&1; then
	say "FAIL: terraform is not installed"
	exit 1
fi
# No CLI configuration: a stray ~/.terraformrc must not send init to the network.
export TF_CLI_CONFIG_FILE=/dev/null
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1

say "$(terraform version | head -n 1)"
say "terraform fmt -check -recursive deploy/terraform"
if ! terraform fmt -check -recursive -diff "$module"; then
	say "FAIL: run 'terraform fmt -recursive deploy/terraform'"
	exit 1
fi

if [ ! -d "$plugins" ]; then
	say "SKIP terraform validate: no provider mirror at $plugins (it needs the AWS provider 5.x there; the network is not used)"
	exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/flowgate-tf.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$module"/*.tf "$work/"
export TF_DATA_DIR="$work/.terraform"

say "terraform init -backend=false -plugin-dir=$plugins"
if ! timeout 300 terraform -chdir="$work" init -backend=false -plugin-dir="$plugins" -no-color >"$work/init.log" 2>&1; then
	cat "$work/init.log"
	say "FAIL: terraform init"
	exit 1
fi
say "terraform validate"
if ! timeout 300 terraform -chdir="$work" validate -no-color; then
	say "FAIL: terraform validate"
	exit 1
fi
say "ok"
