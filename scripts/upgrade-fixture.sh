#!/usr/bin/env bash
# Writes the rows of a demo database at migration VERSION as plain INSERTs, for the upgrade
# test (crates/perksu/tests/schema/upgrade.rs): a later release must migrate exactly these
# rows forward. Run it with the binary of the release whose schema is VERSION, once, before
# the migration that changes it lands; the file it writes is then kept as it is.
#
#   scripts/upgrade-fixture.sh 7 crates/perksu/tests/schema/fixtures/postgres-0007.sql
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:?usage: upgrade-fixture.sh VERSION OUTPUT}
output=${2:?usage: upgrade-fixture.sh VERSION OUTPUT}
base=${PERKSU_FIXTURE_POSTGRES_URL:-postgres://postgres@127.0.0.1}
database="perksu_fixture_$$"
url="$base/$database"

psql -v ON_ERROR_STOP=1 -q "$base/postgres" -c "create database $database"
trap 'kill "${server:-0}" 2>/dev/null || true; psql -q "$base/postgres" -c "drop database if exists $database with (force)"' EXIT

cargo build --quiet --bin perksu
perksu=target/debug/perksu
"$perksu" migrate --database-url "$url" | grep "$(printf '%04d' "$version") .* applied" >/dev/null

# `serve --demo` seeds the demo company through the store; it is stopped once it listens.
log=$(mktemp)
"$perksu" serve --demo --listen 127.0.0.1:0 --database-url "$url" >"$log" 2>&1 &
server=$!
for _ in $(seq 1 600); do
  grep -q "listening on" "$log" && break
  sleep 0.1
done
grep -q "listening on" "$log" || { cat "$log" >&2; exit 1; }
kill "$server"
wait "$server" || true

{
  echo "-- The rows of 'perksu serve --demo' at migration $version, written by"
  echo "-- scripts/upgrade-fixture.sh. Loaded into a schema at that migration by the upgrade test."
  pg_dump --data-only --column-inserts --on-conflict-do-nothing --no-owner --no-privileges --exclude-table=_sqlx_migrations \
    --disable-triggers "$url" |
    grep -v -e '^\\' -e '^SET ' -e '^SELECT pg_catalog.set_config' -e '^--' -e '^$' |
    sed -e 's/^INSERT INTO public\./INSERT INTO /' \
        -e 's/^ALTER TABLE public\./ALTER TABLE /' \
        -e "s/setval('public\./setval('/"
} >"$output"
echo "wrote $(grep -c '^INSERT' "$output") rows to $output"
