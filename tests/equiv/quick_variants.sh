#!/usr/bin/env bash
# quick_variants.sh HSWEEP OUTDIR [NP] - run every ready sweep in sweeps/ as a quick variant (3
# epochs; srhm-paper also on training sets of at most 500 samples) on NP MPI ranks (default 2)
# into OUTDIR/<name>.h5, then analyse each. Two builds' OUTDIRs compare with compare.sh: a
# refactoring that keeps behaviour gives the same numbers bit for bit.
set -u
HS=$(realpath "$1"); OUT=$2; NP=${3:-2}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$OUT"
rc=0
for spec in "$HERE"/sweeps/*.yaml; do
  name=$(basename "$spec" .yaml)
  q="$OUT/$name.yaml"
  sed -E 's/epochs: [0-9]+/epochs: 3/g' "$spec" > "$q"
  if [ "$name" = srhm-paper ]; then
    sed -i -E 's/to: (100000|300000), num: 15/to: 500, num: 3/; s/data\.n_train: \[[0-9, ]+\]/data.n_train: [464]/; s/data\.n_train: 100000\}/data.n_train: 500}/' "$q"
  fi
  rm -rf "$OUT/$name.h5" "$OUT/$name.h5".*
  start=$SECONDS
  mpiexec -np "$NP" "$HS" run "$q" -o "$OUT/$name.h5" --quiet --progress -1 > "$OUT/$name.run.txt" 2>&1 || { echo "$name: run failed (see $OUT/$name.run.txt)"; rc=1; }
  "$HS" analyze "$OUT/$name.h5" > "$OUT/$name.analyze.txt" 2>&1 || echo "$name: analyze exit $? (see $OUT/$name.analyze.txt)"
  echo "$name: $((SECONDS - start)) s"
done
exit $rc
