#!/usr/bin/env bash
# The memory runs of docs/BENCHMARKS.md ("Memory under load"): a fresh demo server, then a login
# rush, a storm of wrong passwords and a burst of recognitions, each 64 clients at a time, with
# the server's peak resident set (VmHWM) after each.
# usage: scripts/bench-memory.sh NAME DATABASE_URL   (after cargo build --release)
# PERKSU_BIN names another build's folder (for a before/after comparison).
set -euo pipefail
name=$1; url=$2
bin=${PERKSU_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release}
load=${PERKSU_LOAD_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release}/perksu-load
port=${PERKSU_BENCH_PORT:-18081}
out=/tmp/bench-memory-$name; rm -rf "$out"; mkdir -p "$out"; cd "$out"
"$bin/perksu" serve --demo --database-url "$url" --listen 127.0.0.1:$port > server.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.2; done
peak() { awk '/VmHWM/ {printf "%.1f MB", $2 / 1024}' /proc/$pid/status; }
threads() { awk '/Threads/ {print $2}' /proc/$pid/status; }
step() {
  local what=$1; shift
  "$load" --url http://127.0.0.1:$port "$@" > step.txt 2>&1 || true
  local rate statuses
  rate=$(awk '/^throughput/ {print $2}' step.txt)
  statuses=$(awk '/^status / {sub(":", "", $2); printf "%s: %s ", $2, $3}' step.txt)
  printf '| %s | %s | %s | %s | %s |\n' "$what" "$rate" "$statuses" "$(peak)" "$(threads)" | tee -a results.md
  cat step.txt >> details.txt
}
echo "| $name: after | req/s | statuses | peak RSS | threads |" | tee results.md
echo "| --- | --- | --- | --- | --- |" | tee -a results.md
printf '| start (demo seeded) | | | %s | %s |\n' "$(peak)" "$(threads)" | tee -a results.md
step "256 correct logins, 64 clients" --scenario logins -n 256 -c 64
step "256 wrong passwords, 64 clients" --scenario logins -n 256 -c 64 --login-password wrong-password
step "3000 recognitions, 64 clients" -n 3000 -c 64 --points 0.01
kill -TERM $pid; wait $pid || true
trap - EXIT
"$bin/perksu" verify --database-url "$url" > verify.txt 2>&1 && echo "verify: OK" || { echo "verify: FAILED"; cat verify.txt; }
