#!/usr/bin/env bash
# The recognition load run of docs/BENCHMARKS.md ("Recognition programs"), against a fresh
# demo server: usage: scripts/bench-programs.sh NAME DATABASE_URL (after cargo build --release).
set -euo pipefail
name=$1; url=$2
bin=${PERKSU_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release}
out=/tmp/bench-$name; rm -rf $out; mkdir -p $out; cd $out
$bin/perksu serve --demo --database-url "$url" --listen 127.0.0.1:18080 > server.log 2>&1 &
pid=$!
for i in $(seq 1 50); do curl -sf http://127.0.0.1:18080/healthz >/dev/null && break; sleep 0.2; done
run() {
  echo "### $*" | tee -a results.txt
  $bin/perksu-load --url http://127.0.0.1:18080 --points 0.01 "$@" 2>&1 | tee -a results.txt
}
run -c 1 -n 5000
for i in 1 2; do run -c 16 -n 20000; done
kill -INT $pid; wait $pid || true
$bin/perksu verify --database-url "$url" 2>&1 | tee -a results.txt
