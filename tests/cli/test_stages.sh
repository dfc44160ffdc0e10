#!/usr/bin/env bash
# test_stages.sh HSWEEP MPIEXEC - a two-stage select sweep (tests/specs/train/stages.yaml) under
# real MPI into one real file: `plan` shows the first stage and bounds the second; a job
# terminated in the first stage and again in the second, each followed by --resume, trains every
# run exactly once, selects what an uninterrupted sweep selects and ends with the same run ids;
# `status` says which stages are complete. A bracketing search (tests/specs/train/search.yaml)
# terminated mid-search and resumed trains nothing twice and gives the uninterrupted answer.
# Run from the source tree root (ctest does).
set -u
HS=$1 MPI=$2 PY=${3:-/usr/bin/python3}
. "$(dirname "$0")/lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
S=tests/specs/train/stages.yaml
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
COST=2.69e+11
if [ "${HSWEEP_TEST_QUICK:-0}" = 1 ]; then
  # the sanitizer pass (reference BLAS, several times slower): a quarter of the epochs, the same
  # checks; its trainings still outlast the moments the test signals them
  sed 's/epochs: 64,/epochs: 16,/; s/every: 16,/every: 4,/' $S > "$T/stages.yaml"; S=$T/stages.yaml COST=6.72e+10
  # and the search on nets of half the width (a quarter of the cost; both groups still converge)
  sed 's/width: 256/width: 128/' tests/specs/train/search.yaml > "$T/search.yaml"
