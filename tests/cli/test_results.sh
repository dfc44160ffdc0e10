#!/usr/bin/env bash
# test_results.sh HSWEEP MPIEXEC PYTHON - what ordinary actions may not do to a results file, each
# tried for real on 2 MPI ranks: analyse or resume a file while a sweep writes it, run over a
# finished file, resume an edited spec (ids matched, not positions), a run that always kills its
# rank, SIGINT without mpirun, a full disk (tmpfs) at creation and at resume, and a seeded loop
# of SIGKILLs (of mpirun, or of one rank) at random moments, each followed by --resume, that must
# end equal to an uninterrupted sweep with no finished run trained twice.
# Run from the source tree root (ctest sets the working directory).
set -u
HS=$1 MPI=$2 PY=$3
. "$(dirname "$0")/lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
S=tests/specs/train/sweep.yaml SLOW=tests/specs/train/slow.yaml
QUICK=${HSWEEP_TEST_QUICK:-0}
T=$(mktemp -d)
MNT=
cleanup() {
  [ -n "$MNT" ] && umount "$MNT" 2>/dev/null
  pkill -KILL -f "hsweep run .* -o $T/" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
[ "$QUICK" = 1 ] && SLOW="$SLOW --set train.epochs=4"
run() { "$MPI" -n "$1" "$HS" run "${@:2}" --progress -1; }
# bg_run NP ARGS...: the same in the background, with $! the launcher itself (signals reach it)
bg_run() { "$MPI" -n "$1" "$HS" run "${@:2}" --progress -1 & }
wait_first_done() { # LOG: until the sweep writing LOG has finished a run, 60 s max
  for _ in $(seq 600); do grep -q ' done ' "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
# same_by_id A B: every run of B is in A under the same id with bit-identical records, layers and
# status (wall-clock columns aside), whatever the row order of either file
same_by_id() {
  "$PY" - "$1" "$2" <<'PYEOF'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
ia = {x: i for i, x in enumerate(a["runs/id"][:])}
for j, x in enumerate(b["runs/id"][:]):
    if x not in ia: print("missing", x); sys.exit()
    i = ia[x]
    assert a["runs/status"][i] == b["runs/status"][j], x
    for g in ("records", "layers"):
        for k in b[g]:
            if k == "seconds": continue
            u, v = a[g][k][i], b[g][k][j]          # files may pad to different sizes with NaN
            n = tuple(slice(0, min(p, q)) for p, q in zip(u.shape, v.shape))
            assert np.array_equal(u[n], v[n], equal_nan=True), (x, g, k)
            for w in (u, v):
                m = np.ones(w.shape, bool); m[n] = False
                assert np.isnan(w[m]).all(), (x, g, k, "beyond the common part")
print("same")
PYEOF
}
sha() { sha256sum "$1" | cut -c1-64; }


check "reference: the small sweep" 0 run 2 $S -o "$T/ref.h5" --quiet

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

# ---------------------------------------------------------------- never overwrite
before=$(sha "$T/ref.h5")
check "run over a finished file is refused" 1 run 2 $S -o "$T/ref.h5" --quiet
contains "says it exists" "$ERR" "exists: refusing to overwrite"
[ "$(sha "$T/ref.h5")" = "$before" ] && ok "the finished file is byte-identical" || bad "the finished file changed"
cp "$T/ref.h5" "$T/ow.h5"
check "--overwrite moves the old file aside" 0 run 2 $S -o "$T/ow.h5" --overwrite --quiet
aside=$(ls "$T"/ow.h5.replaced-* 2>/dev/null | grep -v '\.log$' | head -1)
[ -n "$aside" ] && [ "$(sha "$aside")" = "$before" ] && ok "the old file is kept as $(basename "$aside")" || bad "no intact copy aside"
# -o naming what is no file: refused before the lock, nothing moved (as root, --overwrite once moved
# /dev/null aside)
mkdir "$T/adir" && mkfifo "$T/fifo"
check "--overwrite of a directory is refused" 1 run 2 $S -o "$T/adir" --overwrite --quiet
contains "says it is a directory" "$ERR" "adir is a directory, not a results file"
check "--overwrite of a FIFO is refused" 1 run 1 $S -o "$T/fifo" --overwrite --quiet
contains "says what it is" "$ERR" "fifo is a device, FIFO or socket, not a results file"
[ -d "$T/adir" ] && [ -p "$T/fifo" ] && [ -z "$(ls -d "$T"/adir.* "$T"/fifo.* 2>/dev/null)" ] &&
  ok "both in place, no lock or copy beside them" || bad "something moved or was made" "$(ls "$T")"
# -o in a folder that does not exist, or under a file: the hint names that, not permissions
check "-o in a missing folder" 1 run 1 $S -o "$T/no/such/r.h5" --quiet
contains "says the folder is missing" "$ERR" "the folder of $T/no/such/r.h5 does not exist"
check "-o under a file" 1 run 1 $S -o "$T/ref.h5/r.h5" --quiet
contains "says part of the path is a file" "$ERR" "part of the folder path of $T/ref.h5/r.h5 is a file"
# what is no results file, told apart by status and by the reader (analyze): a FIFO must not
# hang them (HDF5's open would wait for a writer)
head -c 50000 "$T/ref.h5" > "$T/cut.h5"; : > "$T/empty.h5"; printf 'name: x\n' > "$T/text.h5"
for c in "cut.h5|cut short or damaged (50000 bytes; HDF5: truncated file: eof = 50000" "empty.h5|is empty (0 bytes)" \
         "text.h5|not an HDF5 file (8 bytes, no HDF5 signature)" "fifo|is a device, FIFO or socket" \
         "adir|is a directory" "nope.h5|No such file or directory"; do
  f=${c%%|*} want=${c#*|}
  check "status of $f (exit 1)" 1 timeout 30 "$HS" status "$T/$f"
  contains "  says what it is" "$ERR" "$want"
  check "analyze of $f (exit 1)" 1 timeout 30 "$HS" analyze "$T/$f"
  contains "  says what it is" "$ERR" "$want"
done
# a creator killed before it named its file leaves F.creating (as SIGKILL 0.4 s into a 70 MB
# sweep's start does): status says what it is, and the next run starts afresh
head -c 3000 "$T/ref.h5" > "$T/made.h5.creating"
check "status of a file a killed sweep never finished creating (exit 1)" 1 "$HS" status "$T/made.h5"
contains "  says what happened" "$ERR" "made.h5: not made: a sweep was stopped while creating it, before any training"
check "  the next run starts it" 0 run 2 $S -o "$T/made.h5" --quiet
[ ! -e "$T/made.h5.creating" ] && ok "  and removes the unfinished start" || bad "  made.h5.creating is left"
contains "a cut copy: says to copy it again" "$(timeout 30 "$HS" status "$T/cut.h5" 2>&1)" "copy it again from the original"
[ -z "$(ls "$T"/*.lock 2>/dev/null)" ] && ok "no lock left by the refused analyses" || bad "locks left" "$(ls "$T"/*.lock)"

# ---------------------------------------------------------------- resume by id: edit any axis
cat > "$T/edited.yaml" <<'EOF'
# the small sweep with a seed inserted first, the depths reordered, and depth 3 dropped
name: sweep-test
base:
  data: {kind: gaussian, classes: 3, dim: 6, per_class: 40}
  model: {width: 12}
  train: {opt: momentum, lr: 0.05, epochs: 15, batch: 16}
  record: {every: 5, separation: none}
product:
  seed: [9, 1, 2, 3, 4]
  model.depth: [1, 0]
EOF
cp "$T/ref.h5" "$T/edit.h5"
check "resume with a seed inserted, depths reordered and one dropped" 0 run 2 "$T/edited.yaml" -o "$T/edit.h5" --resume
contains "only the 2 new runs trained" "$OUT" "10 runs: 10 done, 0 diverged, 0 failed, 0 pending; this job finished 2"
check "the edited sweep from scratch" 0 run 1 "$T/edited.yaml" -o "$T/edit-ref.h5" --quiet
r=$(same_by_id "$T/edit.h5" "$T/edit-ref.h5"); [ "$r" = same ] && ok "resumed-by-id equals from scratch" || bad "differs" "$r"
r=$(same_by_id "$T/edit.h5" "$T/ref.h5"); [ "$r" = same ] && ok "the dropped runs are kept unchanged" || bad "kept rows differ" "$r"
check "status of the edited file" 0 "$HS" status "$T/edit.h5"
contains "status counts the kept rows" "$OUT" "4 rows kept from an earlier spec"

# ---------------------------------------------------------------- a run that always kills its rank
printf 'sweep: {max_attempts: 2}\n' | cat - $S > "$T/attempts.yaml"
victim=$("$HS" plan "$T/attempts.yaml" --format tsv | awk 'NR == 3 {print $1}')
export HSWEEP_TEST_CRASH_RUN=$victim
run 2 "$T/attempts.yaml" -o "$T/crash.h5" --quiet >/dev/null 2>&1
wait_unlocked "$T/crash.h5"
run 2 "$T/attempts.yaml" -o "$T/crash.h5" --resume --quiet >/dev/null 2>&1
wait_unlocked "$T/crash.h5"
check "third start: the run is failed for good, the rest finishes" 4 run 2 "$T/attempts.yaml" -o "$T/crash.h5" --resume
contains "says why" "$ERR" "rank died 2 times"
unset HSWEEP_TEST_CRASH_RUN
check "status: complete with one failed run (exit 4: no requeue)" 4 "$HS" status "$T/crash.h5"
contains "status names the reason" "$OUT" "rank died 2 times (sweep.max_attempts = 2): out of memory or a node fault?"
contains "and where the run's memory is" "$OUT" "gives each run's memory_bytes"
att=$("$PY" -c "
import h5py; f = h5py.File('$T/crash.h5', 'r'); ids = list(f['runs/id'][:].astype(str))
print(f['runs/attempts'][ids.index('$victim')], sorted(set(f['runs/attempts'][:])))")
[ "$att" = "2 [1, 2]" ] && ok "attempts counted: 2 for the victim, 1 for the others" || bad "attempts: $att"

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

# ---------------------------------------------------------------- a full disk
if [ "$(id -u)" = 0 ] && mkdir -p "$T/mnt" && mount -t tmpfs -o size=300k tmpfs "$T/mnt" 2>/dev/null; then
  MNT=$T/mnt
  BIG="$S --set train.epochs=300 --set record.every=1"    # about 1.2 MB of records and layers
  check "a file that cannot fit is refused before anything is written" 1 timeout 60 "$MPI" -n 2 "$HS" run $BIG -o "$MNT/big.h5" --progress -1
  contains "says how much it needs" "$ERR" "needs about 1.07 MB more"
  HSWEEP_NO_SPACE_CHECK=1 check "the same with the space check off: ENOSPC met on every rank, no hang" 1 \
    timeout 60 "$MPI" -n 2 "$HS" run $BIG -o "$MNT/big.h5" --progress -1
  contains "names the cause" "$ERR" "No space left on device"
  [ ! -e "$MNT/big.h5" ] && ok "no half-made file left behind" || bad "a half-made file is left"
  check "a small sweep fits" 0 run 2 $S -o "$MNT/fit.h5" --quiet
  sed 's/seed: \[1, 2, 3, 4\]/seed: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]/' $S > "$T/grown.yaml"
  head -c $(( $(df --output=avail -B1 "$MNT" | tail -1) - 4096 )) /dev/zero > "$MNT/filler" 2>/dev/null
  check "resuming a grown sweep on the full disk fails cleanly" 1 timeout 60 "$MPI" -n 2 "$HS" run "$T/grown.yaml" -o "$MNT/fit.h5" --resume --progress -1
  contains "the grow names the cause" "$ERR" "No space left on device"
  check "the finished rows are still readable" 0 "$HS" status "$MNT/fit.h5"
  rm -f "$MNT/filler"
  umount "$MNT" && mount -t tmpfs -o size=4m tmpfs "$MNT" 2>/dev/null
  check "a small sweep on the roomier disk" 0 run 2 $S -o "$MNT/fit.h5" --quiet
  head -c $(( $(df --output=avail -B1 "$MNT" | tail -1) - 4096 )) /dev/zero > "$MNT/filler" 2>/dev/null
  check "grow on a full disk refused" 1 timeout 60 "$MPI" -n 2 "$HS" run "$T/grown.yaml" -o "$MNT/fit.h5" --resume --progress -1
  rm -f "$MNT/filler"
  check "after space is freed, --resume completes the grown sweep" 0 run 2 "$T/grown.yaml" -o "$MNT/fit.h5" --resume --quiet
  contains "only the new runs trained" "$OUT" "48 runs: 48 done, 0 diverged, 0 failed, 0 pending; this job finished 36"
  r=$(same_by_id "$MNT/fit.h5" "$T/ref.h5"); [ "$r" = same ] && ok "nothing lost on the full disk" || bad "rows differ" "$r"
  # analyze on a full disk: its tables are whole or not written at all, earlier ones stay whole
  check "analyze with room" 0 "$HS" analyze "$MNT/fit.h5" --kind finals
  cp "$MNT/fit.finals.csv" "$T/finals-before.csv"
  head -c $(( $(df --output=avail -B1 "$MNT" | tail -1) - 4096 )) /dev/zero > "$MNT/filler" 2>/dev/null
  before=$(sha "$MNT/fit.h5")
  check "analyze again on the full disk is refused" 1 "$HS" analyze "$MNT/fit.h5" --kind finals
  contains "says how much room it needs" "$ERR" "fit.h5: writing the analysis needs about"
  contains "  and why it is not there" "$ERR" "No space left on device"
  [ "$(sha "$MNT/fit.h5")" = "$before" ] && ok "the results file is byte-identical" || bad "the results file changed"
  # (HDF5 1.10 crashed the process at exit when the file's last flush met the full disk)
  cp "$MNT/fit.h5" "$T/roomy.h5"
  head -c "$(df --output=avail -B1 "$MNT" | tail -1)" /dev/zero >> "$MNT/filler" 2>/dev/null   # not a byte left
  check "tables onto the full disk (--prefix) fail" 1 "$HS" analyze "$T/roomy.h5" --kind finals --prefix "$MNT/fit"
  contains "names the cause" "$ERR" "fit.finals.csv: cannot write: No space left on device"
  cmp -s "$MNT/fit.finals.csv" "$T/finals-before.csv" && ok "the earlier table is whole" ||
    bad "the earlier table was cut" "$(wc -c "$MNT/fit.finals.csv")"
  [ -z "$(ls "$MNT" | grep -E '\.tmp-|\.lock$')" ] && ok "no aside copy or lock left" || bad "left behind" "$(ls "$MNT")"
  rm -f "$MNT/filler"
  check "the results file is unharmed" 0 "$HS" status "$MNT/fit.h5"
  umount "$MNT"; MNT=
else
  echo "  skip full-disk checks: cannot mount a tmpfs here (needs root)"
fi

# ---------------------------------------------------------------- checkpoints inside runs
# For an MLP, the CNN and LCN, and the gated net: a job SIGKILLed in the middle of its runs, then a
# job drained by SIGUSR1, then a resume to the end. Runs continue from their checkpoints (saved
# every 0.18 s and on the drain), and every stored value equals the uninterrupted sweep's.
# same_series A B: every series value and point of B's runs equal A's (by id)
same_series() {
  "$PY" - "$1" "$2" <<'PYEOF'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
ia = {x: i for i, x in enumerate(a["runs/id"][:])}
for name in (b["series"] if "series" in b else []):
    for j, x in enumerate(b["runs/id"][:]):
        for d in ("values", "point"):
            assert np.array_equal(a["series"][name][d][ia[x]], b["series"][name][d][j], equal_nan=True), (name, d, x)
print("same")
PYEOF
}
wait_ckpt() { # F: until a run of the sweep writing F has saved a checkpoint, 60 s max
  for _ in $(seq 600); do ls "$1.ckpt"/*.ckpt >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
printf 'sweep: {checkpoint_minutes: 0.003}\n' | cat - tests/specs/train/slow.yaml > "$T/ckpt-mlp.yaml"
printf 'sweep: {checkpoint_minutes: 0.003}\n' | cat - tests/specs/train/gated-tiny.yaml > "$T/ckpt-gated.yaml"
# (the sanitizer pass trains the MLP only: the sweep's side is the same code for every model, and
# unit_checkpoint covers each model's save and restore under the sanitizers)
kinds="mlp hnet gated"; [ "$QUICK" = 1 ] && kinds=mlp
for kind in $kinds; do
  case $kind in
    mlp) spec="$T/ckpt-mlp.yaml --set train.epochs=40"
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
