#!/bin/sh
# The one definition of how the vega binary is built. `make build-go`, the
# production image (deploy/Dockerfile) and the static-binary test
# (deploy/image_test.go) all run this script, so the flags cannot drift:
#   CGO_ENABLED=0  a static binary: the runtime image has no libc
#   -trimpath      no build-machine paths in the binary
#   -s -w          no symbol table or DWARF (smaller image)
#   -X main.version=$VERSION  what `vega version` and /v1/healthz report
#
# Usage: [VERSION=v1.2.3] [GO=go] scripts/build-vega.sh [output path, default bin/vega]
# Run from the repository root (the Dockerfile does).
set -eu
out=${1:-bin/vega}
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
CGO_ENABLED=0 exec "${GO:-go}" build -trimpath -ldflags "-s -w -X main.version=${version}" -o "$out" ./cmd/vega
