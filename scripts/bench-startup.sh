#!/usr/bin/env bash
# Cold start of the binary to the first 200 from /v1/healthz, and idle RSS.
# Usage: scripts/bench-startup.sh bin/vega [runs]
set -euo pipefail
bin=$(realpath "${1:-bin/vega}")
runs=${2:-10}
port=$(( 20000 + RANDOM % 20000 ))
times=()
for i in $(seq "$runs"); do
  dir=$(mktemp -d)
  start=$(date +%s%N)
  VEGA_DATA_DIR="$dir" VEGA_LISTEN_ADDR="127.0.0.1:$port" VEGA_LOG_LEVEL=error "$bin" serve >/dev/null 2>&1 &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/v1/healthz" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "vega exited" >&2; exit 1; fi
    sleep 0.002
  done
  end=$(date +%s%N)
  times+=( $(( (end - start) / 1000000 )) )
  if [ "$i" = "$runs" ]; then
    sleep 2 # let start-up garbage settle, then read idle RSS
    rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
median=$(echo "$sorted" | awk -v n="${#times[@]}" 'NR==int((n+1)/2){print}')
max=$(echo "$sorted" | tail -1)
echo "cold start to first healthz 200 (first run creates the data dir, store and debug user): median ${median} ms, max ${max} ms over ${runs} runs"
echo "idle RSS after start-up: $(( rss_kb / 1024 )) MiB (${rss_kb} kB)"
