#!/usr/bin/env bash
# test_sweep.sh HSWEEP MPIEXEC PYTHON - `hsweep run` under real MPI into one real parallel-HDF5
# file: identical results on 1, 2 and 4 ranks; progress lines; the sweep's tail (the last run on
# one rank, the others waiting without spinning); the pandas reader; SIGKILL of a rank and
# SIGUSR1/SIGTERM of the job, each followed by --resume, ending equal to an uninterrupted sweep
# with every run done exactly once; a grown or changed plan resumed into the same file; the
# memory-aware dispatch; `hsweep status`. (test_sweep_records.sh: provenance and failing runs.)
# Run from the source tree root (ctest sets the working directory).
set -u
HS=$1 MPI=$2 PY=$3
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/results_lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export PYTHONPATH="$PWD/analysis${PYTHONPATH:+:$PYTHONPATH}"
S=tests/specs/train/sweep.yaml SLOW=tests/specs/train/slow.yaml
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# HSWEEP_TEST_QUICK=1 (the sanitizer pass) skips the scenarios that repeat a covered code path,
# and shortens the slow sweep's trainings (10x slower under the sanitizers, they are still long
# enough to be signalled mid-run); every use of $SLOW takes the same override, so comparisons hold
QUICK=${HSWEEP_TEST_QUICK:-0}
[ "$QUICK" = 1 ] && SLOW="$SLOW --set train.epochs=2"

# same_results A B: bit-identical records and states (wall-clock columns aside)
same_results() {
  "$PY" - "$1" "$2" <<'PYEOF'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
assert list(a["runs/id"][:]) == list(b["runs/id"][:]), "ids differ"
assert list(a["runs/status"][:]) == list(b["runs/status"][:]), (a["runs/status"][:], b["runs/status"][:])
for k in a["records"]:
    if k == "seconds": continue
    assert np.array_equal(a["records/" + k][:], b["records/" + k][:], equal_nan=True), k
print("same")
PYEOF
}

# ---------------------------------------------------------------- 1, 2, 4 ranks
for np in 1 2 4; do
  check "sweep on $np rank(s)" 0 run $np $S -o "$T/np$np.h5" --quiet
  contains "np $np summary" "$OUT" "12 runs: 12 done, 0 diverged, 0 failed, 0 pending; this job finished 12"
done
# the progress line counts as running only runs in training: workers ask for their next run before
# they start the current one, and that queued run is pending, not a third run on two ranks
check "progress lines on 2 ranks" 0 "$MPI" -n 2 "$HS" run $S -o "$T/prog.h5" --quiet --progress 0.001
most=$(printf '%s\n' "$ERR" | tr '\r' '\n' | sed -n 's/.* done, \([0-9]*\) running.*/\1/p' | sort -n | tail -1)
lines=$(printf '%s\n' "$ERR" | tr '\r' '\n' | grep -c ' running, ')
[ "$lines" -ge 2 ] && [ "${most:-9}" -le 2 ] && ok "progress: at most 2 running on 2 ranks ($lines lines)" \
  || bad "progress: $most running on 2 ranks ($lines lines)" "$ERR"
contains "progress ends with none running" "$ERR" "12/12 done, 0 running, 0 failed, 0 diverged, 0 pending"
r=$(same_results "$T/np1.h5" "$T/np2.h5"); [ "$r" = same ] && ok "np 2 bit-identical to np 1" || bad "np 2 differs" "$r"
r=$(same_results "$T/np1.h5" "$T/np4.h5"); [ "$r" = same ] && ok "np 4 bit-identical to np 1" || bad "np 4 differs" "$r"

