#!/usr/bin/env bash
# test_figures.sh HSWEEP MPIEXEC PYTHON - what every figure must have, on a real file: a tiny sweep of
# three seeds (tests/specs/train/figures-tiny.yaml), analysed; plot_curves.py and equisep_figure.py
# under HSWEEP_FIGURE_CHECK=1 (figure_common.save refuses an axes with data but no x or y label, a
# legend under 8 pt, no caption); then figures_check.py: PNG and PDF of each, the caption in the
# PNG's Description and the PDF's Subject, the learning-curve band against a ddof-1 std computed by
# hand from the file's records, and the check itself refusing an unlabelled axes. The other figure
# scripts run under the same flag in the tests of their analyses (ctest sets it for every test).
# Run from the source tree root.
set -u
HS=$1 MPI=$2 PY=$3
. "$(dirname "$0")/lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export HSWEEP_FIGURE_CHECK=1
if [ "${HSWEEP_TEST_QUICK:-0}" = 1 ]; then echo "figures: drawn in the release pass (matplotlib only)"; exit 77; fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

check "tiny sweep, 3 seeds x 2 depths, on 2 ranks" 0 "$MPI" -n 2 "$HS" run tests/specs/train/figures-tiny.yaml \
  -o "$T/f.h5" --quiet --progress -1
contains "6 runs done" "$OUT" "6 runs: 6 done"
check "analyze (equisep)" 0 "$MPI" -n 2 "$HS" analyze "$T/f.h5"
check "plot_curves.py" 0 "$PY" analysis/plot_curves.py "$T/f.h5" -o "$T/f-curves.png"
contains "table says ddof 1" "$OUT" "ddof 1"
check "equisep_figure.py" 0 "$PY" analysis/equisep_figure.py "$T/f.h5" --prefix "$T/f"
res=$("$PY" tests/cli/figures_check.py "$T/f.h5" "$T/f-curves" "$T/f-equisep" 2>&1)
case "$res" in ok*) ok "figures: ${res#ok }" ;; *) bad "figure checks" "$res" ;; esac
# a file that is no results file: one line that says so, for every script, no traceback
head -c 20000 "$T/f.h5" > "$T/cut.h5"
for s in analysis/*_figure.py analysis/plot_curves.py; do
  check "$(basename "$s") on a cut copy (exit 1)" 1 "$PY" "$s" "$T/cut.h5"
  case "$ERR" in *Traceback*) bad "  a traceback" "$ERR" ;; *"cut.h5: "*) ok "  one message naming the file" ;;
    *) bad "  no message naming the file" "$ERR" ;; esac
done
finish
