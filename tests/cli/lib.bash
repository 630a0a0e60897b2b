# Shared helpers for the CLI tests (sourced): expect_ok / expect_fail with message checks.
# Every failure of a CLI command must exit non-zero, print "error: ..." and a "HINT: ..." line, and never
# crash (exit codes >= 128 are signals: abort, segfault).
set -euo pipefail
BIN=$1
TESTS=$2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FAILS=0
PASSES=0

# expect_ok NAME CMD... : the command must exit 0; its stdout is left in $WORK/out
expect_ok() {
  local name=$1; shift
  if "$@" >"$WORK/out" 2>"$WORK/err"; then PASSES=$((PASSES + 1)); return 0; fi
  echo "FAIL [$name]: expected success, got exit $?: $*"; sed 's/^/  | /' "$WORK/err"; FAILS=$((FAILS + 1))
}

# expect_fail NAME SUBSTRING CMD... : non-zero exit (not a signal), "error:" + SUBSTRING on stderr, a HINT line
expect_fail() {
  local name=$1 needle=$2; shift 2
  local rc=0
  "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  local why=""
  if [ "$rc" -eq 0 ]; then why="exit 0"; fi
  if [ "$rc" -ge 128 ]; then why="killed by signal (exit $rc)"; fi
  grep -q "^error:" "$WORK/err" || why="$why; no 'error:' line"
  grep -qF -- "$needle" "$WORK/err" || why="$why; message lacks '$needle'"
  grep -q "^HINT: " "$WORK/err" || why="$why; no HINT line"
  if [ -n "$why" ]; then
    echo "FAIL [$name]: $why: $*"; sed 's/^/  | /' "$WORK/err"; FAILS=$((FAILS + 1))
  else
    PASSES=$((PASSES + 1))
  fi
}

# expect_grep NAME PATTERN FILE
expect_grep() {
  if grep -qE -- "$2" "$3"; then PASSES=$((PASSES + 1)); else echo "FAIL [$1]: '$2' not in $3"; FAILS=$((FAILS + 1)); fi
}

finish() {
  echo "$PASSES passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}