# the tail: one long run (to the worker, most expensive first) and two short ones; rank 0 trains the
# first short one, and the second must wait for whichever rank is free first (rank 0), not sit
# behind the long run on the worker because the worker asked ahead
TAIL=tests/specs/train/tail.yaml
# (the sanitizer pass, ten times slower per step, needs fewer steps for the same tail)
[ "$QUICK" = 1 ] && sed 's/\[3000, 150, 150\]/[1200, 150, 150]/' $TAIL > "$T/tail.yaml" && TAIL=$T/tail.yaml
check "tail sweep on 2 ranks" 0 "$MPI" -n 2 "$HS" run $TAIL -o "$T/tail.h5" --quiet --progress 0.1
# rank 0, done with both short runs, waits for the long one without going silent
tail_lines=$(printf '%s\n' "$ERR" | tr '\r' '\n' | grep -c '2/3 done, 1 running')
[ "$tail_lines" -ge 3 ] && ok "progress goes on while rank 0 waits for the last run ($tail_lines lines)" \
  || bad "progress while rank 0 waits for the last run: $tail_lines lines" "$ERR"
short=$("$HS" plan $TAIL --format tsv | awk -F'\t' 'NR > 1 && $5 == 150 {print $1}')
on0=0
for id in $short; do on0=$((on0 + $(grep -c "$id done     rank 0" "$T/tail.h5.log"))); done
[ "$on0" = 2 ] && ok "both short runs on rank 0 while the worker trains the long one" \
  || bad "short runs on rank 0: $on0 of 2" "$(cat "$T/tail.h5.log")"
