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

NAME=docs-screenshot.sh
# shellcheck source=scripts/local-server.sh
source scripts/local-server.sh

[ -n "$BASE" ] || start_server docs-screenshot
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
