#!/usr/bin/env bash
# Bytes over the wire for the dashboard's JS and CSS, per Accept-Encoding,
# fetched from a running binary (built with the dashboard embedded).
# Usage: scripts/bench-assets.sh bin/vega
set -euo pipefail
bin=$(realpath "${1:-bin/vega}")
port=$(( 20000 + RANDOM % 20000 ))
dir=$(mktemp -d)
VEGA_DATA_DIR="$dir" VEGA_LISTEN_ADDR="127.0.0.1:$port" VEGA_LOG_LEVEL=error "$bin" serve >/dev/null 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
until curl -sf "http://127.0.0.1:$port/v1/healthz" >/dev/null 2>&1; do
  kill -0 "$pid" 2>/dev/null || { echo "vega exited" >&2; exit 1; }
  sleep 0.01
done
# Every JS and CSS file the build produced (the dashboard loads them all over a session).
assets=$(cd "$(dirname "$0")/../ui/dist" && ls assets/*.js assets/*.css)
for enc in "" "gzip" "br" "gzip, deflate, br, zstd"; do
  total=0
  for a in $assets; do
    n=$(curl -s -o /dev/null -w '%{size_download}' -H "Accept-Encoding: $enc" "http://127.0.0.1:$port/$a")
    total=$((total + n))
  done
  # Again: the second request is served from the in-memory cache.
  t0=$(date +%s%N)
  for a in $assets; do curl -s -o /dev/null -H "Accept-Encoding: $enc" "http://127.0.0.1:$port/$a"; done
  t1=$(date +%s%N)
  printf 'Accept-Encoding %-24s %8d bytes  (%d files, cached pass %d ms)\n' "\"$enc\"" "$total" "$(echo "$assets" | wc -w)" $(( (t1 - t0) / 1000000 ))
done
