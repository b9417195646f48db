#!/usr/bin/env bash
# docs-screenshot.sh [BASE_URL] [OUT.png]: takes a screenshot of the API docs page (BASE_URL/docs,
# the Swagger UI) with headless Chromium, 1280x2000 pixels, to OUT.png (default /tmp/docs.png).
#
#   scripts/docs-screenshot.sh                                  # starts the built server itself
#   scripts/docs-screenshot.sh http://127.0.0.1:8000 /tmp/docs.png
#
# Without BASE_URL (or with an empty one) it runs dist/server.js (`npm run build` first) on a
# free port with a temporary SQLite database, and stops it after.
#
# Needs bash, curl, jq and Debian's chromium (CHROMIUM=/path/to/chromium to use another one).
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${1:-}
OUT=${2:-/tmp/docs.png}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "docs-screenshot.sh: $CHROMIUM not found (apt-get install chromium)" >&2; exit 2; }
for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "docs-screenshot.sh: $tool is required" >&2; exit 2; }
done

TMP=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# start_server: runs the built server on a free port with a temporary database; sets BASE
start_server() {
  [ -f dist/server.js ] || { echo "docs-screenshot.sh: dist/server.js missing: npm run build" >&2; exit 2; }
  WEBHOOK_SECRET=docs-screenshot DATABASE_URL="sqlite:///$TMP/app.db" HOST=127.0.0.1 PORT=0 \
    LOG_LEVEL=INFO node dist/server.js >"$TMP/server.log" 2>&1 &
  SERVER_PID=$!
  local port=''
  for _ in $(seq 100); do
    port=$(jq -r 'select(.msg == "started") | .port' "$TMP/server.log" 2>/dev/null || true)
    [ -n "$port" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.2
  done
  [ -n "$port" ] || { echo "docs-screenshot.sh: the server did not start:" >&2; cat "$TMP/server.log" >&2; exit 1; }
  BASE=http://127.0.0.1:$port
}

[ -n "$BASE" ] || start_server
BASE=${BASE%/}
curl -sSf -o /dev/null --max-time 10 "$BASE/docs/json" ||
  { echo "docs-screenshot.sh: $BASE/docs/json does not answer" >&2; exit 1; }

mkdir -p "$(dirname "$OUT")"
rm -f "$OUT"
# a fresh profile, no network of its own; virtual time lets the UI fetch the document and render
"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-dev-shm-usage --hide-scrollbars --no-first-run --user-data-dir="$TMP/profile" \
  --window-size=1280,2000 --virtual-time-budget=15000 --screenshot="$OUT" "$BASE/docs" \
  >"$TMP/chromium.log" 2>&1 || true
if [ ! -s "$OUT" ]; then
  echo "docs-screenshot.sh: no screenshot was written; chromium said:" >&2
  tail -n 20 "$TMP/chromium.log" >&2
  exit 1
fi
echo "wrote $OUT ($(wc -c <"$OUT") bytes) from $BASE/docs"
