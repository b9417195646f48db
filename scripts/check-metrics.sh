#!/usr/bin/env bash
# check-metrics.sh [BASE_URL [SECRET]]: lints the service's /metrics with `promtool check metrics`
# and exits 1 when promtool reports anything at all (an error or a lint warning).
#
#   scripts/check-metrics.sh                                   # starts the built server itself
#   scripts/check-metrics.sh http://127.0.0.1:8000             # a running service
#   scripts/check-metrics.sh http://127.0.0.1:8000 "$WEBHOOK_SECRET"
#
# Before linting it sends a few requests so that labelled series exist: the health probes,
# /stats, /messages, a 404, an unsigned webhook (401) and, when SECRET is given, a signed one
# (which stores one message with an id of its own). Without BASE_URL it runs dist/server.js
# (`npm run build` first) on a free port with a temporary SQLite database, and stops it after.
#
# Needs bash, curl, jq and promtool (Debian package prometheus); openssl when SECRET is given.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${1:-}
SECRET=${2:-}
for tool in curl jq promtool; do
  command -v "$tool" >/dev/null || { echo "check-metrics.sh: $tool is required" >&2; exit 2; }
done

NAME=check-metrics.sh
# shellcheck source=scripts/local-server.sh
source scripts/local-server.sh

[ -n "$BASE" ] || { SECRET=${SECRET:-check-metrics-secret}; start_server "$SECRET"; }
BASE=${BASE%/}

get() { curl -sS -o /dev/null --max-time 10 "$@" || true; }
get "$BASE/health/live"
get "$BASE/health/ready"
get "$BASE/stats"
get "$BASE/messages?limit=1"
get "$BASE/check-metrics-no-such-path"
body='{"message_id":"check-metrics-unsigned","from":"+14155550100","to":"+14155550101","ts":"2025-01-15T10:00:00Z","text":"unsigned"}'
get -X POST -H 'Content-Type: application/json' --data-binary "$body" "$BASE/webhook"
if [ -n "$SECRET" ]; then
  command -v openssl >/dev/null || { echo "check-metrics.sh: openssl is required to sign" >&2; exit 2; }
  body="{\"message_id\":\"check-metrics-$(date +%s)-$$\",\"from\":\"+14155550100\",\"to\":\"+14155550101\",\"ts\":\"2025-01-15T10:00:00Z\",\"text\":\"check\"}"
  sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)
  get -X POST -H 'Content-Type: application/json' -H "X-Signature: $sig" --data-binary "$body" "$BASE/webhook"
fi

curl -sSf --max-time 10 "$BASE/metrics" >"$TMP/metrics" || { echo "FAIL could not fetch $BASE/metrics" >&2; exit 1; }
for series in 'http_requests_total{path="/webhook"' 'http_requests_total{path="unmatched"' \
  'webhook_requests_total{result="invalid_signature"}' 'http_request_duration_seconds_bucket{' \
  'webhook_signature_scheme_total{scheme="standard-webhooks"}'; do
  grep -qF "$series" "$TMP/metrics" || { echo "FAIL /metrics has no $series...} series" >&2; exit 1; }
done

status=0
promtool check metrics <"$TMP/metrics" >"$TMP/promtool" 2>&1 || status=$?
echo "promtool check metrics: exit $status, $(wc -l <"$TMP/metrics") lines checked"
# promtool prints lint problems, sometimes with exit 0: any output counts as a failure
if [ "$status" -ne 0 ] || [ -s "$TMP/promtool" ]; then
  cat "$TMP/promtool"
  echo "FAIL promtool check metrics"
  exit 1
fi
echo "PASS promtool check metrics: no problems"