fi
run() { "$MPI" -n 2 "$HS" run $S --progress -1 --quiet "$@"; }
# wait_done LOG N: until LOG holds N finished runs, 60 s max
wait_done() {
  for _ in $(seq 600); do [ "$(grep -c ' done ' "$1" 2>/dev/null || true)" -ge "$2" ] 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
# the winners' lines of a run's output, and the ids of a file's runs
picks() { printf '%s\n' "$1" | grep '^  model.depth='; }
ids() { "$HS" status "$1" >/dev/null; grep -o ' [0-9a-f]\{16\} done' "$1.log" | sort; }

check "plan: the first stage" 0 "$HS" plan $S
contains "plan counts one of two stages" "$OUT" "6 runs in 1 of 2 stages"
contains "plan bounds the second" "$OUT" "stage 'seeds' waits for stage 'lr': at most 6 runs (train.lr chosen by min(test_loss) per model.depth)"
contains "plan costs the second" "$OUT" "training cost: about $COST FLOP"
a=$("$HS" plan $S --format tsv | cut -f1); b=$("$HS" plan $S --format tsv | cut -f1)
[ "$a" = "$b" ] && ok "identical spec, identical ids" || bad "ids differ between two plans"

t0=$SECONDS
check "uninterrupted two-stage sweep" 0 run -o "$T/ref.h5"
ref_wall=$((SECONDS - t0))
ref_picks=$(picks "$OUT")
contains "both stages ran" "$OUT" "12 runs: 12 done, 0 diverged, 0 failed, 0 pending; this job finished 12"
[ "$(printf '%s\n' "$ref_picks" | grep -c 'train.lr=')" = 2 ] && ok "a learning rate chosen per depth" \
  || bad "no winner per depth" "$OUT"
# hsweep train: a run of the select stage is no run the spec alone plans; the results file has it
first_ids=$("$HS" plan $S --format tsv | awk 'NR > 1 {print $1}' | sort)
later=$(ids "$T/ref.h5" | awk '{print $1}' | grep -vxF "$first_ids" | head -1)
check "train a later stage's run without the file: usage error" 2 "$HS" train $S --run "$later" -o "$T/one.h5"
contains "names the stage and what it needs" "$ERR" "the runs of stage 'seeds' (selects from 'lr') are planned from the results file"
contains "hint: the results file" "$ERR" "--results FILE"
check "train a later stage's run from the results file" 0 "$HS" train $S --run "${later:0:8}" --results "$T/ref.h5" --quiet -o "$T/one.h5"
[ -s "$T/one.h5" ] && ok "the run of stage 'seeds' trained alone (same id, checked by train)" || bad "no run file"
# hsweep data finds it the same way: its exported config is the file's config of that run
check "data of a later stage's run without the file: usage error" 2 "$HS" data $S --run "$later" -o "$T/d.h5"
contains "data: hint the results file" "$ERR" "--results FILE"
check "data of a later stage's run from the results file" 0 "$HS" data $S --run "${later:0:8}" --results "$T/ref.h5" -o "$T/d.h5"
contains "data: the run's full id" "$OUT" "run $later:"
got=$("$PY" -c 'import h5py, sys; print(h5py.File(sys.argv[1], "r").attrs["config"])' "$T/d.h5" 2>&1)
want=$("$PY" -c '
import h5py, sys
f = h5py.File(sys.argv[1], "r")
ids = [x.decode() if isinstance(x, bytes) else x for x in f["runs/id"][()]]
c = f["runs/config"][ids.index(sys.argv[2])]
print(c.decode() if isinstance(c, bytes) else c)' "$T/ref.h5" "$later" 2>&1)
[ -n "$want" ] && [ "$got" = "$want" ] && ok "data: the exported config is the results file's config of that run" \
  || bad "data: config differs" "got: $got want: $want"
check "status of the finished file" 0 "$HS" status "$T/ref.h5"
contains "status: first stage complete" "$OUT" "lr           complete: 6 runs, 6 finished"
contains "status: second stage complete" "$OUT" "seeds        complete: 6 runs, 6 finished"

# terminated in the first stage, once some of its runs finished
F=$T/killed.h5
"$MPI" -n 2 "$HS" run $S -o "$F" --progress -1 --quiet >"$T/k1.out" 2>&1 &
pid=$!
wait_done "$F.log" 2
pkill -TERM -P $pid
wait $pid; rc=$?
[ $rc = 3 ] && ok "SIGTERM in stage lr: exit 3" || bad "SIGTERM in stage lr: exit $rc" "$(cat "$T/k1.out")"
check "status: work left (exit 3)" 3 "$HS" status "$F"
contains "status: the first stage is incomplete" "$OUT" "lr           incomplete: 6 runs"
contains "status: the second waits" "$OUT" "seeds        waits for stage 'lr': at most 6 runs"
n1=$(grep -c ' done ' "$F.log")

# resumed, then terminated again in the second stage
"$MPI" -n 2 "$HS" run $S -o "$F" --resume --progress -1 --quiet >"$T/k2.out" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q '12 runs, ' "$F.log" && break; sleep 0.1; done
wait_done "$F.log" 7
pkill -TERM -P $pid
wait $pid; rc=$?
[ $rc = 3 ] && ok "SIGTERM in stage seeds: exit 3" || bad "SIGTERM in stage seeds: exit $rc" "$(cat "$T/k2.out")"
picks1=$(picks "$(cat "$T/k2.out")")
[ "$picks1" = "$ref_picks" ] && ok "the interrupted sweep selects as the uninterrupted one" \
  || bad "selection differs" "$picks1 / $ref_picks"
check "status in the second stage (exit 3)" 3 "$HS" status "$F"
contains "status: first stage complete" "$OUT" "lr           complete: 6 runs, 6 finished"
contains "status: second stage incomplete" "$OUT" "seeds        incomplete: 6 runs"

check "resume to the end" 0 run -o "$F" --resume
contains "resume: stage lr not run again" "$OUT" "stage 'lr': finished in $F"
picks2=$(picks "$OUT")
[ "$picks2" = "$ref_picks" ] && ok "resumed selection equals the uninterrupted one" || bad "selection differs" "$picks2"
trained=$(grep -c ' done ' "$F.log")
dups=$(grep -o ' [0-9a-f]\{16\} done' "$F.log" | sort | uniq -d)
[ "$trained" = 12 ] && [ -z "$dups" ] && ok "12 trainings in all, none repeated ($n1 before the first signal)" \
  || bad "$trained trainings, repeated: $dups" "$(cat "$F.log")"
[ "$(ids "$F")" = "$(ids "$T/ref.h5")" ] && ok "same run ids as the uninterrupted sweep" || bad "run ids differ"
check "status: complete" 0 "$HS" status "$F"
check "resume of a finished sweep trains nothing" 0 run -o "$F" --resume
contains "nothing trained" "$OUT" "this job finished 0"

# ---------------------------------------------------------------- a bracketing search (tests/specs/train/search.yaml)
Q=tests/specs/train/search.yaml QRUN=$Q
[ -e "$T/search.yaml" ] && QRUN=$T/search.yaml
result() { printf '%s\n' "$1" | grep '^  model.depth=.*rounds'; }
check "plan: the search's first round" 0 "$HS" plan $Q
contains "plan lists round 0 (lo, hi, 2 between; 2 seeds; 2 depths)" "$OUT" "16 runs in 1 of 1 stages"
# the bound: at most 80 runs (2 depths x 2 seeds x 20 points), each at the cost of the costliest at hi
contains "plan bounds the search's cost" "$OUT" "at most 2.09e+12 FLOP (about 0.012 core-hours at 50 GFLOP/s), 2.61e+10 FLOP per run at data.per_class = 400"
t0=$SECONDS
check "uninterrupted search" 0 "$MPI" -n 2 "$HS" run $QRUN -o "$T/sref.h5" --progress -1 --quiet
search_wall=$((SECONDS - t0))
ref_result=$(result "$OUT")
[ "$(printf '%s\n' "$ref_result" | grep -c 'converged')" = 2 ] && ok "both groups converged" || bad "not converged" "$OUT"
ref_trained=$(grep -c ' done ' "$T/sref.h5.log")
check "status of the search" 0 "$HS" status "$T/sref.h5"
contains "status: the search result is stored" "$OUT" "stored in /search/pc: 2 groups, data.per_class where test_err = 0.3"
G=$T/skilled.h5
"$MPI" -n 2 "$HS" run $QRUN -o "$G" --progress -1 --quiet >"$T/s1.out" 2>&1 &
pid=$!
wait_done "$G.log" 20
pkill -TERM -P $pid
wait $pid; rc=$?
[ $rc = 3 ] && ok "SIGTERM mid-search: exit 3" || bad "SIGTERM mid-search: exit $rc" "$(cat "$T/s1.out")"
check "status mid-search (exit 3)" 3 "$HS" status "$G"
contains "status: the search is incomplete" "$OUT" "pc           incomplete"
check "resume the search" 0 "$MPI" -n 2 "$HS" run $QRUN -o "$G" --resume --progress -1 --quiet
[ "$(result "$OUT")" = "$ref_result" ] && ok "resumed search gives the uninterrupted answer" \
  || bad "answer differs" "$(result "$OUT") / $ref_result"
trained=$(grep -c ' done ' "$G.log")
dups=$(grep -o ' [0-9a-f]\{16\} done' "$G.log" | sort | uniq -d)
[ "$trained" = "$ref_trained" ] && [ -z "$dups" ] && ok "$trained trainings as uninterrupted, none repeated" \
  || bad "$trained trainings (uninterrupted $ref_trained), repeated: $dups"
[ "$(ids "$G")" = "$(ids "$T/sref.h5")" ] && ok "same run ids as the uninterrupted search" || bad "run ids differ"
echo "  (uninterrupted two-stage sweep: ${ref_wall} s; search: ${search_wall} s, $ref_trained trainings)"
finish
