#!/bin/sh
# Runs every test tier against the binaries in $BUILD (default build): the cmocka unit tests, the
# in-process drivers of moderatorctl (table-driven cases, examples inside the rule files), and the
# end-to-end pytest suite against the real daemon. Prints one last line "N passed, N failed" and
# exits non-zero when anything failed.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
export BUILD
PASSED=0
FAILED=0
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

add() { PASSED=$((PASSED + $1)); FAILED=$((FAILED + $2)); }

# A tier that printed no count of its own but failed still counts as one failure.
tier_failed() { echo "FAILED: $1"; add 0 1; }
# Counts a node --test run from its TAP output in $LOG: the failures in full, then the counts.
# A non-zero exit without a failed test (a crash, a syntax error) still fails the tier.
tap_counts() {
    sed -n '/^not ok/,/^  \.\.\./p' "$LOG" | head -n 200
    grep -E '^# (tests|pass|fail) ' "$LOG"
    p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$LOG" | tail -n 1)
    f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$LOG" | tail -n 1)
    add "${p:-0}" "${f:-0}"
    if [ "$1" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
        tail -n 40 "$LOG"
        tier_failed "$2 (exit $1)"
    fi
}

echo "== unit tests ($BUILD/tests)"
found=0
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    found=1
    "$t" >"$LOG" 2>&1
    rc=$?
    cat "$LOG"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$LOG" | tail -n 1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$LOG" | tail -n 1)
    if [ -z "$p$f" ]; then
        if [ $rc -eq 0 ]; then add 1 0; else tier_failed "$t (exit $rc, no summary)"; fi
    else
        add "${p:-0}" "${f:-0}"
        [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ] && tier_failed "$t (exit $rc)"
    fi
done
[ $found -eq 1 ] || tier_failed "unit: no $BUILD/tests/test_* (make unit-build builds them)"

CTL="$BUILD/moderatorctl"
# Parses "...: N passed, M failed" from an in-process driver. A driver that prints no such line
# (a missing binary or command, a settings file that does not read) or runs nothing fails.
run_ctl_driver() {
    name=$1
    shift
    echo "== $name"
    "$CTL" "$@" >"$LOG" 2>&1
    rc=$?
    grep -v '^PASS ' "$LOG" | tail -n 40
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$LOG" | tail -n 1)
    if [ -n "$line" ]; then
        p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '^[0-9]+')
        f=$(echo "$line" | grep -oE '[0-9]+ failed' | grep -oE '^[0-9]+')
        add "$p" "$f"
        if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
            tier_failed "$name (exit $rc)"
        elif [ $((p + f)) -eq 0 ]; then
            tier_failed "$name (nothing to run)"
        fi
    else
        tier_failed "$name (exit $rc, no summary)"
    fi
}

# --rules rules: the rules of this tree, not those of an installed settings file.
run_ctl_driver "cases, in-process (moderatorctl --rules rules cases tests/cases)" \
    --rules rules cases tests/cases
run_ctl_driver "rule file examples (moderatorctl rules test rules)" rules test rules

echo "== end-to-end (pytest tests/e2e)"
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e >"$LOG" 2>&1
rc=$?
cat "$LOG"
summary=$(grep -E '^=*.*[0-9]+ (passed|failed|error)' "$LOG" | tail -n 1)
[ -z "$summary" ] && summary=$(grep -E '[0-9]+ (passed|failed|errors?)( |,|$)' "$LOG" | tail -n 1)
num() { echo "$summary" | grep -oE "[0-9]+ $1" | head -n 1 | grep -oE '^[0-9]+'; }
p=$(num passed)
f=$(num failed)
e=$(num 'errors?')
add "${p:-0}" $((${f:-0} + ${e:-0}))
# Also exit 5: no tests collected.
if [ $rc -ne 0 ] && [ $((${f:-0} + ${e:-0})) -eq 0 ]; then
    tier_failed "pytest (exit $rc)"
fi

echo "== clients (node --test tests/clients: akismet-api, Coral-shaped requests, Prometheus parser)"
if command -v node >/dev/null 2>&1 && [ -d tests/clients/node_modules ]; then
    (cd tests/clients && node --test) >"$LOG" 2>&1
    tap_counts $? "node --test"
else
    tier_failed "clients: node or tests/clients/node_modules is missing (make test installs both)"
fi

echo "== browser (node --test tests/browser: /moderate in headless Chromium)"
if command -v node >/dev/null 2>&1 && [ -d tests/browser/node_modules ] && [ -x /usr/bin/chromium ]; then
    (cd tests/browser && node --test --test-reporter=tap moderate.test.mjs) >"$LOG" 2>&1
    tap_counts $? "browser: node --test"
    [ -f "$BUILD/moderate.png" ] && echo "screenshot: $BUILD/moderate.png"
else
    tier_failed "browser: node, chromium or tests/browser/node_modules is missing (make test installs them)"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
