#!/bin/bash
# CPU spent per request by each of our processes during a wrk run (rough; RabbitMQ and
# PostgreSQL are not counted). Needs the stack started by `imageboard up` with the same
# environment (IMAGEBOARD_VAR says where the pid files are).
#
#   scripts/cpu_per_request.sh http://127.0.0.1:8000/api/posts/ [connections] [duration]
set -eu
cd "$(dirname "$0")/.."
URL=$1; CONNECTIONS=${2:-32}; DURATION=${3:-10s}
RUN_DIR=${IMAGEBOARD_VAR:-var}/run
TICK_MS=$((1000 / $(getconf CLK_TCK)))

cpu_ticks() {  # utime + stime of every process in process group $1
  local total=0 pid
  for pid in $(ps -o pid= -g "$1"); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

declare -A GROUP BEFORE
for file in "$RUN_DIR"/*.pid; do
  name=$(basename "$file" .pid); GROUP[$name]=$(cat "$file"); BEFORE[$name]=$(cpu_ticks "${GROUP[$name]}")
done
RESULT=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -s bench/wrk/report.lua "$URL" | grep '^RESULT')
echo "$URL  $RESULT"
REQUESTS=$(echo "$RESULT" | sed 's/.*requests=\([0-9]*\).*/\1/')
for name in "${!GROUP[@]}"; do
  used=$(( ($(cpu_ticks "${GROUP[$name]}") - BEFORE[$name]) * TICK_MS ))
  awk -v n="$name" -v u="$used" -v r="$REQUESTS" 'BEGIN { printf "  %-14s %6d ms CPU  %.2f ms/request\n", n, u, u / r }'
done
