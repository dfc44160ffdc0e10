#!/usr/bin/env bash
# test_results.sh HSWEEP MPIEXEC PYTHON - what ordinary actions may not do to a finished results
# file, each tried for real on 2 MPI ranks: run over it (refused; --overwrite moves it aside), -o
# naming a directory, FIFO, missing folder or a path under a file, status and analyze on what is
# no results file (cut, empty, text, FIFO, directory, missing, an unfinished creation), resume an
# edited spec (ids matched, not positions), a run that always kills its rank (bounded attempts),
# and a full disk (tmpfs) at creation, at resume and under analyze. Nothing here depends on timing
# (test_faults.sh has the live writer, signals and kills).
# Run from the source tree root (ctest sets the working directory).
set -u
HS=$1 MPI=$2 PY=$3
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/results_lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
S=tests/specs/train/sweep.yaml
T=$(mktemp -d)
MNT=
cleanup() {
  [ -n "$MNT" ] && umount "$MNT" 2>/dev/null
  pkill -KILL -f "hsweep run .* -o $T/" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

check "reference: the small sweep" 0 run 2 $S -o "$T/ref.h5" --quiet

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

finish
