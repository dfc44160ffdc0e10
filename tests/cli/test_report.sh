#!/usr/bin/env bash
# test_report.sh HSWEEP MPIEXEC PYTHON - `hsweep report` end to end: a small real sweep on 2 ranks
# with one failing run, `hsweep analyze`, the page, then the page in headless Chromium
# (report_browser.py: every cell against the file, the states against `hsweep status`, every
# figure decoded, nothing fetched, no console error); the file and its directory untouched; the
# command's errors (no file, no interpreter, a file that is no results file, -o naming the file);
# and a page of a file a sweep is writing.
# Run from the source tree root (ctest sets the working directory).
#   test_report.sh HSWEEP MPIEXEC PYTHON --screenshot OUT.png [RESULTS.h5]: no test; the page of
#   RESULTS.h5 (default: the test sweep, run here) as a 1200 px wide PNG (docs/report.png).
set -u
HS=$1 MPI=$2 PY=$3
. "$(dirname "$0")/lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
S=tests/specs/train/report-tiny.yaml SLOW=tests/specs/train/slow.yaml
BROWSER=tests/cli/report_browser.py
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/data" "$T/out"
F=$T/data/r.h5

# Chromium and selenium are test packages (setup.sh): a missing one skips the browser checks on a
# developer's machine, but fails in CI, where setup.sh installed them.
have_browser=1
{ [ -x /usr/bin/chromium ] || command -v chromium >/dev/null; } && "$PY" -c "import selenium" 2>/dev/null || have_browser=0
if [ $have_browser = 0 ] && [ "${CI:-}" = true ]; then
  bad "chromium, chromium-driver or python3-selenium missing in CI (setup.sh installs them)"; finish; exit 1
fi

if [ "${4:-}" = --screenshot ] && [ -n "${6:-}" ]; then
  "$HS" report "$6" -o "$T/out/shot.html" && "$PY" "$BROWSER" screenshot "$T/out/shot.html" "$5"
  exit $?
fi
check "a sweep with one failing run on 2 ranks (exit 4)" 4 "$MPI" -n 2 "$HS" run $S -o "$F" --quiet --progress -1
check "analyze on 2 ranks" 0 "$MPI" -n 2 "$HS" analyze "$F"
if [ "${4:-}" = --screenshot ]; then
  "$HS" report "$F" -o "$T/out/shot.html" && "$PY" "$BROWSER" screenshot "$T/out/shot.html" "$5"
  exit $?
fi

# the tables are in the file, the same text as beside it
res=$(PYTHONPATH="$PWD/python" "$PY" - "$F" "$T/data/r.equisep" <<'PYEOF'
import sys, h5py, numpy as np
import hsweep
with h5py.File(sys.argv[1], "r") as f:
    stored = f["tables/equisep/csv"][()].decode()
    md = f["tables/equisep/md"][()].decode()
    rho = np.sort(f["analysis/equisep/rho_mean"][()])
assert stored == open(sys.argv[2] + ".csv").read(), "the stored csv differs from the file beside"
assert stored.startswith("model.depth,train.opt,data.path,train.lr,n_runs,"), stored[:80]
assert md == open(sys.argv[2] + ".md").read() and md.startswith("| depth | opt |"), md[:40]
# the package: the tables as DataFrames (%.6g in the CSV), the Markdown, the kinds
tabs = hsweep.read_tables(sys.argv[1])
assert list(tabs) == ["equisep"] == hsweep.table_kinds(sys.argv[1]), list(tabs)
df = tabs["equisep"]
assert len(df) == 5 and list(df.n_runs) == [2, 2, 1, 2, 2], df.n_runs.tolist()
got = np.sort(df.rho_mean.to_numpy(float))
assert np.allclose(got[np.isfinite(got)], rho[np.isfinite(rho)], rtol=1e-5, atol=0), (got, rho)
assert hsweep.read_table_md(sys.argv[1], "equisep") == md
try:
    hsweep.read_table_md(sys.argv[1], "nope")
    raise SystemExit("no KeyError for a missing kind")
except KeyError as e:
    assert "stored: equisep" in str(e), e
print("ok")
PYEOF
)
[ "$res" = ok ] && ok "analyze stored /tables/equisep (= the files beside); hsweep.read_tables reads it" || bad "tables in the file" "$res"

