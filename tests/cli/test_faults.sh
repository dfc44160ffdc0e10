#!/usr/bin/env bash
# test_faults.sh HSWEEP MPIEXEC PYTHON - a results file while a sweep writes it and when the sweep
# is stopped, each tried for real on 2 MPI ranks: status, h5py, plot_curves.py, analyze and a
# second writer on a live file; SIGINT without mpirun (drained, sessions and stalls in status);
# a job SIGKILLed mid-run then drained by SIGUSR1 for each model family, whose runs continue from
# their checkpoints; and a seeded loop of SIGKILLs (of mpirun, or of one rank) at random moments,
# each followed by --resume, that must end equal to an uninterrupted sweep with no finished run
# trained twice. Its scenarios race a sweep against the clock: ctest runs it alone on the cores.
# Run from the source tree root (ctest sets the working directory).
set -u
HS=$1 MPI=$2 PY=$3
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/results_lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
SLOW=tests/specs/train/slow.yaml
QUICK=${HSWEEP_TEST_QUICK:-0}
T=$(mktemp -d)
cleanup() {
  pkill -KILL -f "hsweep run .* -o $T/" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
[ "$QUICK" = 1 ] && SLOW="$SLOW --set train.epochs=4"

# ---------------------------------------------------------------- a live file: one writer only
LIVE="$SLOW --set train.epochs=60 --set record.every=2"   # 15-40 s: long enough to try everything on it
[ "$QUICK" = 1 ] && LIVE="$SLOW --set train.epochs=6 --set record.every=1"
bg_run 2 $LIVE -o "$T/live.h5" --quiet >"$T/live.out" 2>&1
pid=$!
wait_first_done "$T/live.h5.log"
# the status of a moment where a running run has made a step (runs start and end all the time)
for _ in $(seq 200); do
  check_quiet=$("$HS" status "$T/live.h5" 2>/dev/null); src=$?
  case "$check_quiet" in *"ETA "*) break ;; esac
  sleep 0.1
done
OUT=$check_quiet
[ $src = 6 ] && ok "status on a live file (exit 6)" || bad "status on a live file: exit $src, expected 6" "$OUT"
contains "status says it is being written" "$OUT" "being written"
case "$OUT" in *"--resume\`"*) bad "status advises --resume on a live file" "$OUT" ;; *) ok "status does not advise --resume on a live file" ;; esac
contains "status shows a running run's progress" "$OUT" "step "
contains "status shows an ETA" "$OUT" "ETA "
[ -s "$T/live.h5.lock" ] && ok "the writer holds $T/live.h5.lock" || bad "no lock file beside the live file"
contains "the lock names the writer" "$(cat "$T/live.h5.lock")" "command=run"
res=$("$PY" - "$T/live.h5" <<'PYEOF'
import sys, time, h5py, numpy as np
for _ in range(100):                     # a moment when a running run has written a record point
    with h5py.File(sys.argv[1], "r") as f:   # a reader on a live file: read-only, never harmful
        st = f["runs/status"][:]
        assert (st == 2).sum() >= 1, st
        live = [r for r in np.nonzero(st == 1)[0] if np.isfinite(f["records/epoch"][r][0])]
        if live:                         # its curve so far: the live record points, from epoch 0
            ep = f["records/epoch"][live[0]]
            assert ep[0] == 0 and np.all(np.diff(ep[np.isfinite(ep)]) > 0), ep
            print("ok")
            break
    time.sleep(0.1)
PYEOF
)
[ "$res" = ok ] && ok "h5py reads the live file, with a running run's first record points" || bad "h5py on a live file" "$res"
if [ "$QUICK" != 1 ]; then   # matplotlib is drawn in the release pass only
  check "plot_curves.py on the live file" 0 "$PY" analysis/plot_curves.py "$T/live.h5" -o "$T/live-curves.png"
  contains "it draws the running runs' curves so far" "$OUT" "running, drawn dashed as far as they got"
fi
check "analyze on a live file is refused" 1 "$MPI" -n 2 "$HS" analyze "$T/live.h5"
contains "analyze names the writer" "$ERR" "hsweep run"
contains "analyze says what to do" "$ERR" "wait until the sweep has finished"
check "a second writer (--resume) is refused" 1 run 2 $LIVE -o "$T/live.h5" --resume --quiet
contains "the second writer is told who writes" "$ERR" "pid"
wait $pid; rc=$?
[ $rc = 0 ] && ok "the writer finished unharmed (exit 0)" || bad "the writer exited $rc" "$(cat "$T/live.out")"
[ ! -e "$T/live.h5.lock" ] && ok "the lock is gone after the writer ends" || bad "lock left behind"
check "status once the writer is gone: complete" 0 "$HS" status "$T/live.h5"
contains "all 8 done" "$OUT" "8 runs: 8 done"
check "analyze once the writer is gone" 0 "$MPI" -n 2 "$HS" analyze "$T/live.h5"
h5dump -H "$T/live.h5" >/dev/null 2>&1 && ok "h5dump opens the analysed file" || bad "h5dump cannot open the analysed file"