# the same tail on 3 ranks: rank 1 trains the long run, and rank 2, done with its short one, must wait
# for it without spinning a core (Open MPI's blocking collectives spin; a rank more than the cores
# would take that core from the rank still training). CPU ticks of each rank over 2 s of the tail;
# then SIGUSR1 drains the sweep (exit 3): the long run only has to outlast the window.
LONG=20000; [ "$QUICK" = 1 ] && LONG=2500
sed "s/\[3000, 150, 150\]/[$LONG, 150, 150]/" tests/specs/train/tail.yaml > "$T/tail3.yaml"
"$MPI" -n 3 "$HS" run "$T/tail3.yaml" -o "$T/tail3.h5" --quiet --progress -1 > /dev/null 2>&1 & launcher=$!
for _ in $(seq 600); do [ "$(grep -c ' done ' "$T/tail3.h5.log" 2>/dev/null)" = 2 ] && break; sleep 0.1; done
ranks=""
for d in /proc/[0-9]*; do
  p=${d#/proc/}
  [ "$p" != "$launcher" ] && tr '\0' ' ' < "$d/cmdline" 2>/dev/null | grep -q -- "run $T/tail3.yaml -o" && ranks="$ranks $p"
done
ticks() { for p in $ranks; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo gone; done; }
t0=$(ticks); sleep 2; t1=$(ticks)
still=$(grep -c ' done ' "$T/tail3.h5.log")
kill -USR1 $launcher 2>/dev/null; wait $launcher; rc=$?
used=$(paste <(echo "$t0") <(echo "$t1") | awk '{print $2 - $1}' | sort -n | tr '\n' ' ')
# ticks of the ranks not training, i.e. all but the busiest (100 ticks = 1 s at the usual CLK_TCK)
idle=$(echo "$used" | awk -v hz="$(getconf CLK_TCK)" '{s = 0; for (i = 1; i < NF; i++) s += $i; print int(100 * s / hz)}')
if [ $rc = 3 ] && [ "$still" = 2 ] && [ "$(echo "$ranks" | wc -w)" = 3 ] && [ "$idle" -le 30 ]; then
  ok "a rank done with its runs waits for the last one without spinning (ticks per rank in 2 s: $used)"
else
  bad "waiting ranks used the CPU: ticks in 2 s per rank $used (rc $rc, $still runs done in the window, ranks:$ranks)" \
    "$(cat "$T/tail3.h5.log" 2>/dev/null)"
fi
res=$("$PY" - "$T/np4.h5" <<'PYEOF'
import sys, h5py, numpy as np
import hsweep_results as hr
f = h5py.File(sys.argv[1], "r")
assert f.attrs["format"] == "hsweep-results/1"
assert "seed: [1, 2, 3, 4]" in f.attrs["spec"]
assert len(set(f["runs/rank"][:])) == 4, f["runs/rank"][:]           # every rank trained
assert f["records/test_acc"].shape == (12, 4)
runs = hr.read_runs(sys.argv[1])
assert list(runs.status) == ["done"] * 12
assert set(["model.depth", "seed", "data.seed", "wall", "rank"]) <= set(runs.columns), runs.columns
long = hr.read_records(sys.argv[1])
assert long.shape[0] == 12 * 4, long.shape                           # epochs 0, 5, 10, 15
assert list(long[long.id == runs.id[0]].epoch) == [0, 5, 10, 15]
assert long.groupby("model.depth").size().to_dict() == {0: 16, 1: 16, 3: 16}
assert (long[long.epoch == 15].train_acc > 0.8).all(), long[long.epoch == 15].train_acc
# per-layer metrics: one value per dense layer (depth + 2 of them), NaN-padded to the deepest
assert f["layers/weight_norm"].shape == (12, 4, 5), f["layers/weight_norm"].shape
lay = hr.read_layers(sys.argv[1])
assert lay.groupby("model.depth").layer.max().to_dict() == {0: 1, 1: 2, 3: 4}
assert (lay[lay.epoch == 0].weight_change == 0).all()
assert (lay[lay.epoch == 15].weight_change > 0.01).all()
w = f["layers/weight_norm"][0, 0, :2]                      # run 0 (depth 0) at epoch 0
assert np.isnan(f["layers/weight_norm"][0, 0, 2]) and np.all(w > 0)
print("ok")
PYEOF
)
[ "$res" = ok ] && ok "h5py + pandas reader: 12 runs, 48 record rows, per-layer rows, typed key columns, 4 ranks" || bad "reader" "$res"
check "status of a complete file" 0 "$HS" status "$T/np4.h5"
contains "status counts" "$OUT" "12 runs: 12 done, 0 diverged, 0 failed, 0 running, 0 pending"
contains "status says complete" "$OUT" "complete"

# ---------------------------------------------------------------- SIGKILL of a rank, then resume
check "reference: the slow sweep uninterrupted" 0 run 2 $SLOW -o "$T/ref.h5" --quiet
# rank 1 dies after its 2nd run; then rank 0 dies after its 1st (the rank that dispatches)
points="1:2 0:1"; [ "$QUICK" = 1 ] && points="0:1"
for point in $points; do
  f="$T/kill-${point/:/-}.h5"
  HSWEEP_TEST_KILL_AFTER=$point run 2 $SLOW -o "$f" --quiet >/dev/null 2>&1
  rc=$?; [ $rc -ne 0 ] && ok "kill $point: rank ${point%%:*} killed after ${point##*:} run(s): job failed (exit $rc)" \
    || bad "kill $point: killed job exited 0"
  wait_unlocked "$f"
  check "kill $point: status of the killed file (exit 3: resume)" 3 "$HS" status "$f"
  contains "kill $point: killed file is incomplete" "$OUT" "runs left; continue with"
  done_before=$("$PY" -c "import h5py; print(int((h5py.File('$f')['runs/status'][:] == 2).sum()))")
  [ "$done_before" -ge 1 ] && [ "$done_before" -lt 8 ] && ok "kill $point: $done_before of 8 runs survived" \
    || bad "kill $point: runs done before the kill: $done_before"
  check "kill $point: resume" 0 run 2 $SLOW -o "$f" --resume --quiet
  contains "kill $point: resume ran only the rest" "$OUT" \
    "8 runs: 8 done, 0 diverged, 0 failed, 0 pending; this job finished $((8 - done_before))"
  r=$(same_results "$T/ref.h5" "$f"); [ "$r" = same ] && ok "kill $point: resumed equals uninterrupted" || bad "differs" "$r"
  dups=$(grep -E ' done ' "$f.log" | awk '{print $2}' | sort | uniq -d)
  n=$(grep -cE ' done ' "$f.log")
  [ -z "$dups" ] && [ "$n" = 8 ] && ok "kill $point: log has every run done exactly once" || bad "log: $n done lines, repeats: $dups"
done

# ---------------------------------------------------------------- signals, then resume
# SIGUSR1 to mpirun (what a batch script forwards from Slurm's --signal=B:USR1@T): mpirun passes it
# to the ranks, which stop at the next step, write the interrupted runs back as pending, close the
# file and exit 3; mpirun returns 3.
"$MPI" -n 2 "$HS" run $SLOW -o "$T/usr1.h5" --quiet --progress -1 >"$T/usr1.out" 2>&1 &
pid=$!
wait_first_done "$T/usr1.h5.log"
t0=$(date +%s.%N)
kill -USR1 $pid
wait $pid; rc=$?
dt=$(echo "$(date +%s.%N) - $t0" | bc)
[ $rc = 3 ] && ok "SIGUSR1: exit 3 (requeue) $dt s after the signal" || bad "SIGUSR1 exit $rc" "$(cat "$T/usr1.out")"
contains "interrupted message" "$(cat "$T/usr1.out")" "interrupted by a signal"
check "status after SIGUSR1 (exit 3)" 3 "$HS" status "$T/usr1.h5"
contains "no run left running" "$OUT" "0 running"
check "resume after SIGUSR1" 0 run 2 $SLOW -o "$T/usr1.h5" --resume --quiet
r=$(same_results "$T/ref.h5" "$T/usr1.h5"); [ "$r" = same ] && ok "signalled + resumed equals uninterrupted" || bad "differs" "$r"

# SIGTERM to the ranks (what srun delivers at a time limit): they drain and exit 3, and so does
# the launcher.
"$MPI" -n 2 "$HS" run $SLOW -o "$T/term.h5" --quiet --progress -1 >"$T/term.out" 2>&1 &
pid=$!
wait_first_done "$T/term.h5.log"
pkill -TERM -P $pid
wait $pid; rc=$?
[ $rc = 3 ] && ok "SIGTERM to the ranks: exit 3 (requeue)" || bad "SIGTERM to the ranks: exit $rc" "$(cat "$T/term.out")"
check "status after SIGTERM (exit 3)" 3 "$HS" status "$T/term.h5"
contains "nothing left running" "$OUT" "0 running"
check "resume after SIGTERM" 0 run 2 $SLOW -o "$T/term.h5" --resume --quiet
r=$(same_results "$T/ref.h5" "$T/term.h5"); [ "$r" = same ] && ok "terminated + resumed equals uninterrupted" || bad "differs" "$r"

# SIGTERM to mpirun as well (Slurm signals every process of a batch job): mpirun then exits 1 by
# its own choice, but the file is consistent and `hsweep status` says resume (exit 3).
if [ "$QUICK" != 1 ]; then
"$MPI" -n 2 "$HS" run $SLOW -o "$T/term2.h5" --quiet --progress -1 >"$T/term2.out" 2>&1 &
pid=$!
wait_first_done "$T/term2.h5.log"
pkill -TERM -f "hsweep run $SLOW -o $T/term2.h5"
wait $pid; rc=$?
[ $rc != 0 ] && ok "SIGTERM to all: job ends (exit $rc)" || bad "SIGTERM to all: job exited 0"
wait_unlocked "$T/term2.h5"
check "status after SIGTERM to all (exit 3)" 3 "$HS" status "$T/term2.h5"
contains "nothing left running after SIGTERM to all" "$OUT" "0 running"
fi

# ---------------------------------------------------------------- a grown plan resumes into the same file
sed 's/seed: \[1, 2, 3, 4\]/seed: [1, 2, 3, 4, 5]/' $S > "$T/grown.yaml"
cp "$T/np2.h5" "$T/grow.h5"
check "resume with a seed appended" 0 run 2 "$T/grown.yaml" -o "$T/grow.h5" --resume
contains "says the plan grew" "$ERR" "3 new runs appended; the file now holds 15 runs"
contains "only the new runs ran" "$OUT" "15 runs: 15 done, 0 diverged, 0 failed, 0 pending; this job finished 3"
check "the grown sweep from scratch" 0 run 1 "$T/grown.yaml" -o "$T/grown-ref.h5" --quiet
r=$(same_results "$T/grown-ref.h5" "$T/grow.h5"); [ "$r" = same ] && ok "grown file equals the grown sweep run from scratch" || bad "differs" "$r"
res=$("$PY" -c "
import h5py
f = h5py.File('$T/grow.h5', 'r')
print(f.attrs['spec'].count('5]'), list(f['runs/seed'][-3:]), f['records/epoch'].shape)")
[ "$res" = "1 [5, 5, 5] (15, 4)" ] && ok "spec attribute, key column and records grew" || bad "grown file" "$res"
check "the shorter plan resumes the grown file" 0 run 1 $S -o "$T/grow.h5" --resume --quiet
contains "nothing to train" "$OUT" "12 runs: 12 done, 0 diverged, 0 failed, 0 pending; this job finished 0"
check "status: the 3 runs the spec no longer names are kept" 0 "$HS" status "$T/grow.h5"
contains "kept rows counted" "$OUT" "3 rows kept from an earlier spec"

# ---------------------------------------------------------------- another plan: new ids, appended
cp "$T/np1.h5" "$T/other.h5"
check "resume with another config of every run" 0 run 1 $S -o "$T/other.h5" --resume --set train.epochs=16 --quiet
contains "every run is new" "$OUT" "12 runs: 12 done, 0 diverged, 0 failed, 0 pending; this job finished 12"
check "status keeps the earlier config's rows" 0 "$HS" status "$T/other.h5"
contains "12 kept" "$OUT" "12 rows kept from an earlier spec"
check "--overwrite with --resume is a usage error" 2 "$HS" run $S --resume --overwrite

# ---------------------------------------------------------------- memory-aware dispatch
# Three runs of 12.0 MB and three of 4.9 MB (floors from plan) on 3 ranks of one node capped at
# 24 MB: 85% of it holds a large run beside small ones but never two large ones, so the large runs
# train one after the other, whatever rank gets them, and every run finishes (handed out in cost
# order, the three large runs would start together).
cat > "$T/mem.yaml" <<'YAML'
name: memwait
base:
  data: {kind: cfm, per_class: 100}
  model: {arch: mlp, depth: 2, norm: none}
  train: {epochs: 3, batch: 64}
  record: {separation: none}
product:
  seed: [1, 2, 3]
  model.width: [600, 100]
YAML
# (the sanitizer pass: one epoch, still long enough for the large runs to meet if dispatch let them)
[ "$QUICK" = 1 ] && sed -i 's/epochs: 3,/epochs: 1,/' "$T/mem.yaml"
floors=$("$HS" plan "$T/mem.yaml" --format json | grep -o '"memory_bytes": [0-9]*' | sort -n -u -k2 | awk '{print $2}' | tr '\n' ' ')
[ "$floors" = "4905760 11981856 " ] && ok "floors of the runs: 4.9 and 12.0 MB" || bad "floors '$floors'"
check "6 runs on 3 ranks in 24 MB" 0 env HSWEEP_MEMORY_LIMIT=24M "$MPI" -n 3 "$HS" run "$T/mem.yaml" -o "$T/mem.h5" --quiet --progress -1
res=$("$PY" - "$T/mem.h5" <<'PYEOF'
import sys, h5py
r = h5py.File(sys.argv[1], "r")["runs"]
big = sorted((r["start"][i], r["end"][i]) for i in range(len(r["id"])) if r["model.width"][i] == 600)
overlap = any(b[0] < a[1] for a, b in zip(big, big[1:]))
print(len(big), sum(s == 2 for s in r["status"][:]), "overlap" if overlap else "apart")
PYEOF
)
[ "$res" = "3 6 apart" ] && ok "large runs one after the other, all 6 done ($res)" || bad "memory-aware dispatch: $res"

finish
