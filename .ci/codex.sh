#!/usr/bin/env bash
# Installs the pinned Codex CLI used by the codex engine integration tests
# into .tools/codex (≈424 MB, so it is skipped when already present) and
# prints the export line for VEGA_TEST_CODEX_BIN.
#
# Usage:  eval "$(.ci/codex.sh)"   # installs if needed, exports VEGA_TEST_CODEX_BIN
set -euo pipefail

CODEX_VERSION="0.171.0"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$root/.tools/codex"
bin="$prefix/node_modules/.bin/codex"

installed_version() {
  node -e 'try{console.log(require(process.argv[1]).version)}catch(e){}' \
    "$prefix/node_modules/@openai/codex/package.json" 2>/dev/null || true
}

if [[ ! -x "$bin" || "$(installed_version)" != "$CODEX_VERSION" ]]; then
  echo "installing @openai/codex@$CODEX_VERSION into $prefix" >&2
  mkdir -p "$prefix"
  npm install --no-audit --no-fund --prefix "$prefix" "@openai/codex@$CODEX_VERSION" >&2
fi

"$bin" --version >&2
echo "export VEGA_TEST_CODEX_BIN=$bin"