# ---------------------------------------------------------------- SIGINT without mpirun drains
"$HS" run $SLOW --set record.every=1 -o "$T/int.h5" --quiet --progress -1 >"$T/int.out" 2>&1 &   # no launcher
pid=$!
wait_first_done "$T/int.h5.log"
# into the next run: its first steps on record, so the drain keeps some steps in its checkpoint
for _ in $(seq 300); do "$HS" status "$T/int.h5" 2>/dev/null | grep -q "step [1-9]" && break; sleep 0.1; done
kill -INT $pid
wait $pid; rc=$?
[ $rc = 3 ] && ok "SIGINT without mpirun: drained, exit 3" || bad "SIGINT: exit $rc" "$(cat "$T/int.out")"
check "status after SIGINT (exit 3)" 3 "$HS" status "$T/int.h5"
contains "nothing left running after SIGINT" "$OUT" "0 running"
att=$("$PY" -c "import h5py; print(sorted(set(h5py.File('$T/int.h5', 'r')['runs/attempts'][:])))")
[ "$att" = "[0, 1]" ] && ok "a drained attempt is not counted" || bad "attempts after a drain: $att"

# ---------------------------------------------------------------- sessions: progress and stalls
res=$("$PY" -c "
import h5py; s = h5py.File('$T/int.h5', 'r').attrs['sessions']
line = s.strip().splitlines()[-1]; f = dict(kv.split('=', 1) for kv in line.split())
print(f['drained'], int(f['finished']) >= 1, int(f['progressed']) > int(f['finished']))")
[ "$res" = "1 True True" ] && ok "the drained job's session line: drained, runs finished, checkpointed steps counted" \
  || bad "session line of the SIGINT job: $res"
cp "$T/int.h5" "$T/stall.h5"
"$PY" -c "
import h5py
with h5py.File('$T/stall.h5', 'a') as f:   # two more jobs that drained without any progress
    f.attrs['sessions'] = f.attrs['sessions'] + ''.join(
        'start=x end=x ranks=2 finished=0 progressed=0 drained=1 job=%d\n' % j for j in (1, 2))"
check "status after two drained jobs without progress: stalled (exit 5: no requeue)" 5 "$HS" status "$T/stall.h5"
contains "status says stalled" "$OUT" "stalled: the last two jobs ended without finishing a run"
"$PY" -c "
import h5py
with h5py.File('$T/stall.h5', 'a') as f:
    f.attrs['sessions'] = f.attrs['sessions'] + 'start=x end=x ranks=2 finished=0 progressed=120 drained=1 job=3\n'"
check "one job with progress after them: requeue again (exit 3)" 3 "$HS" status "$T/stall.h5"

# ---------------------------------------------------------------- checkpoints inside runs
# For an MLP, the CNN and LCN, and the gated net: a job SIGKILLed in the middle of its runs, then a
# job drained by SIGUSR1, then a resume to the end. Runs continue from their checkpoints (saved
# every 0.18 s and on the drain), and every stored value equals the uninterrupted sweep's.
printf 'sweep: {checkpoint_minutes: 0.003}\n' | cat - tests/specs/train/slow.yaml > "$T/ckpt-mlp.yaml"
printf 'sweep: {checkpoint_minutes: 0.003}\n' | cat - tests/specs/train/gated-tiny.yaml > "$T/ckpt-gated.yaml"
# (the sanitizer pass trains the MLP only: the sweep's side is the same code for every model, and
# unit_checkpoint covers each model's save and restore under the sanitizers)
kinds="mlp hnet gated"; [ "$QUICK" = 1 ] && kinds=mlp
for kind in $kinds; do
  case $kind in
    mlp) spec="$T/ckpt-mlp.yaml --set train.epochs=20"
         [ "$QUICK" = 1 ] && spec="$T/ckpt-mlp.yaml --set train.epochs=4 --set model.width=128" ;;
    hnet) spec="tests/specs/train/ckpt-hnet.yaml --set train.epochs=3000"
          [ "$QUICK" = 1 ] && spec="tests/specs/train/ckpt-hnet.yaml --set train.epochs=300" ;;
    gated) spec="$T/ckpt-gated.yaml --set train.epochs=100000 --set record.every=1000"
           [ "$QUICK" = 1 ] && spec="$T/ckpt-gated.yaml --set train.epochs=15000 --set record.every=1000" ;;
  esac
  F="$T/ckpt-$kind.h5"
  check "$kind: uninterrupted reference" 0 run 2 $spec -o "$T/ckpt-$kind-ref.h5" --quiet
  bg_run 2 $spec -o "$F" --quiet >/dev/null 2>&1
  pid=$!
  wait_ckpt "$F"          # runs last seconds, checkpoints come every 0.18 s: kill while they train
  kill -KILL $pid; wait $pid 2>/dev/null
  pkill -KILL -f "hsweep run .* -o $F" 2>/dev/null; wait_unlocked "$F"
  bg_run 2 $spec -o "$F" --resume --quiet >"$T/ckpt.out" 2>&1
  pid=$!
  # USR1 before the ranks have their handlers kills them (exit 138); rank 0 takes the lock after
  # MPI_Init, which every rank enters with its handlers installed, so wait for the lock first
  for _ in $(seq 600); do [ -e "$F.lock" ] && break; sleep 0.1; done
  sleep 0.7
  kill -USR1 $pid 2>/dev/null; wait $pid; rc=$?   # (it may have finished first)
  [ $rc = 3 ] || [ $rc = 0 ] && ok "$kind: killed, resumed, drained (exit $rc)" || bad "$kind: drained job exit $rc" "$(cat "$T/ckpt.out")"
  wait_unlocked "$F"
  check "$kind: a last resume finishes" 0 run 2 $spec -o "$F" --resume --quiet
  n=$(grep -c "continued from step" "$F.log")
  [ "$n" -ge 1 ] && ok "$kind: $n runs continued from a checkpoint" || bad "$kind: no run continued from a checkpoint" "$(cat "$F.log")"
  r=$(same_by_id "$T/ckpt-$kind-ref.h5" "$F"); [ "$r" = same ] && ok "$kind: records and layers bit-identical to uninterrupted" || bad "$kind: differs" "$r"
  r=$(same_series "$T/ckpt-$kind-ref.h5" "$F"); [ "$r" = same ] && ok "$kind: series bit-identical to uninterrupted" || bad "$kind: series differ" "$r"
  [ ! -e "$F.ckpt" ] && ok "$kind: no checkpoint left once every run is stored" || bad "$kind: checkpoints left" "$(ls "$F.ckpt")"
