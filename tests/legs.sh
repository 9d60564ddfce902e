#!/usr/bin/env bash
# Run the test legs at once: every test on SQLite and, when WESOG_TEST_DATABASE_URL names a
# server, the `dialect` tests on PostgreSQL. Each leg writes its own log (printed whole when
# both are done, so the two never interleave) and its wall time. Exit non-zero if either failed.
# Usage: tests/legs.sh PYTHON [pytest arguments…]
set -uo pipefail
python=$1; shift
workers=${PYTEST_WORKERS:-2}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

leg() {  # leg NAME ENGINE: run one leg, write its log, its exit code and its wall time
  local name=$1 engine=$2 started=$SECONDS
  shift 2
  "$python" -m pytest --db="$engine" -n "$workers" "$@" >"$logs/$name.log" 2>&1
  echo $? >"$logs/$name.rc"
  echo $((SECONDS - started)) >"$logs/$name.seconds"
}

leg sqlite sqlite "$@" &
if [ -n "${WESOG_TEST_DATABASE_URL:-}" ]; then
  leg postgresql postgresql "$@" &
else
  echo "PostgreSQL leg skipped: WESOG_TEST_DATABASE_URL is not set"
fi
wait

status=0
for name in sqlite postgresql; do
  [ -f "$logs/$name.rc" ] || continue
  echo "=================== $name leg ==================="
  cat "$logs/$name.log"
  [ "$(cat "$logs/$name.rc")" = 0 ] || status=1
done
echo "=================== wall time ==================="
for name in sqlite postgresql; do
  [ -f "$logs/$name.rc" ] || continue
  summary=$(grep -E '(passed|failed|errors?|skipped).* in [0-9.]+s' "$logs/$name.log" | tail -1 | tr -d '=')
  printf '%-10s leg: %4s s, exit %s,%s\n' "$name" "$(cat "$logs/$name.seconds")" \
    "$(cat "$logs/$name.rc")" "$summary"
done
exit $status
