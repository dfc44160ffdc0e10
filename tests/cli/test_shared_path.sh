#!/usr/bin/env bash
# test_shared_path.sh HSWEEP MPIEXEC PYTHON - `hsweep train` and a rank of `hsweep run` train a run
# through one code path: every run of a small spec (MLP with separation, gradient norms and
# singular values; a gated network) trained alone gives, bit for bit, the records, layers and
# series its row holds in a 2-rank sweep (runs trained by rank 0 between its answers to the
# worker, and by the worker). The comparison is shown to fail on another seed and on one flipped
# bit. Run from the source tree root (ctest sets the working directory).
set -u
HS=$1 MPIEXEC=$2 PY=$3
. "$(dirname "$0")/lib.sh"
S=tests/specs/train/shared-path.yaml
SAME="$PY $(dirname "$0")/same_run.py"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

check "plan" 0 "$HS" plan $S --format tsv
ids=$(printf '%s\n' "$OUT" | awk 'NR > 1 {print $1}')
[ "$(printf '%s\n' "$ids" | wc -l)" = 3 ] && ok "3 runs" || bad "run count" "$OUT"
check "the sweep on 2 ranks" 0 "$MPIEXEC" -n 2 "$HS" run $S -o "$T/sweep.h5" --quiet --progress -1
ranks=$("$PY" -c "import h5py; print(sorted(set(int(x) for x in h5py.File('$T/sweep.h5')['runs/rank'][()])))")
[ "$ranks" = "[0, 1]" ] && ok "both ranks trained runs" || bad "ranks that trained: $ranks"
for id in $ids; do
  check "train $id alone" 0 "$HS" train $S --run "$id" -o "$T/$id.h5" --quiet
  check "run $id: the single-run file and the sweep row are bit-identical" 0 $SAME "$T/$id.h5" "$T/sweep.h5"
  contains "run $id: every array compared" "$OUT" "$id: identical"
done

# the comparison can fail: another seed of the same run, and one flipped bit of a layer value
first=$(printf '%s\n' "$ids" | head -1)
check "train $first with another seed" 0 "$HS" train $S --run "$first" --set seed=9 -o "$T/seed9.h5" --quiet
check "another seed differs from the sweep row" 1 $SAME "$T/seed9.h5" "$T/sweep.h5" "$first"
contains "in its records, not only its config" "$OUT" "records/train_loss"
cp "$T/$first.h5" "$T/flip.h5"
"$PY" -c "
import h5py, numpy as np
with h5py.File('$T/flip.h5', 'r+') as f:
    d = f['layers/separation']; a = d[()]; b = a.view(np.uint64); b[-1, 0] ^= np.uint64(1); d[...] = a
"
check "one flipped bit differs" 1 $SAME "$T/flip.h5" "$T/sweep.h5"
contains "names the field" "$OUT" "layers/separation"
finish
