#!/usr/bin/env bash
# test_mpi.sh HSWEEP MPIEXEC - hsweep plan on several ranks: identical output for any rank count,
# one error (not one per rank, and no hang) for a bad spec, and ranks that were given different
# specs are caught by the plan-digest check. The least memory of a run: shown by plan (hand-
# computed), a run above the machine's memory refused by run and train before anything is written,
# and, in a cgroup with a memory limit (where this machine lets root make one), the cgroup's limit
# obeyed and ranks that together could exceed it warned of.
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

# ---- memory. At least 40 + 8 rows of 8 floats and a label (1728 bytes) and the 109 parameters
# of 8 -> 5 -> 6 -> 4 with biases and their gradients under plain sgd (872): 2600 bytes, plus the
# activations of 40 rows (the unit test checks the net's count against what building it takes).
T=$(mktemp -d)
trap 'rm -rf "$T"; [ -n "${CG:-}" ] && rmdir "$CG" 2>/dev/null' EXIT
cat > "$T/small.yaml" <<'YAML'
name: small
base:
  data: {kind: gaussian, dim: 8, classes: 4, per_class: 10, n_test: 8}
  model: {arch: mlp, widths: [5, 6], norm: none}
  train: {epochs: 1, batch: 40}
  record: {separation: none}
YAML
check "plan --format json" 0 "$HS" plan "$T/small.yaml" --format json
floor=$(printf '%s\n' "$OUT" | sed -n 's/.*"memory_floor_bytes": \([0-9]*\)}$/\1/p')
[ -n "$floor" ] && [ "$floor" -gt 2600 ] && [ "$floor" -lt 100000 ] && ok "memory floor in json ($floor bytes)" \
  || bad "memory floor '$floor'" "$OUT"
contains "the run's own memory in json" "$OUT" "\"memory_bytes\": $floor,"
check "plan" 0 "$HS" plan "$T/small.yaml"
kb=$(awk -v b="$floor" 'BEGIN {printf "%.3g kB", b / 1000}')
contains "memory line" "$OUT" "memory: at least $kb a rank, for the largest run"
# model.depth 6 at width 200000 on cfm (100 inputs, 10 classes): 7 hidden layers, so 6 x 4e10
# + 100 x 2e5 + 2e5 x 10 weights, 1400010 biases, 2 x 1.4e6 BatchNorm = 240026200010
# parameters, x 8 bytes under plain sgd: 1.92 TB, more than any machine this runs on
big=(--set model.width=200000)
check "plan of a run too large for this machine" 0 "$HS" plan sweeps/default.yaml "${big[@]}"
contains "plan says run would refuse it" "$OUT" "more than this machine allows"
check "run refuses it on 2 ranks" 1 run -n 2 "$HS" run sweeps/default.yaml "${big[@]}" -o "$T/big.h5"
contains "refusal names the run and the need" "$ERR" "needs at least 1.92 TB of memory (the net of 240026200010 parameters"
contains "refusal names the limit" "$ERR" "but this machine allows"
n=$(printf '%s\n' "$ERR" | grep -c 'error:')
[ "$n" = 1 ] && ok "one refusal, not one per rank" || bad "$n error messages" "$ERR"
[ ! -e "$T/big.h5" ] && ok "no results file created" || bad "a results file was created"
id=$("$HS" plan sweeps/default.yaml --format tsv | awk '$4 == 6 {print $1; exit}') # --set keeps the id
check "train refuses it" 1 "$HS" train sweeps/default.yaml --run "$id" "${big[@]}" -o "$T/one.h5" --quiet
contains "train's refusal" "$ERR" "needs at least 1.92 TB of memory"
[ ! -e "$T/one.h5" ] && ok "train wrote no file" || bad "train wrote a file"

# A cgroup (v1) limited to 1 GB holding the commands: plan and run judge by it. Root only, and
# only where the memory hierarchy is mounted writable.
grp=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup)
CG=/sys/fs/cgroup/memory${grp%/}/hsweep-test-$$
if [ -n "$grp" ] && mkdir "$CG" 2>/dev/null && echo 1000000000 > "$CG/memory.limit_in_bytes" 2>/dev/null; then
  incg() { bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }
  # width 5000: 5 x 25e6 + 100 x 5000 + ... parameters x 12 bytes = 1.5 GB
  check "plan in a 1 GB cgroup" 0 incg "$HS" plan sweeps/default.yaml --set model.width=5000
  contains "the cgroup's limit is the machine's" "$OUT" "more than this machine allows (1 GB, the cgroup's memory limit)"
  check "plan in a 1 GB cgroup, runs of 440 MB" 0 incg "$HS" plan sweeps/default.yaml --set model.width=3000
  contains "two such ranks fit" "$OUT" "room for at most 2 such ranks on this machine (1 GB, the cgroup's memory limit)"
  check "run in a 1 GB cgroup refuses" 1 incg "$MPIEXEC" --oversubscribe -n 2 "$HS" run sweeps/default.yaml --set model.width=5000 -o "$T/cg.h5"
  contains "refused by the cgroup's limit" "$ERR" "allows 1 GB (the cgroup's memory limit)"
  # a kernel run of 12000 samples: its 1.15 GB matrix is too much for one rank, and two ranks
  # share it (576 MB each, warned: both on this node), then stopped by the missing folder
  cat > "$T/kernel.yaml" <<'YAML'
name: kernel
base:
  data: {kind: srhm, v: 6, s: 2, L: 2, s0: 2, n_train: 12000, n_test: 100, rule_seed: 1}
  model: {arch: kernel}
  record: {separation: none}
YAML
  check "a kernel run on 1 rank in 1 GB" 1 incg "$MPIEXEC" -n 1 "$HS" run "$T/kernel.yaml" -o "$T/k1.h5"
  contains "its matrix on one rank is refused" "$ERR" "on each of 1 rank (its share of the 12000 x 12000 kernel matrix"
  check "the same on 2 ranks" 1 incg "$MPIEXEC" --oversubscribe -n 2 "$HS" run "$T/kernel.yaml" -o "$T/none/k2.h5"
  case "$ERR" in *"kernel matrix"*) bad "2 ranks refused" "$ERR" ;; *) ok "2 ranks share the matrix: not refused" ;; esac
  contains "2 ranks on one node warned" "$ERR" "up to 2 ranks on a node"
  contains "then stopped by the folder" "$ERR" "the folder of $T/none/k2.h5 does not exist"
  # width 3000: 440 MB a run, 3 ranks on one node: 1.32 GB together. Warned, then stopped by
  # a results folder that does not exist (before any training).
  check "3 ranks of 440 MB in 1 GB" 1 incg "$MPIEXEC" --oversubscribe -n 3 "$HS" run sweeps/default.yaml --set model.width=3000 -o "$T/none/x.h5"
  contains "warned of the ranks together" "$ERR" "warning: run"
  contains "warning counts the ranks" "$ERR" "up to 3 ranks on a node"
  contains "then stopped by the folder, before training" "$ERR" "the folder of $T/none/x.h5 does not exist"
else
  echo "  skip: no writable memory cgroup here (not root, or cgroup v2)"
  CG=
fi

finish
