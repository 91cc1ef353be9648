#!/bin/sh
# Read-path benchmark of the posts and comments endpoints with wrk (not a timed test).
#
#   . your-instance-env.sh            # DB_PREFIX, AMQP_URI (own vhost), GATEWAY_BIND, IMAGEBOARD_VAR, MEDIA_ROOT
#   bench/posts.sh                    # seeds 5,000 posts + 20,000 comments, starts the stack, runs wrk
#
# POSTS / COMMENTS / CONNECTIONS / DURATION / THREADS override the defaults; SEED=0 keeps the
# data already in the databases; STOP=1 stops the stack afterwards (`imageboard down --keep-infra`).
# Each line of output: the URL, then wrk's RESULT line (bench/wrk/report.lua).
set -eu
cd "$(dirname "$0")/.."
POSTS=${POSTS:-5000}
COMMENTS=${COMMENTS:-20000}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
DURATION=${DURATION:-15s}
PY=.venv/bin/python

if [ "${SEED:-1}" = 1 ]; then
  SEEDED=$($PY -m bench.seed_sql --posts "$POSTS" --comments "$COMMENTS" --reset 2>/dev/null)
  echo "seeded: $SEEDED"
else
  SEEDED='{"hot_post_id": 1}'
fi
HOT=$(echo "$SEEDED" | $PY -c 'import json,sys; print(json.load(sys.stdin)["hot_post_id"])')
.venv/bin/imageboard up --no-infra >/dev/null 2>&1 || .venv/bin/imageboard up >/dev/null
BASE="http://${GATEWAY_BIND:-127.0.0.1:8000}"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  wrk -t$THREADS -c$CONNECTIONS -d$DURATION  base: $BASE"

run() {
  curl -sf -o /dev/null "$BASE$1"   # fails the script if the endpoint does not answer 200
  printf '%s  ' "$1"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s bench/wrk/report.lua "$BASE$1" | grep '^RESULT'
}
run "/api/posts/"
run "/api/posts/?page=200"
run "/api/posts/?ordering=-likes_count"
run "/api/posts/$HOT/"
run "/api/comments/?post_id=$HOT"

if [ "${STOP:-0}" = 1 ]; then .venv/bin/imageboard down --keep-infra >/dev/null; fi