done

# ---------------------------------------------------------------- random kills, resumed
# A seeded loop: start the slow sweep, SIGKILL mpirun or one rank after a random delay, resume,
# repeat; then finish it. Every stored value must equal the uninterrupted sweep's, and the log
# must show every run done exactly once (a finished run is never trained again).
# The sweep checkpoints every 0.18 s, so most kills land after a save: resumed runs continue from
# a checkpoint written by a job that was then killed at an arbitrary line.
# (skipped in the sanitizer pass: the same code paths as the checkpoint scenario above)
if [ "$QUICK" != 1 ]; then
seed=${HSWEEP_FAULT_SEED:-7}
rounds=4; [ "$QUICK" = 1 ] && rounds=2
RANDOM=$seed
F="$T/fault.h5"
FAULT="$T/ckpt-mlp.yaml --set train.epochs=30"; [ "$QUICK" = 1 ] && FAULT="$T/ckpt-mlp.yaml --set train.epochs=4"
check "reference of the loop's sweep" 0 run 2 $FAULT -o "$T/fault-ref.h5" --quiet
for i in $(seq $rounds); do
  delay=$(( RANDOM % 40 + 5 )); victim=$(( RANDOM % 2 ))
  extra=; [ -e "$F" ] && extra=--resume
  bg_run 2 $FAULT -o "$F" $extra --quiet >/dev/null 2>&1
  pid=$!
  sleep "$(echo "scale=2; $delay / 10" | bc)"
  if [ $victim = 0 ]; then kill -KILL $pid 2>/dev/null; what=mpirun
  else pkill -KILL -f "hsweep run .* -o $F" 2>/dev/null; what="the ranks"; fi
  wait $pid 2>/dev/null
  pkill -KILL -f "hsweep run .* -o $F" 2>/dev/null   # ranks that outlive mpirun: Slurm kills them too
  wait_unlocked "$F"
  echo "  round $i: SIGKILL of $what after $(echo "scale=1; $delay / 10" | bc) s"
done
pkill -KILL -f "hsweep run .* -o $F" 2>/dev/null; sleep 0.3
extra=; [ -e "$F" ] && extra=--resume
check "after $rounds kills, a resume finishes the sweep" 0 run 2 $FAULT -o "$F" $extra --quiet
r=$(same_by_id "$T/fault-ref.h5" "$F"); [ "$r" = same ] && ok "killed $rounds times, resumed: equal to uninterrupted" || bad "differs" "$r"
r=$(same_series "$T/fault-ref.h5" "$F"); [ "$r" = same ] && ok "and so are its series" || bad "series differ" "$r"
dups=$(grep -E ' done ' "$F.log" | awk '{print $2}' | sort | uniq -d)
n=$(grep -cE ' done ' "$F.log")
[ -z "$dups" ] && [ "$n" = 8 ] && ok "no finished run trained twice (8 done lines, no repeats)" || bad "log: $n done lines, repeats: $dups"
n=$(grep -c 'continued from step' "$F.log")
[ "$QUICK" = 1 ] || [ "$n" -ge 1 ] && ok "$n runs continued from a checkpoint a killed job left" || bad "no run continued from a checkpoint" "$(cat "$F.log")"
fi

finish