snapshot() { (cd "$T/data" && stat -c '%n %s %Y' . && ls -lA --time-style=+%s.%N . && sha256sum r.h5); }
before=$(snapshot)
check "hsweep report" 0 "$HS" report "$F" -o "$T/out/report.html"
contains "it names the page (on stderr)" "$ERR" "wrote $T/out/report.html"
after=$(snapshot)
[ "$before" = "$after" ] && ok "the file and its directory are untouched" || bad "report wrote beside the file" "$after"
[ "$(ls -A "$T/out")" = report.html ] && ok "nothing else written beside the page" || bad "left behind" "$(ls -A "$T/out")"
# each caption once: under the image as text, not drawn into the image as well (the standalone
# script draws it: its PNG is taller by the caption's lines, the same width)
if [ "${HSWEEP_TEST_QUICK:-0}" != 1 ]; then
  mkdir -p "$T/alone" && (cd "$T/alone" && "$PY" "$OLDPWD/analysis/equisep_figure.py" "$F" --prefix "$T/alone/fig" >/dev/null 2>&1)
  res=$("$PY" - "$T/out/report.html" "$T/alone/fig-equisep.png" <<'PYEOF'
import sys, re, base64, struct
page = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'<figure data-script="equisep_figure.py"[^>]*><img[^>]*src="data:image/png;base64,([^"]+)">'
              r'<figcaption>(.*?)</figcaption>', page, re.S)
assert m, "no equisep figure on the page"
size = lambda png: struct.unpack(">II", png[16:24])        # IHDR: width, height
w1, h1 = size(base64.b64decode(m.group(1)))
w2, h2 = size(open(sys.argv[2], "rb").read())
assert len(m.group(2)) > 40, m.group(2)                  # the caption is on the page, as text
assert h1 < h2 - 40, (w1, h1, w2, h2)                    # and not drawn into the page's image
print("ok")
PYEOF
)
  [ "$res" = ok ] && ok "each caption once: as text under its image, not drawn into it" || bad "caption twice" "$res"
fi
"$HS" status "$F" > "$T/status.txt"
st=$?
[ $st = 4 ] && ok "status: complete with a failed run (exit 4)" || bad "status exit $st"

if [ $have_browser = 1 ] && [ "${HSWEEP_TEST_QUICK:-0}" != 1 ]; then
  # the browser adds no C path: left out of the sanitizer pass
  check "the page in headless Chromium (report_browser.py)" 0 "$PY" "$BROWSER" check "$T/out/report.html" "$F" "$T/status.txt"
  printf '%s\n' "$OUT" | grep -E '^  (ok|FAIL)' | sed 's/^/    /'
  contains "every check of the browser ran" "$OUT" "checks passed"
elif [ $have_browser = 0 ]; then
  echo "  skip the browser checks: chromium or python3-selenium is missing (apt-get install chromium chromium-driver python3-selenium)"
fi

# ---- errors
check "no such file (exit 1)" 1 "$HS" report "$T/nope.h5" -o "$T/out/x.html"
contains "  says so" "$ERR" "nope.h5: no such file"
check "a directory as the results file (exit 1)" 1 "$HS" report "$T" -o "$T/out/x.html"
contains "  says what it is" "$ERR" "$T: is a directory, not a results file"
check "no interpreter (exit 1)" 1 "$HS" report "$F" -o "$T/out/x.html" --python "$T/nopython"
contains "  names it" "$ERR" "no Python interpreter at $T/nopython"
check "without -o (exit 2)" 2 "$HS" report "$F"
check "a file that is no results file: the generator fails (exit 1)" 1 "$HS" report "$T/status.txt" -o "$T/out/x.html"
contains "  with its message" "$ERR" "the report generator failed"
contains "  and the cause" "$ERR" "cannot read as a results file"
check "-o naming the results file is refused (exit 1)" 1 "$HS" report "$F" -o "$F"
contains "  says why" "$ERR" "that is the results file"
[ "$(snapshot)" = "$before" ] && ok "the file is still untouched" \
  || bad "the file changed"
[ ! -e "$T/out/x.html" ] && ok "no page from a failed report" || bad "a page was left by a failed report"
check "-o naming a directory is refused (exit 1)" 1 "$HS" report "$F" -o "$T/out"
contains "  says why" "$ERR" "is a directory"
# a path that is no regular file (a FIFO here, /dev/stdout, a device) is written into, not renamed
# over: as root, a rename would put a regular file in the place of /dev/full
mkdir -p "$T/fifo" && mkfifo "$T/fifo/page"
timeout 60 cat "$T/fifo/page" > "$T/fifo/got.html" &   # bounded: a page that never comes must not hang the test
check "-o naming a FIFO (--no-figures)" 0 "$HS" report "$F" -o "$T/fifo/page" --no-figures
wait
[ -p "$T/fifo/page" ] && ok "  the FIFO is still a FIFO" || bad "  the FIFO was replaced" "$(ls -l "$T/fifo")"
grep -q '^<!DOCTYPE html>' "$T/fifo/got.html" && grep -q '</html>' "$T/fifo/got.html" &&
  ok "  the whole page came through it" || bad "  no page through the FIFO" "$(head -c 200 "$T/fifo/got.html")"
