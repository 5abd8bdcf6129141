#!/usr/bin/env bash
# Starts Flowgate on this folder's workflows and a real Ory Hydra v2.3.0
# whose token hook points at Flowgate, then asks Hydra for a
# client-credentials token and prints its claims: the "tier" and "scopes"
# claims come from m2mClaimsWorkflow.ts.
#
#   examples/hydra/run.sh
#
# Needs Go and curl. Hydra is built once from the Go module proxy by
# .ci/hydra.sh (2-3 minutes) and cached. Everything runs on loopback and
# stops when the script ends.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # URL WHAT LOG (the server is the last process started)
  for _ in $(seq 1 600); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.2
  done
  echo "run.sh: $2 did not come up; the end of its log:" >&2
  tail -n 20 "$3" >&2
  exit 1
}

echo "== building Flowgate and (once) Hydra"
(cd "$root" && go build -o "$work/flowgate-app" ./cmd/flowgate-app)
eval "$("$root/.ci/hydra.sh")"

fg_port="$(port)"; pub="$(port)"; adm="$(port)"
token="rt-example-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
admin="adm-example-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

echo "== starting Flowgate on 127.0.0.1:$fg_port with $here as its dev repo"
FLOWGATE_ADDR="127.0.0.1:$fg_port" FLOWGATE_DATA_DIR="$work/flowgate-data" FLOWGATE_DEV_REPO="$here" \
  FLOWGATE_RUNTIME_TOKEN="$token" FLOWGATE_ADMIN_TOKEN="$admin" \
  "$work/flowgate-app" --log-level warn >"$work/flowgate.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$fg_port/healthz" Flowgate "$work/flowgate.log"
for wf in m2mClaims userClaims; do
  for _ in $(seq 1 600); do
    curl -fsS -H "Authorization: Bearer $admin" "http://127.0.0.1:$fg_port/api/v1/environments/production/workflows/$wf" 2>/dev/null \
      | grep -q '"liveDeploymentId":"dep_' && break
    sleep 0.2
  done
done

echo "== starting Hydra (public :$pub, admin :$adm) with its token hook on Flowgate"
cat >"$work/hydra.yml" <<YAML
dsn: memory
serve:
  public: {host: 127.0.0.1, port: $pub}
  admin: {host: 127.0.0.1, port: $adm}
urls:
  self: {issuer: "http://127.0.0.1:$pub/"}
secrets:
  system: ["example-system-secret-0123456789"]
strategies:
  access_token: jwt
oauth2:
  allowed_top_level_claims: [tier]
  token_hook:
    url: "http://127.0.0.1:$fg_port/api/v1/environments/production/adapters/hydra/token-hook?timeout=3s"
    auth:
      type: api_key
      config: {in: header, name: Authorization, value: "Bearer $token"}
YAML
(cd "$work" && "$FLOWGATE_TEST_HYDRA" serve all --dev -c hydra.yml >"$work/hydra.log" 2>&1) &
pids+=($!)
wait_for "http://127.0.0.1:$adm/health/ready" Hydra "$work/hydra.log"
# EC signing keys are made at once (Hydra's default RSA keys take a while).
curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' \
  -d '{"alg":"ES256","use":"sig","kid":"example"}' "http://127.0.0.1:$adm/admin/keys/hydra.jwt.access-token"

client="$(curl -fsS -X POST -H 'Content-Type: application/json' "http://127.0.0.1:$adm/admin/clients" \
  -d '{"grant_types":["client_credentials"],"scope":"reports:read","token_endpoint_auth_method":"client_secret_basic"}')"
id="$(printf '%s' "$client" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')"
secret="$(printf '%s' "$client" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')"

echo "== POST /oauth2/token (client_credentials) — Hydra calls Flowgate before it signs"
resp="$(curl -fsS -u "$id:$secret" -d grant_type=client_credentials -d scope=reports:read "http://127.0.0.1:$pub/oauth2/token")"
printf '%s' "$resp" | python3 -c '
import base64, json, sys
tok = json.load(sys.stdin)["access_token"]
body = tok.split(".")[1]
claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
print(json.dumps(claims, indent=2, sort_keys=True))
print("claims the workflow set:", json.dumps(claims.get("ext")))
'
