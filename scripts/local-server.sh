# local-server.sh: sourced by scripts that can start the built server themselves.
#   NAME=<script name for messages>; source scripts/local-server.sh; start_server SECRET
# Makes $TMP (removed on exit, with the server stopped); start_server runs dist/server.js on a
# free port of 127.0.0.1 with a temporary SQLite database and the secret given, and sets BASE.

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

start_server() {
  [ -f dist/server.js ] || { echo "$NAME: dist/server.js missing: npm run build" >&2; exit 2; }
  WEBHOOK_SECRET=$1 DATABASE_URL="sqlite:///$TMP/app.db" HOST=127.0.0.1 PORT=0 LOG_LEVEL=INFO \
    node dist/server.js >"$TMP/server.log" 2>&1 &
  SERVER_PID=$!
  local port=''
  for _ in $(seq 100); do
    port=$(jq -r 'select(.msg == "started") | .port' "$TMP/server.log" 2>/dev/null || true)
    [ -n "$port" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.2
  done
  [ -n "$port" ] || { echo "$NAME: the server did not start:" >&2; cat "$TMP/server.log" >&2; exit 1; }
  BASE=http://127.0.0.1:$port
}
