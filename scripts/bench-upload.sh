#!/usr/bin/env bash
# Peak RSS of the server while a 1 GiB archive is uploaded through the API and
# then ingested. Usage: scripts/bench-upload.sh bin/vega [size_mib] [local|s3]
# With s3, files go to the in-process AWS emulator (testutil/awsemu), run as
# its own process so its memory is not counted.
set -euo pipefail
bin=$(realpath "${1:-bin/vega}")
mib=${2:-1024}
backend=${3:-local}
work=$(mktemp -d)
pid=
emu=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; [ -n "$emu" ] && kill $emu 2>/dev/null; rm -rf "$work"' EXIT

if [ "$backend" = s3 ]; then
  go build -o "$work/awsemu" ./testutil/awsemu/cmd/awsemu
  "$work/awsemu" -buckets vega-source,vega-artifacts >"$work/emu.env" &
  emu=$!
  until grep -q '^ready$' "$work/emu.env" 2>/dev/null; do sleep 0.05; done
  # shellcheck disable=SC1091
  source <(grep '^export ' "$work/emu.env")
  export VEGA_FILE_STORAGE_BACKEND=s3 VEGA_S3_SOURCE_BUCKET=vega-source VEGA_S3_ARTIFACTS_BUCKET=vega-artifacts
fi
port=$(( 20000 + RANDOM % 20000 ))
base="http://127.0.0.1:$port"

# A real tar of 8 incompressible files (random data: the worst case for the snapshot zip).
python3 - "$work/big.tar" "$mib" <<'PY'
import os, sys, tarfile, io
path, mib = sys.argv[1], int(sys.argv[2])
per = mib * 1024 * 1024 // 8
with tarfile.open(path, "w") as tf:
    for i in range(8):
        ti = tarfile.TarInfo(f"big/part{i}.bin"); ti.size = per
        class R(io.RawIOBase):
            left = per
            def readable(self): return True
            def readinto(self, b):
                n = min(len(b), self.left, 1 << 20)
                if n == 0: return 0
                b[:n] = os.urandom(n); self.left -= n; return n
        tf.addfile(ti, io.BufferedReader(R(), 1 << 20))
PY
size=$(stat -c %s "$work/big.tar")

VEGA_DATA_DIR="$work/data" VEGA_LISTEN_ADDR="127.0.0.1:$port" VEGA_LOG_LEVEL=warn "$bin" serve >"$work/log" 2>&1 &
pid=$!
until curl -sf "$base/v1/readyz" >/dev/null; do sleep 0.05; done
tok=$(curl -sf -XPOST "$base/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"debug@example.com","password":"vega-debug-password"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
prj=$(curl -sf -XPOST "$base/v1/projects" -H "authorization: Bearer $tok" -H 'content-type: application/json' -d '{"name":"bench"}' \
  | python3 -c 'import sys,json;print(json.load(sys.stdin)["id"])')
hwm() { awk '/VmHWM/ {print $2}' "/proc/$pid/status"; }
before=$(hwm)
start=$(date +%s%N)
repo=$(curl -sf -XPOST "$base/v1/projects/$prj/repositories" -H "authorization: Bearer $tok" -F "archive=@$work/big.tar" -F name=big \
  | python3 -c 'import sys,json;print(json.load(sys.stdin)["id"])')
upload_ms=$(( ($(date +%s%N) - start) / 1000000 ))
after_upload=$(hwm)
while :; do
  st=$(curl -sf "$base/v1/repositories/$repo" -H "authorization: Bearer $tok" | python3 -c 'import sys,json;print(json.load(sys.stdin)["ingest_status"])')
  [ "$st" = ready ] || [ "$st" = failed ] && break
  sleep 0.2
done
ingest_ms=$(( ($(date +%s%N) - start) / 1000000 ))
after_ingest=$(hwm)
echo "backend: $backend, archive: $(( size / 1048576 )) MiB tar, ingest status: $st"
echo "peak RSS before upload: $(( before / 1024 )) MiB"
echo "peak RSS after upload:  $(( after_upload / 1024 )) MiB (+$(( (after_upload - before) / 1024 )) MiB), upload took ${upload_ms} ms"
echo "peak RSS after ingest:  $(( after_ingest / 1024 )) MiB (+$(( (after_ingest - before) / 1024 )) MiB), upload+ingest took ${ingest_ms} ms"
