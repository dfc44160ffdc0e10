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
plan=$("$HSWEEP" plan "$SPEC" --format json) || { echo "submit.sh: hsweep plan $SPEC failed" >&2; exit 2; }
mkdir -p "$(dirname "$OUT")"
# Memory: a task whose largest run needs more than the cluster's default memory per CPU would be
# killed by Slurm's cgroup mid-training (or refused by hsweep at its start). Unless SBATCH_EXTRA
# asks for memory itself, ask for the plan's floor + 25% + 256 MB (MPI, HDF5 and evaluation buffers
# come on top of the floor) when the default is smaller; a default of UNLIMITED gives the node's.
mem=()
floor=$(printf '%s\n' "$plan" | sed -n 's/.*"memory_floor_bytes": *\([0-9]*\).*/\1/p' | tail -1)
def=$(scontrol show config 2> /dev/null | sed -n 's/^DefMemPerCPU *= *\([0-9][0-9]*\).*/\1/p')
case " ${SBATCH_EXTRA:-} " in *" --mem"*) def= ;; esac
if [ -n "$floor" ] && [ -n "$def" ]; then
  need=$(( (floor + 1048575) / 1048576 * 5 / 4 + 256 ))
  if [ "$need" -gt "$def" ]; then
    mem=(--mem-per-cpu="${need}M")
    echo "submit.sh: a task needs at least $(( (floor + 1048575) / 1048576 )) MB (hsweep plan); asking" \
         "--mem-per-cpu=${need}M (the default is ${def}M)"
  fi
fi
# shellcheck disable=SC2086
sweep=$(sbatch --parsable --ntasks="$NTASKS" --time="$TIME" "${mem[@]}" ${SBATCH_EXTRA:-} "$here/hsweep.sbatch")
sweep=${sweep%%;*}
analyze=$(sbatch --parsable --dependency="afterok:$sweep" ${SBATCH_ANALYZE_EXTRA:-} "$here/hsweep-analyze.sbatch")
analyze=${analyze%%;*}
echo "sweep job:    $sweep"
echo "analysis job: $analyze (afterok:$sweep)"
