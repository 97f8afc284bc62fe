#!/usr/bin/env bash
# The user-import figures of docs/BENCHMARKS.md ("User import"): a fresh demo database, then
# `perksu import-users` of N generated people into Acme, timed with its peak RSS, on SQLite and
# (with PERKSU_BENCH_POSTGRES_URL, a database it may drop and recreate) on PostgreSQL.
# usage: scripts/bench-import.sh [N]   (after cargo build --release)
set -euo pipefail
n=${1:-10000}
bin=target/release/perksu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scripts/user-import-data.sh "$n" acme.example maya@acme.example > "$work/users.csv"

# Seeds the demo into $1 (serve --demo, stopped once it listens).
seed() {
  "$bin" serve --demo --database-url "$1" --listen 127.0.0.1:0 > "$work/serve.log" 2>&1 &
  local pid=$!
  for _ in $(seq 600); do
    grep -q "listening on" "$work/serve.log" && break
    sleep 0.1
  done
  kill "$pid"; wait "$pid" || true
}

# Times one import into $2 (named $1): wall seconds and peak RSS.
run() {
  seed "$2"
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin" import-users --database-url "$2" \
    --tenant acme "$work/users.csv" > "$work/import.log"
  read -r seconds kib < "$work/time"
  printf '| %s | %s | %s s | %s MiB | %s |\n' "$1" "$n" "$seconds" "$((kib / 1024))" \
    "$(tail -1 "$work/import.log")"
  "$bin" verify --database-url "$2" | tail -1
}

echo "| backend | rows | wall time | peak RSS | result |"
echo "| --- | --- | --- | --- | --- |"
run SQLite "sqlite://$work/bench.db"
if [ -n "${PERKSU_BENCH_POSTGRES_URL:-}" ]; then
  base=${PERKSU_BENCH_POSTGRES_URL%/*}; name=${PERKSU_BENCH_POSTGRES_URL##*/}
  psql -q "$base/postgres" -c "drop database if exists $name" -c "create database $name"
  run PostgreSQL "$PERKSU_BENCH_POSTGRES_URL"
fi
