#!/usr/bin/env bash
# test.sh [FILE...]: runs the node:test suites through tsx (all of test/**/*.test.ts by default)
# and fails when a test fails or when no test ran at all.
# With TEST_DATABASE_URL (an administrator's URL, e.g. postgres://postgres@127.0.0.1:5432/postgres)
# every store suite also runs on PostgreSQL, in throwaway databases; an unreachable server fails.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' | sort); fi
[ ${#files[@]} -gt 0 ] || { echo "test.sh: no test files found" >&2; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
node --import tsx --test --test-reporter=spec "${files[@]}" 2>&1 | tee "$log" || status=$?

ran=$(sed -n 's/^ℹ tests \([0-9]*\)$/\1/p' "$log" | tail -n 1)
if [ -z "$ran" ] || [ "$ran" -eq 0 ]; then
  echo "test.sh: no test ran" >&2
  exit 1
fi
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  echo "PostgreSQL tests skipped: set TEST_DATABASE_URL=postgres://user@host:5432/postgres to run them"
fi
exit "$status"
