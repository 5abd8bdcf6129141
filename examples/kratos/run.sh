#!/usr/bin/env bash
# Starts Flowgate on this folder's workflows and a real Ory Kratos v1.3.1
# whose registration and login web hooks point at Flowgate's Kratos
# adapters, then walks through the API flows: a sign-up the workflow
# refuses (message on the email field), a weak password (message on the
# password field), a sign-up and a sign-in that go through (the sign-in ran
# user:post_authentication: its log line is printed from Flowgate), and a
# locked account whose sign-in is refused.
#
#   examples/kratos/run.sh
#
# Needs Go, curl and python3. Kratos is built once from the Go module proxy
# by .ci/kratos.sh (2-3 minutes) and cached.
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

echo "== building Flowgate and (once) Kratos"
(cd "$root" && go build -o "$work/flowgate-app" ./cmd/flowgate-app)
eval "$("$root/.ci/kratos.sh")"

fg_port="$(port)"; pub="$(port)"; adm="$(port)"
token="rt-example-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
admin="adm-example-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
fg="http://127.0.0.1:$fg_port"

echo "== starting Flowgate on 127.0.0.1:$fg_port with $here as its dev repo"
FLOWGATE_ADDR="127.0.0.1:$fg_port" FLOWGATE_DATA_DIR="$work/flowgate-data" FLOWGATE_DEV_REPO="$here" \
  FLOWGATE_RUNTIME_TOKEN="$token" FLOWGATE_ADMIN_TOKEN="$admin" \
  "$work/flowgate-app" --log-level warn >"$work/flowgate.log" 2>&1 &
pids+=($!)
wait_for "$fg/healthz" Flowgate "$work/flowgate.log"
for wf in preRegistration newPassword postAuthentication; do
  for _ in $(seq 1 600); do
    curl -fsS -H "Authorization: Bearer $admin" "$fg/api/v1/environments/production/workflows/$wf" 2>/dev/null \
      | grep -q '"liveDeploymentId":"dep_' && break
    sleep 0.2
  done
done

# The web hook body: the hook's whole context but the browser's cookies.
body="base64://$(printf '%s' 'function(ctx) { [k]: ctx[k] for k in std.objectFields(ctx) if k != "request_cookies" }' | base64 | tr -d '\n')"
hook() {
  cat <<YAML
            - hook: web_hook
              config:
                url: "$fg/api/v1/environments/production/adapters/kratos/$1?timeout=5s"
                method: POST
                body: "$body"
                response: {parse: true}
                auth:
                  type: api_key
                  config: {in: header, name: Authorization, value: "Bearer $token"}
YAML
}
cat >"$work/kratos.yml" <<YAML
version: v1.3.1
dsn: memory
serve:
  public: {base_url: "http://127.0.0.1:$pub/", host: 127.0.0.1, port: $pub}
  admin: {base_url: "http://127.0.0.1:$adm/", host: 127.0.0.1, port: $adm}
selfservice:
  default_browser_return_url: http://127.0.0.1:1/
  methods:
    password: {enabled: true, config: {haveibeenpwned_enabled: false}}
  flows:
    registration:
      after:
        password:
          hooks:
$(hook registration)
$(hook registration-password)
            - hook: session
    login:
      after:
        password:
          hooks:
$(hook login)
identity:
  default_schema_id: default
  schemas:
    - {id: default, url: "file://$here/identity.schema.json"}
secrets:
  cookie: ["example-cookie-secret-0123456789"]
  cipher: ["example-cipher-secret-0123456789"]
courier:
  smtp: {connection_uri: "smtps://test:test@127.0.0.1:1/?skip_ssl_verify=true"}
YAML
echo "== starting Kratos (public :$pub) with its web hooks on Flowgate"
(cd "$work" && "$FLOWGATE_TEST_KRATOS" serve -c kratos.yml --dev --watch-courier=false >"$work/kratos.log" 2>&1) &
pids+=($!)
wait_for "http://127.0.0.1:$adm/admin/health/ready" Kratos "$work/kratos.log"

kratos="http://127.0.0.1:$pub"
show() { # print the flow's messages, or the session
  python3 -c '
import json, sys
f = json.load(sys.stdin)
if "session_token" in f:
    print("   accepted: session for", f["session"]["identity"]["traits"]["email"])
    sys.exit()
for m in f.get("ui", {}).get("messages", []):
    print("   refused (form):", m["text"])
for n in f.get("ui", {}).get("nodes", []):
    for m in n.get("messages", []):
        print("   refused (field %s): %s" % (n["attributes"]["name"], m["text"]))
'
}
register() { # EMAIL PASSWORD
  local flow
  flow="$(curl -fsS -H 'Accept: application/json' "$kratos/self-service/registration/api" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
  curl -sS -H 'Content-Type: application/json' -H 'Accept: application/json' "$kratos/self-service/registration?flow=$flow" \
    -d "{\"method\":\"password\",\"password\":\"$2\",\"traits\":{\"email\":\"$1\"},\"transient_payload\":{\"password\":\"$2\"}}" | show
}
login() { # EMAIL PASSWORD
  local flow
  flow="$(curl -fsS -H 'Accept: application/json' "$kratos/self-service/login/api" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
  curl -sS -H 'Content-Type: application/json' -H 'Accept: application/json' "$kratos/self-service/login?flow=$flow" \
    -d "{\"method\":\"password\",\"identifier\":\"$1\",\"password\":\"$2\"}" | show
}

echo "== sign-up eve@blocked.example (user:pre_registration denies)"
register eve@blocked.example 'a-long-passw0rd'
echo "== sign-up bob@example.com with a password without a digit (user:new_password_provided)"
register bob@example.com 'correct horse battery staple'
echo "== sign-up ada@example.com"
register ada@example.com 'c0rrect-h0rse-battery'
echo "== sign-in ada@example.com (user:post_authentication runs)"
login ada@example.com 'c0rrect-h0rse-battery'
echo "== sign-up and sign-in locked@example.com (user:post_authentication denies)"
register locked@example.com 'l0cked-account-pass' >/dev/null
login locked@example.com 'l0cked-account-pass'
sleep 1 # runtime logs are written in batches, off the request path
echo "== Flowgate's runtime log for postAuthentication"
curl -fsS -H "Authorization: Bearer $admin" "$fg/api/v1/environments/production/logs?workflow=postAuthentication&limit=20" \
  | python3 -c 'import json,sys; [print("  ", l["message"]) for l in json.load(sys.stdin)["logs"] if l["message"].startswith("sign-in")]'
