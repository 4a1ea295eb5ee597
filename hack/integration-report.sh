#!/usr/bin/env bash
# Sums the integration-test counts that each test package's TestMain
# appended to the report file ("<package> <count>" lines), so CI shows how
# many tests ran against the real control plane even though go test hides
# the output of passing packages.
set -euo pipefail
file=${1:?report file}
[ -f "$file" ] || { echo "integration tests run against the local control plane: 0 (no report)"; exit 0; }
awk '{ printf "  %-60s %s\n", $1, $2; total += $2 } END { printf "integration tests run against the local control plane: %d\n", total }' "$file"