# only once the FIFO came through: a report that renames over its output would, as root, replace
# the machine's /dev/stdout link
if [ -p "$T/fifo/page" ] && [ -L /dev/stdout ]; then
  check "-o /dev/stdout" 0 "$HS" report "$F" -o /dev/stdout --no-figures
  case "$OUT" in *"<figure "*) bad "  --no-figures drew figures" ;; *) ok "  --no-figures leaves the figures out" ;; esac
  case "$OUT" in "<!DOCTYPE html>"*"</html>") ok "  stdout holds the page and nothing else" ;;
    *) bad "  stdout is not the page alone" "$(printf '%s' "$OUT" | head -c 200)" ;; esac
  [ -L /dev/stdout ] && ok "  /dev/stdout is still a link" || bad "  /dev/stdout was replaced"
fi
# a figure script that breaks is shown on the page, with its message, and the page is still made;
# one that declines the file (figure_common's exit 1 with a message) is a note; the scripts of an
# analysis come from the README's table; a PNG's Description text (here not Latin-1, so an iTXt
# chunk) is its caption
mkdir -p "$T/scripts"
printf '| analysis | C | picked by auto when | figures |\n|---|---|---|---|\n| equisep | equisep.c | otherwise | equisep_figure.py, declines_figure.py |\n' > "$T/scripts/README.md"
printf 'import sys\nprint("boom: this figure script is broken", file=sys.stderr)\nsys.exit(3)\n' > "$T/scripts/equisep_figure.py"
printf 'import sys\nprint(sys.argv[1] + ": no runs of mine", file=sys.stderr)\nsys.exit(1)\n' > "$T/scripts/declines_figure.py"
cat > "$T/scripts/plot_curves.py" <<'PYEOF'
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
fig = plt.figure(figsize=(2, 1))
fig.savefig(sys.argv[sys.argv.index("-o") + 1], metadata={"Description": "ρ <per> layer & \"curves\""})
PYEOF
check "a failing figure script does not stop the page" 0 env PYTHONPATH="$PWD/python" "$PY" -m hsweep.report "$F" \
  -o "$T/out/broken.html" --scripts "$T/scripts" --quiet
res=$("$PY" - "$T/out/broken.html" <<'PYEOF'
import sys, re
page = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r'<div class="script-failed" data-script="equisep_figure.py">(.*?)</div>', page, re.S)
assert m and "boom: this figure script is broken" in m.group(1) and "exit 3" in m.group(1), "no failure shown"
m = re.search(r'<div class="script-declined" data-script="declines_figure.py">(.*?)</div>', page, re.S)
assert m and "r.h5: no runs of mine" in m.group(1), "no note of the declining script"
assert page.count('class="script-failed"') == 1, "the declining script counted as failed"
assert page.count("<figure ") == 1 and 'data-name="curves"' in page, "the other figures are gone"
cap = re.search(r'<figure data-script="plot_curves.py" data-name="curves">.*?<figcaption>(.*?)</figcaption>', page, re.S)
assert cap and cap.group(1) == "ρ &lt;per&gt; layer &amp; &quot;curves&quot;", cap and cap.group(1)
print("ok")
PYEOF
)
[ "$res" = ok ] && ok "  the page shows the script's exit and stderr, the declining one's note, the other figure and its caption" || bad "broken script" "$res"

# ---- a file a sweep is writing: the page is made from what is there, and the sweep goes on
LIVE="$SLOW --set train.epochs=400"
"$MPI" -n 2 "$HS" run $LIVE -o "$T/data/live.h5" --quiet --progress -1 >"$T/live.out" 2>&1 &
pid=$!
for _ in $(seq 300); do
  "$HS" status "$T/data/live.h5" 2>/dev/null | grep -q " [1-9][0-9]* running" && break
  sleep 0.1
done
# the figures are left out: the two ranks' training would starve them, and hsweep report runs
# this same module (the figure scripts' reading of a live file is plot_curves.py's, tested with
# the live file of test_faults.sh)
check "report of a live file" 0 env PYTHONPATH="$PWD/python" "$PY" -m hsweep.report "$T/data/live.h5" \
  -o "$T/out/live.html" --no-figures --quiet
kill -TERM $pid 2>/dev/null
wait $pid
res=$("$PY" - "$T/out/live.html" <<'PYEOF'
import sys, re
page = open(sys.argv[1], encoding="utf-8").read()
assert 'id="live"' in page, "no note that a writer holds the file"
n = {s: int(c) for s, c in re.findall(r'data-state="(\w+)" data-count="(\d+)"', page)}
assert n["running"] >= 1 and n["done"] + n["running"] + n["pending"] == 8, n
assert len(re.findall(r'<tr data-run="[0-9a-f]{16}" data-status="running"', page)) == n["running"], "running rows"
print("ok")
PYEOF
)
[ "$res" = ok ] && ok "  it says the file is live and shows the running runs" || bad "live page" "$res"
wait_unlocked "$T/data/live.h5"
check "  the sweep drained unharmed: status says runs are left (exit 3)" 3 "$HS" status "$T/data/live.h5"

finish
