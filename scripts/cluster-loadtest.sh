#!/usr/bin/env bash
# The cluster load test recipe: a local redis-server, the service as WORKERS
# worker processes on it, and `npm run loadtest` against them, with the
# service's memory (every worker and the primary) sampled during the run.
# Everything runs on this machine (127.0.0.1), stops by itself, and is torn
# down on exit, also on Ctrl-C or a failure.
#
#   npm run loadtest:cluster                        # 100,000 sockets, WORKERS=6, ramp 1000/s
#   CONNECTIONS=20000 WORKERS=2 npm run loadtest:cluster
#
# Settings (environment): CONNECTIONS (100000), WORKERS (6), RAMP (1000),
# DURATION (30 s measured once connected), PUBLISH_RATE (0.2 events/s: one
# broadcast to every socket each 5 s, so each is measured on its own), PORT
# (8400), REDIS_PORT (6400), OUT (bench/results/cluster-<time>.json),
# SERVICE_NODE_OPTIONS (Node options for the service only, e.g.
# --max-semi-space-size=4: a smaller young generation per worker, see
# docs/operations.md "Memory per worker").
# The service gets rate limits off, statistics every 60 s, and the longest
# handshake wait for Redis (REDIS_ACQUIRE_TIMEOUT_MS=1800): the clients share
# the machine's cores with it, and with the default 1000 ms 2 of 100,000
# handshakes were refused (1013, retryable) in our run.
# It needs redis-server, a built tree (`npm run build`), and an open-file
# limit of at least CONNECTIONS / WORKERS + 1000 per process.
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-100000}
WORKERS=${WORKERS:-6}
RAMP=${RAMP:-1000}
DURATION=${DURATION:-30}
PUBLISH_RATE=${PUBLISH_RATE:-0.2}
PORT=${PORT:-8400}
REDIS_PORT=${REDIS_PORT:-6400}
OUT=${OUT:-bench/results/cluster-$(date -u +%Y%m%dT%H%M%SZ).json}

case "${1:-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  '') ;;
  *) echo "loadtest:cluster: takes no arguments (settings are environment variables; --help lists them), got \"$1\"" >&2; exit 2 ;;
esac
for name in CONNECTIONS WORKERS RAMP DURATION PORT REDIS_PORT; do
  [[ "${!name}" =~ ^[0-9]+$ ]] || { echo "loadtest:cluster: $name must be a whole number, got \"${!name}\"" >&2; exit 2; }
