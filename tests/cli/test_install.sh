#!/usr/bin/env bash
# test_install.sh CMAKE BUILD_DIR MPIEXEC CC PYTHON - `cmake --install` into a temporary prefix,
# then, from a directory outside the source tree: the installed hsweep plans and runs (2 ranks) an
# installed sweep; the installed Python package (on the PYTHONPATH the install prints) reads its
# file and agrees with `hsweep status` and `hsweep analyze`; `pip install` of python/ works
# offline; and a small C program that expands a spec through the public API builds against the
# installed package, once with find_package(hsweep) and once with pkg-config.
set -u
CMAKE=$1 BUILD=$(cd "$2" && pwd) MPIEXEC=$3 CC=$4 PY=$5
SRC=$(pwd)
. "$SRC/tests/cli/lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
T=$(mktemp -d /tmp/hsweep-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
P=$T/prefix
mkdir -p "$T/work" && cd "$T/work" || exit 1

check "cmake --install --prefix" 0 "$CMAKE" --install "$BUILD" --prefix "$P"
INSTALL_OUT=$OUT
for f in bin/hsweep bin/hsweep-figure include/hsweep/plan.h share/hsweep/sweeps/default.yaml \
         share/hsweep/slurm/hsweep.sbatch share/hsweep/analysis/equisep_figure.py \
         share/hsweep/analysis/hsweep_results.py share/hsweep/analysis/README.md; do
  [ -e "$P/$f" ] && ok "installed $f" || bad "missing $P/$f"
done
CFG=$(find "$P" -name hsweepConfig.cmake) PC=$(find "$P" -name hsweep.pc)
[ -n "$CFG" ] && [ -n "$PC" ] && ok "package files: ${CFG#"$P"/} ${PC#"$P"/}" || bad "no hsweepConfig.cmake or hsweep.pc"
# nothing installed may point back into the build or the source tree
leak=$(grep -rl -e "$SRC" "$(dirname "$CFG")" "$PC" 2>/dev/null)
[ -z "$leak" ] && ok "package files do not name the source or build tree" || bad "paths into the tree" "$leak"

check "installed hsweep plan" 0 "$P/bin/hsweep" plan "$P/share/hsweep/sweeps/default.yaml"
want=$(printf '%s\n' "$OUT" | sed -nE '1s/^default: ([0-9]+) runs .*/\1/p')
[ -n "$want" ] && ok "plan counts $want runs" || bad "no run count in the plan" "$OUT"
check "installed hsweep run on 2 ranks" 0 timeout 120 "$MPIEXEC" --oversubscribe -n 2 "$P/bin/hsweep" run \
  "$P/share/hsweep/sweeps/default.yaml" --set train.epochs=1 --set data.per_class=20 -o tiny.h5
check "status of its file" 0 "$P/bin/hsweep" status tiny.h5
contains "every run done" "$OUT" "$want runs: $want done, 0 diverged, 0 failed"

# the Python package, installed by cmake: the one line the install printed makes it importable
site=$(printf '%s\n' "$INSTALL_OUT" | sed -nE 's/.*Python package hsweep: export PYTHONPATH=(.*)$/\1/p')
[ -n "$site" ] && [ -f "$site/hsweep/__init__.py" ] && ok "install prints PYTHONPATH=${site#"$P"/}" \
  || bad "no PYTHONPATH line naming the installed package" "$INSTALL_OUT"
check "analyze the installed sweep's file (finals)" 0 "$P/bin/hsweep" analyze tiny.h5 --kind finals
read_py='
import sys, csv, hsweep
prefix, want = sys.argv[1], int(sys.argv[2])
assert hsweep.__file__.startswith(prefix + "/"), hsweep.__file__
runs = hsweep.read_runs("tiny.h5")
assert len(runs) == want and list(runs.status) == ["done"] * want, runs.status
rec = hsweep.read_records("tiny.h5")
last = rec.sort_values("record").groupby("run").last()
fin = hsweep.read_analysis("tiny.h5", "finals")
rows = list(csv.DictReader(open("tiny.finals.csv")))
assert len(rows) == len(fin.configs) > 0
for row, (k, c) in zip(rows, fin.configs.iterrows()):
    err = 1 - last.loc[fin.runs.index[fin.runs.config == k], "test_acc"]
    assert abs(c.test_err_mean - float(row["test_err_mean"])) <= 1e-9 * max(1, c.test_err_mean), (c, row)
    assert abs(c.test_err_mean - err.mean()) <= 1e-12, (c.test_err_mean, list(err))
print("ok", len(runs), hsweep.__file__)
'
check "the installed package reads the file" 0 env -u PYTHONHOME PYTHONPATH="$site" "$PY" -c "$read_py" "$P" "$want"
contains "runs, states and final test errors agree with status and analyze" "$OUT" "ok $want $site/hsweep/__init__.py"
# pip, offline, from a copy (pip builds in the source folder)
cp -r "$SRC/python" "$T/pysrc" && rm -rf "$T/pysrc/build" "$T/pysrc"/*.egg-info
check "pip install --no-build-isolation --no-deps (offline)" 0 env PIP_DISABLE_PIP_VERSION_CHECK=1 "$PY" -m pip install \
  --no-build-isolation --no-deps --no-index --no-compile --root-user-action=ignore --target "$T/pip" "$T/pysrc"
check "the pip-installed package reads the file" 0 env -u PYTHONHOME PYTHONPATH="$T/pip" "$PY" -c "$read_py" "$T/pip" "$want"
contains "pip's copy is the one imported" "$OUT" "ok $want $T/pip/hsweep/__init__.py"

check "hsweep-figure lists the scripts" 0 "$P/bin/hsweep-figure" --list
contains "equisep among them" "$OUT" "equisep"
# the installed command makes its page with the installed package and scripts, not the tree's
check "installed hsweep report" 0 "$P/bin/hsweep" report tiny.h5 -o tiny.html
gen=$(grep -o '<meta name="generator" content="[^"]*"' tiny.html)
contains "the page comes from the installed package" "$gen" "hsweep.report $site/hsweep/report.py"
contains "with the installed figure scripts" "$gen" "figure scripts $P/share/hsweep/analysis"
contains "the learning curves drawn" "$(cat tiny.html)" 'data-name="curves"'

cat > count.c <<'C'
#include <stdio.h>

#include "hsweep/plan.h"
#include "hsweep/util.h"

int main(int argc, char **argv) {
    hs_error err = {0};
    hs_spec *spec = NULL;
    hs_plan *plan = NULL;
    hs_plan_opts opts = {0};
    if (argc != 2 || hs_spec_load(argv[1], &spec, &err) != HS_OK || hs_plan_expand(spec, &opts, &plan, &err) != HS_OK) {
        fprintf(stderr, "count: %s\n", err.msg);
        return 1;
    }
    printf("runs %zu\nblas %s\n", plan->n_runs, hs_blas_describe());
    hs_plan_free(plan);
    hs_spec_free(spec);
    return 0;
}
C
cat > CMakeLists.txt <<'C'
cmake_minimum_required(VERSION 3.25)
project(count C)
find_package(hsweep 0.1 REQUIRED)
add_executable(count count.c)
target_link_libraries(count PRIVATE hsweep::hsweep)
C
check "find_package(hsweep): configure" 0 "$CMAKE" -S . -B b -DCMAKE_PREFIX_PATH="$P" -DCMAKE_C_COMPILER="$CC"
check "find_package(hsweep): build" 0 "$CMAKE" --build b
check "find_package(hsweep): run" 0 b/count "$P/share/hsweep/sweeps/default.yaml"
contains "find_package program counts the plan's runs" "$OUT" "runs $want"
check "pkg-config: build" 0 bash -c "\"$CC\" count.c -o count_pc \$(PKG_CONFIG_PATH=\"$(dirname "$PC")\" pkg-config --cflags --libs hsweep)"
check "pkg-config: run" 0 ./count_pc "$P/share/hsweep/sweeps/default.yaml"
contains "pkg-config program counts the plan's runs" "$OUT" "runs $want"
finish
