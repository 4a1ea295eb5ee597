#!/usr/bin/env bash
# Sums the integration-test counts that each test package's TestMain wrote
# into the report directory, so CI shows how many ran against the real
# control plane.
set -euo pipefail
dir=${1:?report dir}
total=0
shopt -s nullglob
for f in "$dir"/*.count; do
  n=$(cat "$f"); total=$((total + n))
  printf '  %-60s %s\n' "$(basename "$f" .count)" "$n"
done
echo "integration tests run against the local control plane: $total"