done
[[ "$PUBLISH_RATE" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "loadtest:cluster: PUBLISH_RATE must be a number of events per second, got \"$PUBLISH_RATE\"" >&2; exit 2; }
command -v redis-server >/dev/null || { echo 'loadtest:cluster: redis-server is not installed: apt-get install redis-server' >&2; exit 2; }
[ -f dist/src/server.js ] || { echo 'loadtest:cluster: no build: run npm run build first' >&2; exit 2; }
per_worker=$(( CONNECTIONS / WORKERS + 1000 ))
if [ "$(ulimit -n)" -lt "$per_worker" ]; then
  echo "loadtest:cluster: each worker would hold ~$per_worker sockets but the open-file limit is $(ulimit -n): raise WORKERS or the limit" >&2
  exit 2
fi

mkdir -p "$(dirname "$OUT")"
work=$(mktemp -d)
redis_pid=''
service_pid=''
sampler_pid=''
cleanup () {
  # The service's log and the memory samples stay next to the report.
  [ -f "$work/service.log" ] && cp "$work/service.log" "${OUT%.json}-service.log" || true
  [ -f "$work/rss.log" ] && cp "$work/rss.log" "${OUT%.json}-rss.log" || true
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null || true
  [ -n "$service_pid" ] && kill -TERM "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null || true
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --maxclients 10000 >"$work/redis.log" 2>&1 &
redis_pid=$!
until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do sleep 0.1; done

secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export JWT_SECRET="$secret"
NODE_OPTIONS="${SERVICE_NODE_OPTIONS:-${NODE_OPTIONS:-}}" NODE_ENV=production HOST=127.0.0.1 PORT="$PORT" WORKERS="$WORKERS" REDIS_URL="redis://127.0.0.1:$REDIS_PORT" \
  LOG_LEVEL=warn STATS_INTERVAL_MS=60000 \
  REDIS_ACQUIRE_TIMEOUT_MS="${REDIS_ACQUIRE_TIMEOUT_MS:-1800}" \
  WS_CONNECT_RATE_LIMIT_PER_MINUTE=0 HTTP_RATE_LIMIT_PER_MINUTE=0 MAX_PENDING_PER_IP=1024 \
  node dist/src/server.js >"$work/service.log" 2>&1 &
service_pid=$!
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do
  kill -0 "$service_pid" 2>/dev/null || { echo 'loadtest:cluster: the service did not start:' >&2; cat "$work/service.log" >&2; exit 1; }
  sleep 0.2
done

# RSS of the primary and every worker, in KiB, every second; and their PSS,
# which counts the pages they share (the node binary, ~42 MiB each) once
# rather than once per process.
rss () { ps -o rss= --pid "$service_pid" --ppid "$service_pid" | awk '{ s += $1 } END { print s }'; }
pss () {
  for p in $(ps -o pid= --pid "$service_pid" --ppid "$service_pid"); do
    awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || true
  done | awk '{ s += $1 } END { print s + 0 }'
}
idle_rss=$(rss)
idle_pss=$(pss)
( while sleep 1; do echo "$(date +%s) $(rss) $(pss)"; done ) >"$work/rss.log" &
sampler_pid=$!

token=$(npm run -s token -- --user operator --roles admin --ttl 1h --secret "$secret")
status () { curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT/api/ws/status"; }

echo "loadtest:cluster: $CONNECTIONS sockets on WORKERS=$WORKERS (redis 127.0.0.1:$REDIS_PORT), ramp $RAMP/s, $DURATION s measured${SERVICE_NODE_OPTIONS:+, service NODE_OPTIONS=$SERVICE_NODE_OPTIONS}"
result=0
npm run -s loadtest -- --url "ws://127.0.0.1:$PORT/api/ws/statistics" --secret "$secret" \
  --connections "$CONNECTIONS" --ramp "$RAMP" --duration "$DURATION" --publish-rate "$PUBLISH_RATE" --out "$OUT" || result=$?

peak_rss=$(sort -k2 -n "$work/rss.log" | tail -n 1 | cut -d' ' -f2)
peak_pss=$(sort -k3 -n "$work/rss.log" | tail -n 1 | cut -d' ' -f3)
# Every socket closed: the counts must come back to 0.
after=''
for _ in $(seq 1 100); do
  after=$(status)
  grep -q '"total_connections":0,' <<<"$after" && break
  sleep 0.3
done
timeouts=$(grep -c -E 'timed out|unreachable' "$work/service.log" || true)

echo
echo "service memory: idle $(( idle_rss / 1024 )) MiB, peak $(( peak_rss / 1024 )) MiB (primary and $WORKERS workers)"
echo "  per connection: $(( (peak_rss - idle_rss) * 1024 / CONNECTIONS )) bytes above idle, $(( peak_rss * 1024 / CONNECTIONS )) bytes in all"
echo "  counting shared pages once (PSS): idle $(( idle_pss / 1024 )) MiB, peak $(( peak_pss / 1024 )) MiB, $(( peak_pss * 1024 / CONNECTIONS )) bytes per connection in all"
echo "status after the clients left: $after"
echo "Redis timeouts or outages in the service log: $timeouts"
if ! grep -q '"total_connections":0,' <<<"$after"; then echo 'loadtest:cluster: FAIL (the counts did not return to 0)'; result=1; fi
if [ "$timeouts" != 0 ]; then grep -E 'timed out|unreachable' "$work/service.log" | head -5; echo 'loadtest:cluster: FAIL (Redis timed out)'; result=1; fi
exit "$result"
