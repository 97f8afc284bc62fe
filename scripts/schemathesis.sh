#!/usr/bin/env bash
# Schemathesis against /api/openapi.json as each demo role (docs/RELIABILITY.md, "The API
# matches its document"): every role on its own fresh demo database, a fixed seed, a few
# examples per operation; fails on any 5xx, any answer the document does not declare, a
# server panic, a token that stopped working, or a ledger that `perksu verify` rejects.
#
# Usage: scripts/schemathesis.sh. Env: SCHEMATHESIS_SEED, SCHEMATHESIS_MAX_EXAMPLES,
# PERKSU_BIN (a perksu binary to use instead of building the debug one) and
# PERKSU_TEST_POSTGRES_URL (also run the manager's pass on PostgreSQL, in a schema of its own).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seed=${SCHEMATHESIS_SEED:-20260601}
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-50}
venv="$root/target/schemathesis-venv"
requirements="$root/scripts/schemathesis-requirements.txt"
report_dir="$root/target/schemathesis-report"

# The checks: no 5xx, and every answer's status, content type, headers and body as declared.
checks=not_a_server_error,status_code_conformance,content_type_conformance
checks+=,response_headers_conformance,response_schema_conformance

# CI installs what is missing: curl, and Debian's venv module for python3.
ensure_tools() {
  if ! command -v curl >/dev/null 2>&1; then
    echo "installing curl"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
  fi
}

ensure_venv() {
  if [ -x "$venv/bin/schemathesis" ] && cmp -s "$requirements" "$venv/requirements.txt"; then
    return
  fi
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    echo "installing python3-venv"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

workdir=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$workdir"
}
trap cleanup EXIT

start_server() { # database url, log file
  port=$(free_port)
  base="http://127.0.0.1:$port"
  PERKSU_CALLBACK_SECRET=schemathesis "$perksu" serve --demo --database-url "$1" \
    --listen "127.0.0.1:$port" >"$2" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 150); do
    if curl -sf "$base/healthz" >/dev/null; then return; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "the server did not start:" >&2
  cat "$2" >&2
  exit 1
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""
}

token_for() { # email
  curl -sf -X POST "$base/api/auth/login" -H 'content-type: application/json' \
    -d "{\"email\": \"$1\", \"password\": \"perksu-demo\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

failures=0
fail() {
  echo "FAILED: $*" >&2
  failures=$((failures + 1))
}

# One role's pass on a fresh demo database: schemathesis, then the checks around it.
run_role() { # label, email, database url
  local label=$1 email=$2 url=$3
  local log="$workdir/$label.log"
  echo "=== schemathesis as $label ($email), seed $seed, $max_examples examples per operation"
  start_server "$url" "$log"
  local token
  token=$(token_for "$email")
  # From the work directory, so that its caches stay out of the checkout. Sign-out is left
  # out: it would revoke the token the rest of the run uses.
  if ! (cd "$workdir" && "$venv/bin/schemathesis" run "$base/api/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks "$checks" \
    --seed "$seed" \
    --max-examples "$max_examples" \
    --workers 1 \
    --generation-database none \
    --exclude-path /api/auth/logout \
    --request-timeout 35 \
    --no-color \
    --report junit --report-junit-path "$report_dir/$label.xml"); then
    fail "schemathesis as $label"
  fi
  # A pass that revoked its own token, or deactivated its own user, tested only 401s after.
  if ! curl -sf -o /dev/null -H "Authorization: Bearer $token" "$base/api/auth/me"; then
    fail "the $label token no longer works after the run"
  fi
  stop_server
  if grep -E "panic|request failed" "$log"; then
    fail "the server logged a panic or an internal error as $label"
  fi
  if ! "$perksu" verify --database-url "$url" >"$workdir/$label.verify" 2>&1; then
    cat "$workdir/$label.verify"
    fail "perksu verify after the $label pass"
  fi
}

ensure_tools
ensure_venv
if [ -n "${PERKSU_BIN:-}" ]; then
  perksu=$PERKSU_BIN
else
  cargo build -p perksu --locked --quiet
  perksu="$root/target/debug/perksu"
fi
mkdir -p "$report_dir"
"$venv/bin/schemathesis" --version

started=$SECONDS
roles=(
  "platform_admin admin@perksu.local"
  "tenant_manager maya@acme.example"
  "lead liam@acme.example"
  "employee ethan@acme.example"
)
for role in "${roles[@]}"; do
  read -r label email <<<"$role"
  run_role "$label" "$email" "sqlite://$workdir/$label.db"
done

if [ -n "${PERKSU_TEST_POSTGRES_URL:-}" ]; then
  schema="schemathesis_$$"
  psql_cmd=(psql -v ON_ERROR_STOP=1 -q "$PERKSU_TEST_POSTGRES_URL")
  "${psql_cmd[@]}" -c "create schema $schema"
  separator='?'
  case "$PERKSU_TEST_POSTGRES_URL" in *\?*) separator='&' ;; esac
  run_role postgres_tenant_manager maya@acme.example \
    "${PERKSU_TEST_POSTGRES_URL}${separator}options=-c%20search_path%3D${schema}"
  "${psql_cmd[@]}" -c "drop schema $schema cascade"
fi

echo "schemathesis: $failures failed passes in $((SECONDS - started)) s (JUnit in $report_dir)"
[ "$failures" -eq 0 ]
