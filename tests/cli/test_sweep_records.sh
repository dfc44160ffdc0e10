#!/usr/bin/env bash
# test_sweep_records.sh HSWEEP MPIEXEC PYTHON - what a sweep under real MPI stores beside its
# results, and what it does with runs that fail, each into one real parallel-HDF5 file on 1-2
# ranks: every run's provenance (host, git describe, Slurm ids, compiler, MPI, BLAS) and status
# --runs, a file written before provenance existed, failing runs that do not stop the sweep
# (status, --retry-failed, --max-failures) and a missing data folder refused before any training.
# Nothing here depends on timing (test_sweep.sh has the kills, signals and the sweep's tail).
# Run from the source tree root (ctest sets the working directory).
set -u
HS=$1 MPI=$2 PY=$3
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/results_lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export PYTHONPATH="$PWD/analysis${PYTHONPATH:+:$PYTHONPATH}"
S=tests/specs/train/sweep.yaml FAILING=tests/specs/train/fail.yaml
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# ---------------------------------------------------------------- provenance of every run
# each rank stores where and how it ran with its run's row; the Slurm ids come from the ranks' own
# environment (set through env, not exported: Open MPI would take the job for a Slurm allocation)
check "sweep on 2 ranks under Slurm ids" 0 "$MPI" -n 2 env SLURM_JOB_ID=4242 SLURM_ARRAY_TASK_ID=7 "$HS" run $S \
  -o "$T/prov.h5" --quiet --progress -1
# the git describe the binary was built with (its build tree's generated header; a commit after the
# build moves the tree's own), else the tree's
git_h=$(dirname "$HS")/generated/hsweep_git.h
if [ -f "$git_h" ]; then git_want=$(sed -n 's/^#define HSWEEP_GIT_DESCRIBE "\(.*\)"$/\1/p' "$git_h")
else git_want=$(git describe --always --dirty 2>/dev/null || echo unknown); fi
res=$("$PY" - "$T/prov.h5" "$(hostname)" "$git_want" <<'PYEOF'
import sys, h5py
import hsweep_results as hr
path, host, git = sys.argv[1:4]
runs = hr.read_runs(path)
assert len(runs) == 12 and (runs.status == "done").all()
assert set(runs["rank"]) == {0, 1}, set(runs["rank"])
for col, want in [("host", host), ("git", git), ("slurm_job_id", "4242"), ("slurm_array_task_id", "7"),
                  ("slurm_step_id", "unknown")]:
    assert (runs[col] == want).all(), (col, list(runs[col]), want)
for col in ["compiler", "mpi", "cpu", "blas", "hsweep_version"]:
    assert (runs[col].str.len() > 0).all() and (runs[col] != "unknown").all(), (col, runs[col][0])
assert set(runs.gemm) <= {"hsweep-avx512+blas", "blas"}, set(runs.gemm)
assert (runs.hsweep_version == h5py.File(path, "r").attrs["hsweep_version"]).all()
print("ok")
PYEOF
)
[ "$res" = ok ] && ok "provenance of 12 runs on 2 ranks: host, git describe, Slurm ids, compiler, MPI, BLAS" || bad "provenance" "$res"
check "status --runs" 0 "$HS" status "$T/prov.h5" --runs
[ "$(printf '%s\n' "$OUT" | grep -c " done  *$(hostname) .*$git_want")" = 12 ] && ok "status --runs: host and git of 12 runs" \
  || bad "status --runs" "$OUT"
# a file from before provenance (the column removed) still reads, and a resume adds the column
"$PY" -c "import h5py; del h5py.File('$T/prov.h5', 'a')['runs/provenance']"
check "status --runs of a file without provenance" 0 "$HS" status "$T/prov.h5" --runs
[ "$(printf '%s\n' "$OUT" | grep -c " done  *unknown  *unknown  *unknown  *unknown$")" = 12 ] \
  && ok "status --runs: unknown without provenance" || bad "status --runs without provenance" "$OUT"
check "resume of a file without provenance" 0 run 1 $S -o "$T/prov.h5" --resume --quiet
res=$("$PY" -c "
import hsweep_results as hr, h5py
r = hr.read_runs('$T/prov.h5')
print(len(r), set(r.host), 'provenance' in h5py.File('$T/prov.h5', 'r')['runs'])")
[ "$res" = "12 {'unknown'} True" ] && ok "reader: unknown host for the old rows; resume added the empty column" || bad "old file" "$res"

# ---------------------------------------------------------------- a failing run does not stop the sweep
# fail.yaml's second block reads Fashion-MNIST files that exist but are corrupt: the plan's checks
# pass and those runs fail when they load the data. This copy reads its own copy of the folder,
# which the test repairs before retrying them.
mkdir "$T/fm" && cp tests/specs/train/fm-corrupt/* "$T/fm/"
sed "s#tests/specs/train/fm-corrupt#$T/fm#" $FAILING > "$T/fail.yaml"
FAILING=$T/fail.yaml
check "sweep with 3 failing runs (exit 4: finished with failures)" 4 run 2 $FAILING -o "$T/fail.h5" --quiet
contains "failures counted" "$OUT" "6 runs: 3 done, 0 diverged, 3 failed, 0 pending; this job finished 6"
check "status lists the failures (exit 4)" 4 "$HS" status "$T/fail.h5"
contains "status failed count" "$OUT" "3 done, 0 diverged, 3 failed"
contains "status names the corrupt file" "$OUT" "$T/fm/train-images-idx3-ubyte: not an IDX file"
contains "status suggests --retry-failed" "$OUT" "--retry-failed"
check "resume without --retry-failed leaves them" 4 run 2 $FAILING -o "$T/fail.h5" --resume --quiet
contains "nothing re-run" "$OUT" "6 runs: 3 done, 0 diverged, 3 failed, 0 pending; this job finished 0"
check "--max-failures 1 stops early" 1 run 1 $FAILING -o "$T/maxf.h5" --max-failures 1 --quiet
contains "stopped on failures" "$OUT" "stopped after 1 failed runs"
rm "$T"/fm/* && ln -s /usr/share/datasets/fashion-mnist/* "$T/fm/"
check "resume --retry-failed once the data is repaired" 0 run 2 $FAILING -o "$T/fail.h5" --resume --retry-failed --quiet
contains "the 3 failed runs now done" "$OUT" "6 runs: 6 done, 0 diverged, 0 failed, 0 pending; this job finished 3"
# a folder that is not there at all: refused before any file is created, naming the run and the key
sed "s#tests/specs/train/fm-corrupt#$T/nowhere#" tests/specs/train/fail.yaml > "$T/missing.yaml"
check "a missing data folder fails up front" 1 run 2 "$T/missing.yaml" -o "$T/missing.h5" --quiet
contains "names the run and its data.path" "$ERR" "hsweep: error: run "
contains "names the folder" "$ERR" "data.path=$T/nowhere, data.per_class=5, data.seed=1, seed=1): data.path = $T/nowhere: cannot open the folder: No such file or directory"
[ ! -e "$T/missing.h5" ] && [ ! -e "$T/missing.h5.log" ] && ok "no results file or log for a refused sweep" \
  || bad "a refused sweep left files" "$(ls "$T")"
n=$(printf '%s\n' "$ERR" | grep -c 'error:')
[ "$n" = 1 ] && ok "one error line from 2 ranks" || bad "$n error lines" "$ERR"

finish
