# lib.sh - tiny assertion helpers for the shell tests; each script ends with `finish`.
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "  ok   $1${HSWEEP_TEST_TIMES:+ [${SECONDS} s]}"; } # HSWEEP_TEST_TIMES=1: seconds since the start
bad() { FAIL=$((FAIL + 1)); echo "  FAIL $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/       /'; }
# check NAME EXPECTED_EXIT CMD... : runs CMD, keeps stdout in $OUT and stderr in $ERR
check() {
  local name=$1 want=$2; shift 2
  OUT=$("$@" 2>/tmp/hsweep_test_err.$$); local rc=$?
  ERR=$(cat /tmp/hsweep_test_err.$$); rm -f /tmp/hsweep_test_err.$$
  if [ "$rc" = "$want" ]; then ok "$name (exit $rc)"; else bad "$name: exit $rc, expected $want" "$ERR"; fi
}
contains() { # contains NAME HAYSTACK NEEDLE
  case "$2" in *"$3"*) ok "$1" ;; *) bad "$1: missing '$3'" "$2" ;; esac
}
# wait_unlocked F: until no live process holds F's writer lock ($HS status exits 6 while one does):
# a rank can outlive its killed job by a moment (Slurm would kill it with the job). 20 s max.
wait_unlocked() {
  for _ in $(seq 200); do "$HS" status "$1" >/dev/null 2>&1; [ $? != 6 ] && return 0; sleep 0.1; done
  return 1
}
finish() {
  echo "$(basename "$0" .sh): $PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ] && [ "$PASS" -gt 0 ]
}
