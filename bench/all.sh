#!/usr/bin/env bash
# Runs every benchmark one after another (they must not share the host's two cores with each
# other), keeps each one's output in .build/bench/<name>.log, and ends with their RESULT lines
# and the load average each started under.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .build/bench
node=${NODE:-node}
summary=()
for b in ${BENCHES:-cni kube-proxy apiserver dns pods scheduler}; do
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "== bench $b (load average $load)"
  t0=$(date +%s)
  "$node" --import=tsx "bench/$b.ts" 2>&1 | tee ".build/bench/$b.log"
  rc=${PIPESTATUS[0]}
  secs=$(( $(date +%s) - t0 ))
  result=$(grep -E '^RESULT ' ".build/bench/$b.log" | tail -1)
  summary+=("$(printf '%-12s %4ss  load %-15s %s' "$b" "$secs" "$load" "${result:-no RESULT line (exit $rc)}")")
done
echo
echo "== summary (logs in .build/bench/)"
printf '%s\n' "${summary[@]}"
