#!/usr/bin/env bash
# test.sh [FILE...]: runs the node:test suites through tsx (all of test/**/*.test.ts by default)
# and fails when a test fails, when no test ran at all, or, with CI=true, when any test was
# skipped. It ends by saying how many tests ran and how many were skipped, naming each skipped
# one with its reason.
# With TEST_DATABASE_URL (an administrator's URL, e.g. postgres://postgres@127.0.0.1:5432/postgres)
# every store suite also runs on PostgreSQL, in throwaway databases; an unreachable server fails.
# Without it the PostgreSQL suites are skipped, saying so (and CI=true then fails).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' | sort); fi
[ ${#files[@]} -gt 0 ] || { echo "test.sh: no test files found" >&2; exit 1; }

# Every test has a time limit (--test-timeout), so that a hang fails the run instead of stalling
# it. Node 20's runner applies the limit to each test file as a whole (the process running the
# file is cancelled), not only to each test in it, so it must exceed the slowest file rather than
# the slowest test (10 to 50 s): test/routes/webhook.test.ts, which runs every test once per
# store, took 2.5 minutes on SQLite and PostgreSQL together on a 2-core machine already busy with
# other test runs, and a benchmark beside it can make that several times longer. Within a file
# the harness bounds its own waits (a server start, a lock holder, a load waiting for
# acknowledgements), so most hangs fail much sooner.
TEST_TIMEOUT_MS=${TEST_TIMEOUT_MS:-600000}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
node --import tsx --test --test-reporter=spec --test-timeout="$TEST_TIMEOUT_MS" "${files[@]}" 2>&1 |
  tee "$log" || status=$?

count() { sed -n "s/^ℹ $1 \([0-9]*\)\$/\1/p" "$log" | tail -n 1; }
ran=$(count tests)
# The spec reporter marks each skipped test, and each skipped suite (whose tests then neither run
# nor count among the tests), with "﹣ name (duration) # reason"; node's own "skipped" figure
# leaves the suites out, so the lines are what is counted.
skips=$(grep -E '^ *﹣ .*\) # ' "$log" || true)
skipped=$(printf '%s' "$skips" | grep -c . || true)
if [ -n "$skips" ]; then printf '%s\n' "$skips" | sed 's/^ */test.sh: skipped: /'; fi
echo "test.sh: ${ran:-0} tests, $skipped skipped (a skipped suite counts once: its tests are not among the tests)"
if [ -z "$ran" ] || [ "$ran" -eq 0 ]; then
  echo "test.sh: no test ran" >&2
  exit 1
fi
if [ "$skipped" -gt 0 ] && [ "${CI:-}" = true ]; then
  echo "test.sh: CI=true: nothing may be skipped in CI" >&2
  exit 1
fi
exit "$status"
