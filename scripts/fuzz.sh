#!/usr/bin/env bash
# Runs every Go fuzz target (each `func Fuzz…` in a *_test.go) for FUZZTIME
# (default 10s) each, so the targets keep finding new inputs instead of only
# replaying their seeds. `make fuzz` and .ci/run call it.
#
# When a target fails, go test has written the failing input under the
# package's testdata/fuzz/<Target>/. Fix the bug and commit that file: plain
# `go test` replays the committed corpus as regression cases from then on,
# so the corpus grows with every crasher ever found.
set -uo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"
failed=()
while IFS= read -r file; do
  pkg="./$(dirname "${file#./}")"
  for target in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file"); do
    echo "== fuzz $pkg $target ($fuzztime)"
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"; then
      failed+=("$pkg $target")
    fi
  done
done < <(grep -rl --include='*_test.go' --exclude-dir=node_modules --exclude-dir=.git '^func Fuzz' . | sort)

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  echo "The failing inputs are under each package's testdata/fuzz/<Target>/ (git status shows them):" >&2
  git status --short -- '*testdata/fuzz/*' >&2 || true
  echo "Fix the bug, then commit those files so go test replays them." >&2
  exit 1
fi
