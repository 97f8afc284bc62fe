#!/usr/bin/env bash
# Writes a CSV of N users for `perksu import-users` (docs/BENCHMARKS.md, "User import"): ten
# departments, one lead per 20 people reporting to MANAGER_EMAIL, each employee reporting to
# the lead of their group (named before or after them in the file).
# usage: scripts/user-import-data.sh N DOMAIN MANAGER_EMAIL > users.csv
set -euo pipefail
n=$1; domain=$2; manager=$3
echo "email,first_name,last_name,role,department,manager_email"
awk -v n="$n" -v domain="$domain" -v manager="$manager" 'BEGIN {
  for (i = 0; i < n; i++) {
    group = int(i / 20); lead = group * 20 + 10
    if (i == lead) { role = "lead"; boss = manager }
    else { role = "employee"; boss = sprintf("user%06d@%s", lead < n ? lead : group * 20, domain) }
    if (i == group * 20 && lead >= n) { role = "lead"; boss = manager }
    printf "user%06d@%s,First%d,Last%d,%s,Department %d,%s\n", i, domain, i, i, role, group % 10, boss
  }
}'
