#!/usr/bin/env bash
# test_mpi.sh HSWEEP MPIEXEC - hsweep plan on several ranks: identical output for any rank count,
# one error (not one per rank, and no hang) for a bad spec, and ranks that were given different
# specs are caught by the plan-digest check.
set -u
HS=$1 MPIEXEC=$2
# Open MPI refuses root without these (CI runs as root); harmless otherwise.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
. "$(dirname "$0")/lib.sh"
G=tests/specs/good
run() { timeout 120 "$MPIEXEC" --oversubscribe "$@"; }

check "np 1" 0 run -n 1 "$HS" plan $G/full.yaml
ref=$(printf '%s\n' "$OUT" | grep -v '^plan digest')
contains "np 1 digest line" "$OUT" "identical on 1 rank"
for np in 2 3 4; do
  check "np $np" 0 run -n $np "$HS" plan $G/full.yaml
  got=$(printf '%s\n' "$OUT" | grep -v '^plan digest')
  [ "$got" = "$ref" ] && ok "np $np prints the same plan as np 1" || bad "np $np output differs" "$(diff <(echo "$ref") <(echo "$got"))"
  contains "np $np: ranks agree" "$OUT" "identical on $np ranks"
done

check "bad spec on 2 ranks fails cleanly" 1 run -n 2 "$HS" plan tests/specs/bad/zip_mismatch.yaml
n=$(printf '%s\n' "$ERR" | grep -c 'error:')
[ "$n" = 1 ] && ok "one error message, not one per rank" || bad "$n error messages" "$ERR"
contains "error names the rank and location" "$ERR" "rank 0: error: tests/specs/bad/zip_mismatch.yaml:3:5:"

# MPMD launch: rank 0 reads one spec, rank 1 another. The digest check must refuse to go on.
check "ranks with different specs are refused" 1 run -n 1 "$HS" plan $G/full.yaml : -n 1 "$HS" plan $G/full_reordered.yaml
contains "digest mismatch explained" "$ERR" "the 2 ranks expanded different plans"
# ... and only one rank failing to read its spec still ends every rank
check "one rank with a missing spec" 1 run -n 1 "$HS" plan $G/full.yaml : -n 1 "$HS" plan /nonexistent.yaml
contains "the failing rank reports" "$ERR" "rank 1: error: /nonexistent.yaml: cannot open the spec file"

finish
