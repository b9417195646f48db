#!/usr/bin/env bash
# smoke.sh BASE_URL SECRET: replays the evaluation flow against a running service and prints
# one PASS or FAIL line per check, then "N passed, N failed"; exits 1 if any check failed.
#
#   scripts/smoke.sh http://127.0.0.1:8000 "$WEBHOOK_SECRET"
#
# Needs bash, curl, openssl and jq. SECRET must be the service's WEBHOOK_SECRET; when the service
# has a READ_TOKEN, export READ_TOKEN too (it is sent as a bearer token to /messages and /stats).
#
# It can be rerun against the same database: every run posts messages with ids and senders of
# its own, and compares /messages, /stats and /metrics with what this run itself created. The
# /stats and /metrics deltas assume nobody else writes to the service during the run.
set -euo pipefail

if [ $# -ne 2 ]; then
  sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
BASE=${1%/}
SECRET=$2
[ -n "$SECRET" ] || { echo "smoke.sh: SECRET is empty" >&2; exit 2; }
for tool in curl openssl jq; do
  command -v "$tool" >/dev/null || { echo "smoke.sh: $tool is required" >&2; exit 2; }
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

passed=0
failed=0
STATUS=000
BODY=''
HEADERS=''

# req METHOD PATH [curl arguments...]: sets STATUS, BODY and HEADERS
req() {
  local method=$1 path=$2
  shift 2
  local auth=()
  case $path in
    /messages* | /stats*) [ -z "${READ_TOKEN:-}" ] || auth=(-H "Authorization: Bearer $READ_TOKEN") ;;
  esac
  STATUS=$(curl -sS -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' --max-time 15 \
    -X "$method" "${auth[@]}" "$@" "$BASE$path" 2>"$TMP/curl-error") || STATUS=000
  BODY=$(cat "$TMP/body" 2>/dev/null || true)
  HEADERS=$(tr -d '\r' <"$TMP/headers" 2>/dev/null || true)
}

# check NAME COMMAND...: PASS when COMMAND succeeds; a FAIL shows the last response
check() {
  local name=$1
  shift
  if "$@" >/dev/null 2>&1; then
    echo "PASS $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name (status $STATUS, body ${BODY:0:300})"
    [ "$STATUS" != 000 ] || echo "     curl: $(cat "$TMP/curl-error")"
    failed=$((failed + 1))
  fi
}

status_is() { [ "$STATUS" = "$1" ]; }
# body_is [jq arguments...] JQ-FILTER: the last response body is JSON and the filter is true
body_is() { [ -n "$BODY" ] && jq -e "$@" <<<"$BODY"; }
# ok_json STATUS [jq arguments...] JQ-FILTER
ok_json() {
  local want=$1
  shift
  status_is "$want" && body_is "$@"
}

sign() { openssl dgst -sha256 -hmac "$SECRET" -r <"$1" | cut -d' ' -f1; }

# post FILE [SIGNATURE|-] [extra curl arguments...]: POST /webhook with the file's exact bytes as
# $CONTENT_TYPE, signed with SECRET unless a signature is given ("-" sends none)
CONTENT_TYPE=application/json
post() {
  local file=$1 sig=${2:-}
  shift $(($# < 2 ? $# : 2))
  [ -n "$sig" ] || sig=$(sign "$file")
  local args=(-H "Content-Type: $CONTENT_TYPE" --data-binary "@$file")
  [ "$sig" = - ] || args+=(-H "X-Signature: $sig")
  req POST /webhook "${args[@]}" "$@"
}

# messages QUERY...: GET /messages with each argument URL-encoded (name=value)
messages() {
  local args=()
  for pair in "$@"; do args+=(--data-urlencode "$pair"); done
  req GET /messages -G "${args[@]}"
}

# metric NAME{LABELS}: the sample's value in METRICS, or empty
metric() { awk -v name="$1" '$1 == name { print $2 }' <<<"$METRICS"; }
# grew NAME{LABELS} BY: the sample grew by exactly BY since BEFORE_METRICS
grew() {
  local before after
  before=$(awk -v name="$1" '$1 == name { print $2 }' <<<"$BEFORE_METRICS")
  after=$(metric "$1")
  [ -n "$after" ] && awk -v b="${before:-0}" -v a="$after" -v d="$2" 'BEGIN { exit !(a - b == d) }'
}

# wait up to 30 s for the service to answer at all
for _ in $(seq 60); do
  req GET /health/live
  [ "$STATUS" = 000 ] || break
  sleep 0.5
done

# --- health --------------------------------------------------------------------------------
req GET /health/live
check 'GET /health/live is 200 {"status":"ok"}' ok_json 200 '. == {"status": "ok"}'
check 'GET /health/live sends an X-Request-ID' grep -qi '^x-request-id: .' <<<"$HEADERS"
req GET /health/ready
check 'GET /health/ready is 200 {"status":"ok"}' ok_json 200 '. == {"status": "ok"}'

# --- state before this run -------------------------------------------------------------------
req GET /stats
BEFORE_STATS=$BODY
req GET /metrics
BEFORE_METRICS=$BODY

# this run's ids and senders: E.164, unique per run
run=$(date +%s)$(printf '%05d' $((RANDOM % 100000)))
run=${run: -11}
S1="+1${run}1"
S2="+1${run}2"
ID="smoke-$run"

msg() { # FILE ID FROM TS TEXT|null
  if [ "$5" = null ]; then
    jq -cnj --arg id "$2" --arg from "$3" --arg ts "$4" \
      '{message_id: $id, from: $from, to: "+14155550100", ts: $ts, text: null}' >"$1"
  else
    jq -cnj --arg id "$2" --arg from "$3" --arg ts "$4" --arg text "$5" \
      '{message_id: $id, from: $from, to: "+14155550100", ts: $ts, text: $text}' >"$1"
  fi
}
msg "$TMP/m1" "$ID-1" "$S1" 2025-01-15T10:00:00Z 'Hello from the smoke test'
msg "$TMP/m2" "$ID-2" "$S1" 2025-01-15T10:00:00.5Z 'Grüße aus der ÉCOLE 🚀'
msg "$TMP/m3" "$ID-3" "$S2" 2025-01-10T09:00:00Z null
msg "$TMP/m4" "$ID-4" "$S1" 2025-01-20T12:00:00Z 'Σίσυφος: 100% done_'
msg "$TMP/m1-changed" "$ID-1" "$S1" 2025-01-15T10:00:00Z 'CHANGED on redelivery'

# --- webhook: signatures ---------------------------------------------------------------------
post "$TMP/m1" -
check 'unsigned webhook is 401 {"detail":"invalid signature"}' \
  ok_json 401 '. == {"detail": "invalid signature"}'
post "$TMP/m1" "$(printf '0%.0s' $(seq 64))"
check 'badly signed webhook is 401 {"detail":"invalid signature"}' \
  ok_json 401 '. == {"detail": "invalid signature"}'
post "$TMP/m1" "$(sign "$TMP/m2")"
check 'webhook signed over other bytes is 401' ok_json 401 '. == {"detail": "invalid signature"}'
messages "from=$S1"
check 'a refused webhook stored nothing' ok_json 200 '.total == 0'

# --- webhook: store, duplicate, more messages ------------------------------------------------
post "$TMP/m1"
check 'valid webhook is 200 {"status":"ok"}' ok_json 200 '. == {"status": "ok"}'
post "$TMP/m1"
check 'duplicate webhook is 200 {"status":"ok"}' ok_json 200 '. == {"status": "ok"}'
post "$TMP/m1-changed"
check 'duplicate id with another body is 200' ok_json 200 '. == {"status": "ok"}'
messages "from=$S1"
check 'duplicates added no row and changed nothing' \
  ok_json 200 '.total == 1 and .data[0].text == "Hello from the smoke test"'

post "$TMP/m2" "sha256=$(sign "$TMP/m2" | tr 'a-f' 'A-F')"
check 'webhook signed as sha256=<UPPERCASE HEX> is 200' ok_json 200 '. == {"status": "ok"}'
post "$TMP/m3"
check 'webhook with text null is 200' ok_json 200 '. == {"status": "ok"}'
post "$TMP/m4" '' -H "X-Request-ID: $ID-trace"
check 'webhook with non-ASCII text is 200' ok_json 200 '. == {"status": "ok"}'
check 'an incoming X-Request-ID is echoed' grep -qx "x-request-id: $ID-trace" <<<"$HEADERS"

# --- webhook: errors -------------------------------------------------------------------------
printf '{"message_id":"%s-bad","from":"12345","to":"+14155550100","ts":"2025-02-30T00:00:00Z"}' \
  "$ID" >"$TMP/bad"
post "$TMP/bad"
check 'invalid message is 422 naming from and ts' \
  ok_json 422 'any(.detail[]; .loc == ["body", "from"]) and any(.detail[]; .loc == ["body", "ts"])'
CONTENT_TYPE=text/plain post "$TMP/m1"
check 'webhook as text/plain is 415' ok_json 415 '.detail | type == "string"'
req GET /webhook
check 'GET /webhook is 405 with an Allow header' \
  eval 'status_is 405 && grep -qi "^allow: .*POST" <<<"$HEADERS"'

# --- /messages -------------------------------------------------------------------------------
ids() { jq -c --arg p "$ID-" '[.data[].message_id | ltrimstr($p)]' <<<"$BODY"; }
ids_are() { [ "$(ids)" = "$1" ]; }

req GET "/messages?from=%2B${S1#+}"
check '/messages?from=%2B… finds the run'"'"'s 3 messages in ts order' \
  eval 'status_is 200 && body_is ".total == 3 and .limit == 50 and .offset == 0" && ids_are "[\"1\",\"2\",\"4\"]"'
req GET "/messages?from=+${S1#+}"
check '/messages?from=+… (unencoded +) finds the same 3' \
  eval 'status_is 200 && body_is ".total == 3" && ids_are "[\"1\",\"2\",\"4\"]"'
messages "from=$S1" limit=2 offset=1
check '/messages limit=2 offset=1 is the 2nd and 3rd, total 3' \
  eval 'status_is 200 && body_is ".total == 3 and .limit == 2 and .offset == 1" && ids_are "[\"2\",\"4\"]"'
messages "from=$S1" limit=1 offset=5
check '/messages past the end is empty with the full total' \
  ok_json 200 '.data == [] and .total == 3 and .offset == 5'
messages "from=$S1" since=2025-01-15T10:00:00.5Z
check '/messages since is inclusive and compares instants' \
  eval 'status_is 200 && body_is ".total == 2" && ids_are "[\"2\",\"4\"]"'
messages "from=$S1" q=hello
check '/messages q=hello (case-insensitive)' \
  eval 'status_is 200 && body_is ".total == 1" && ids_are "[\"1\"]"'
messages "from=$S1" 'q=école'
check '/messages q=école finds ÉCOLE' \
  eval 'status_is 200 && body_is ".total == 1 and .data[0].text == \"Grüße aus der ÉCOLE 🚀\"" && ids_are "[\"2\"]"'
messages "from=$S1" 'q=ΣΊΣΥΦ'
check '/messages q=ΣΊΣΥΦ finds Σίσυφος' eval 'status_is 200 && ids_are "[\"4\"]"'
messages "from=$S1" 'q=100%'
check '/messages q=100% treats % literally' eval 'status_is 200 && ids_are "[\"4\"]"'
messages "from=$S1" q=changed
check '/messages q=changed finds nothing (first version kept)' ok_json 200 '.total == 0'
messages "from=$S2"
check '/messages from the second sender: one message, text null' \
  ok_json 200 --arg id "$ID-3" '.total == 1 and .data[0].message_id == $id and .data[0].text == null'
messages limit=0
check '/messages?limit=0 is 422 at ["query","limit"]' ok_json 422 '.detail[0].loc == ["query", "limit"]'
messages limit=101
check '/messages?limit=101 is 422' ok_json 422 '.detail[0].loc == ["query", "limit"]'
req GET '/messages?offset=1&offset=2'
check '/messages with offset twice is 422' ok_json 422 '.detail[0].loc == ["query", "offset"]'
messages since=2025-01-15
check '/messages?since=<not an instant> is 422' ok_json 422 '.detail[0].loc == ["query", "since"]'

# --- /stats ----------------------------------------------------------------------------------
req GET /stats
STATS=$BODY
check '/stats grew by this run: 4 messages, 2 senders' \
  ok_json 200 --argjson b "$BEFORE_STATS" \
  '.total_messages - $b.total_messages == 4 and .senders_count - $b.senders_count == 2'
check '/stats messages_per_sender: at most 10, count desc then from asc, this run counted right' \
  ok_json 200 --arg s1 "$S1" --arg s2 "$S2" '
    .messages_per_sender as $l
    | ($l | length) <= 10
      and ($l == ($l | sort_by([-.count, .from])))
      and all($l[]; if .from == $s1 then .count == 3 elif .from == $s2 then .count == 1 else true end)'
messages limit=1
FIRST=$BODY
TOTAL=$(jq -r '.total // 0' <<<"$FIRST" 2>/dev/null || true)
[[ $TOTAL =~ ^[1-9][0-9]*$ ]] || TOTAL=1
messages limit=1 "offset=$((TOTAL - 1))"
LAST=$BODY
BODY=$STATS
check '/stats first/last_message_ts are the ends of /messages order, total matches' \
  body_is --argjson first "$FIRST" --argjson last "$LAST" '
    .total_messages == $first.total
    and .first_message_ts == $first.data[0].ts and .last_message_ts == $last.data[0].ts'

# --- /metrics --------------------------------------------------------------------------------
req GET /does-not-exist-$run
check 'an unknown path is 404 {"detail":"Not Found"}' ok_json 404 '.detail == "Not Found"'
req GET /metrics
METRICS=$BODY
check '/metrics is 200 Prometheus text' \
  eval 'status_is 200 && grep -qi "^content-type: text/plain" <<<"$HEADERS"'
check '/metrics webhook_requests_total{result="created"} grew by 4' \
  grew 'webhook_requests_total{result="created"}' 4
check '/metrics webhook_requests_total{result="duplicate"} grew by 2' \
  grew 'webhook_requests_total{result="duplicate"}' 2
check '/metrics webhook_requests_total{result="invalid_signature"} grew by 3' \
  grew 'webhook_requests_total{result="invalid_signature"}' 3
check '/metrics webhook_requests_total{result="validation_error"} grew by 1' \
  grew 'webhook_requests_total{result="validation_error"}' 1
check '/metrics http_requests_total{path="/webhook",status="200"} grew by 6' \
  grew 'http_requests_total{path="/webhook",status="200"}' 6
check '/metrics http_requests_total counts unknown paths as path="unmatched"' \
  eval '[ -n "$(metric "http_requests_total{path=\"unmatched\",status=\"404\"}")" ] && ! grep -q does-not-exist <<<"$METRICS"'
check '/metrics http_request_duration_seconds has buckets 0.0005 to 10, _sum and _count' \
  eval '[ -n "$(metric "http_request_duration_seconds_bucket{le=\"0.0005\",path=\"/webhook\"}")" ] &&
        [ -n "$(metric "http_request_duration_seconds_bucket{le=\"10\",path=\"/webhook\"}")" ] &&
        [ -n "$(metric "http_request_duration_seconds_sum{path=\"/webhook\"}")" ] &&
        [ -n "$(metric "http_request_duration_seconds_count{path=\"/webhook\"}")" ]'
check '/metrics has the process metrics' grep -q '^process_resident_memory_bytes ' <<<"$METRICS"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
