#!/bin/bash
# submit.sh SPEC OUT [NTASKS] [TIME] - submit a sweep (slurm/hsweep.sbatch) and its analysis
# (slurm/hsweep-analyze.sbatch, afterok on the sweep); prints both job ids.
# Environment: HSWEEP (binary, default: hsweep on PATH), LAUNCHER (srun|mpirun), SBATCH_EXTRA
# (more sbatch options for the sweep, e.g. "--partition=long --account=abc"), HSWEEP_ARGS.
set -eu
if [ $# -lt 2 ]; then
  echo "usage: $0 SPEC OUT [NTASKS] [TIME]   e.g. $0 sweeps/x.yaml /scratch/\$USER/x.h5 64 12:00:00" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
SPEC=$(realpath "$1")
OUT=$(realpath -m "$2")
NTASKS=${3:-16}
TIME=${4:-04:00:00}
[ -f "$SPEC" ] || { echo "submit.sh: no spec $SPEC" >&2; exit 2; }
export SPEC OUT
export HSWEEP=${HSWEEP:-$(command -v hsweep || echo hsweep)}
# fail before queueing when the spec does not expand
"$HSWEEP" plan "$SPEC" > /dev/null || { echo "submit.sh: hsweep plan $SPEC failed" >&2; exit 2; }
mkdir -p "$(dirname "$OUT")"
# shellcheck disable=SC2086
sweep=$(sbatch --parsable --ntasks="$NTASKS" --time="$TIME" ${SBATCH_EXTRA:-} "$here/hsweep.sbatch")
sweep=${sweep%%;*}
analyze=$(sbatch --parsable --dependency="afterok:$sweep" ${SBATCH_ANALYZE_EXTRA:-} "$here/hsweep-analyze.sbatch")
analyze=${analyze%%;*}
echo "sweep job:    $sweep"
echo "analysis job: $analyze (afterok:$sweep)"
