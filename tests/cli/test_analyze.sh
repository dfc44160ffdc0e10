#!/usr/bin/env bash
# test_analyze.sh HSWEEP MPIEXEC PYTHON - the equi-separation pipeline end to end on 2 ranks:
# run a tiny sweep, `hsweep analyze` it under mpirun, and check the stored fits and the tables
# against a direct computation from the stored D values (numpy), the partial-file case, and the
# figure script; then the neighbours analysis the same way (a tiny record.neighbours sweep, its
# stored curves, fixed points, composition, the time-permuted control and the table against a numpy
# brute-force search). Run from the source tree root (ctest sets the working directory).
set -u
HS=$1 MPI=$2 PY=$3
. "$(dirname "$0")/lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
S=tests/specs/train/equisep-tiny.yaml
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

check "tiny equi-separation sweep on 2 ranks" 0 "$MPI" -n 2 "$HS" run $S -o "$T/eq.h5" --quiet --progress -1
contains "8 runs done" "$OUT" "8 runs: 8 done"
check "analyze on 2 ranks" 0 "$MPI" -n 2 "$HS" analyze "$T/eq.h5"
contains "summary" "$OUT" "8 runs, 8 finished, 8 fitted, 0 flagged"
contains "4 configurations" "$OUT" "4 configurations"
contains "markdown header" "$OUT" "| depth | opt | lr | runs | rho | r |"
contains "markdown rows start with a bar" "$OUT" "| 1 | adam | 0.003 | 2/2 |"
[ -s "$T/eq.equisep.csv" ] && [ -s "$T/eq.equisep.md" ] && ok "tables written beside the file" || bad "no tables"

# stdout's reader gone before the first write (`| head` that has seen enough): the analysis must
# finish and let go of the file's lock, not die of SIGPIPE holding it
"$HS" analyze "$T/eq.h5" --prefix "$T/pipe" 2>"$T/pipe.err" | { exec 0<&-; sleep 1; }
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] && [ ! -e "$T/eq.h5.lock" ] && [ -s "$T/pipe.equisep.csv" ] &&
  ok "analyze into a closed pipe: exit 0, tables written, lock released" ||
  bad "analyze into a closed pipe: exit $rc, lock $(ls "$T"/eq.h5.lock 2>&1)" "$(cat "$T/pipe.err")"
check "status after it" 0 "$HS" status "$T/eq.h5"
case "$OUT" in *"writer: gone"*) bad "status sees a stale lock" "$OUT" ;; *) ok "status sees no stale lock" ;; esac
# stdout on a full disk: a failure that says so, and still no lock left
if [ -c /dev/full ]; then # (a container may lack it; a redirection would then make a file there)
  check "analyze with stdout on a full disk" 1 sh -c '"$0" analyze "$1" --prefix "$2" >/dev/full' "$HS" "$T/eq.h5" "$T/full"
  contains "says the output is incomplete" "$ERR" "the output on stdout is incomplete: No space left on device"
  [ ! -e "$T/eq.h5.lock" ] && ok "lock released after the failed output" || bad "lock left after the failed output"
fi

# killed (SIGKILL: an OOM kill, a lost node) at steps of re-writing its analysis into the file
# (HSWEEP_TEST_KILL_WRITE=N: the open, each group, dataset, attribute and table, the close): every
# dataset stays readable and equal to before (the sweep's, and the previous analysis and tables,
# which the new ones replace only once whole), status names the dead analysis, and the next
# analysis takes the lock over and gives the same table
cp "$T/eq.h5" "$T/kbase.h5"
killed_at() { # N: exit status of an analysis of a fresh copy killed at write N
  cp "$T/kbase.h5" "$T/k.h5" && rm -f "$T/k.h5.lock"
  HSWEEP_TEST_KILL_WRITE=$1 "$HS" analyze "$T/k.h5" --prefix "$T/k" >/dev/null 2>&1
}
after_kill() { # N: the checks on the killed copy
  check "status after a kill at write $1" 0 "$HS" status "$T/k.h5"
  contains "status names the dead analysis (write $1)" "$OUT" "analyse again (hsweep analyze takes the lock over)"
  res=$("$PY" - "$T/kbase.h5" "$T/k.h5" <<'PYEOF'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
seen = []
def visit(name, o):
    if isinstance(o, h5py.Dataset):
        v = o[()]  # every dataset readable and as before, the old analysis and tables too
        w = a[name][()]
        same = np.array_equal(v, w, equal_nan=True) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else np.array_equal(v, w)
        if not same: print("differs:", name); sys.exit(0)
        seen.append(name)
b.visititems(visit)
missing = [n for n in seen if n not in b]
base = []
a.visititems(lambda n, o: base.append(n) if isinstance(o, h5py.Dataset) else None)
print("ok" if sorted(base) == sorted(seen) else "missing: %s" % sorted(set(base) - set(seen)))
PYEOF
)
  [ "$res" = ok ] && ok "every dataset intact after a kill at write $1" || bad "data after a kill at write $1" "$res"
  check "the next analysis after a kill at write $1" 0 "$HS" analyze "$T/k.h5" --prefix "$T/k2"
  cmp -s "$T/k2.equisep.csv" "$T/eq.equisep.csv" && ok "its table as before (write $1)" || bad "table after a kill at write $1"
}
stride=6; [ "${HSWEEP_TEST_QUICK:-0}" = 1 ] && stride=16 # the sanitizer pass checks fewer points
n=1 kills=0 lo=0
while [ $n -lt 500 ]; do
  killed_at $n; rc=$?
  [ $rc -eq 0 ] && break
  [ $rc -eq 137 ] || { bad "analysis killed at write $n: exit $rc"; break; }
  after_kill $n; kills=$((kills + 1)) lo=$n
  n=$((n < 3 ? n + 1 : n + stride))
done
# and the last step before it completes (the close, whose flush writes the metadata): killed at
# lo, complete at n, so bisect
hi=$n
while [ $((hi - lo)) -gt 1 ]; do mid=$(((lo + hi) / 2)); if killed_at $mid; then hi=$mid; else lo=$mid; fi; done
killed_at $lo; [ $? -eq 137 ] && after_kill $lo && kills=$((kills + 1))
[ $kills -ge 4 ] && ok "analysis killed at $kills points, the last at write $lo" || bad "only $kills kill points"
# what a writer killed inside HDF5's close could leave under /.pending is dropped by the next one
"$PY" -c "import h5py, sys; h5py.File(sys.argv[1], 'a').create_dataset('.pending/1-1/x', data=[1.0])" "$T/k.h5"
check "status of a file with a dead writer's pending group" 0 "$HS" status "$T/k.h5"
contains "status names the unfinished write" "$OUT" "unfinished write: /.pending holds an analysis or search result"
check "analysis of a file with a dead writer's pending group" 0 "$HS" analyze "$T/k.h5" --prefix "$T/k3"
res=$("$PY" -c "import h5py, sys; f = h5py.File(sys.argv[1], 'r'); print('.pending' in f, 'equisep' in f['analysis'])" "$T/k.h5")
[ "$res" = "False True" ] && ok "the dead writer's pending group dropped" || bad "pending group after the next analysis" "$res"

res=$("$PY" - "$T/eq.h5" "$T/eq.equisep.csv" <<'PYEOF'
import sys, csv, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
D = f["layers/separation"][()]                       # [R x N x L]
g = f["analysis/equisep"]
R = D.shape[0]
depth = f["runs/model.depth"][()]
for r in range(R):
    t = max(i for i in range(D.shape[1]) if not np.isnan(D[r, i, 0]))   # the final measurement
    d = D[r, t][~np.isnan(D[r, t])]
    assert len(d) == depth[r] + 2, (len(d), depth[r])                    # input + depth+1 hidden
    l = np.arange(len(d)); y = np.log(d)
    slope, intercept = np.polyfit(l, y, 1)
    rr = np.corrcoef(l, y)[0, 1]
    for name, want in (("slope", slope), ("intercept", intercept), ("rho", np.exp(slope)), ("r", rr),
                       ("r2", rr * rr), ("d_first", d[0]), ("d_last", d[-1])):
        got = g[name][r]
        assert abs(got - want) <= 1e-9 * max(1, abs(want)), (r, name, got, want)
    assert g["flag"][r] == 0 and g["n_layers"][r] == len(d)
    hl = np.log(2) / -slope if slope < 0 else np.inf
    assert g["half_life"][r] == hl or abs(g["half_life"][r] - hl) < 1e-9 * abs(hl)
# D at layer 0 is a data-only number: equal for runs with the same data seed
seed = f["runs/data.seed"][()]
for s in set(seed):
    d0 = g["d_first"][seed == s]
    assert np.all(d0 == d0[0]), d0
# the table: one row per configuration, seeds aggregated
rows = list(csv.DictReader(open(sys.argv[2])))
assert len(rows) == 4, len(rows)
assert [r["model.depth"] for r in rows] == ["1", "1", "3", "3"], [r["model.depth"] for r in rows]
assert [r["train.opt"] for r in rows] == ["adam", "sgd", "adam", "sgd"]
cfg = g["config"][()]
for c, row in enumerate(rows):
    rho = g["rho"][cfg == c]; r_ = g["r"][cfg == c]
    assert int(row["n_fitted"]) == 2 == len(rho)
    assert abs(float(row["rho_mean"]) - rho.mean()) < 1e-5 * rho.mean()
    assert abs(float(row["rho_std"]) - rho.std(ddof=1)) < 1e-4 * max(rho.std(ddof=1), 1e-3)
    assert abs(float(row["r_mean"]) - r_.mean()) < 1e-5
    assert int(row["n_obey"]) == int((r_ <= -0.99).sum())
    assert g["label"][c].decode().startswith("depth=" + row["model.depth"] + ", opt=" + row["train.opt"])
print("ok")
PYEOF
)
[ "$res" = ok ] && ok "stored fits equal numpy's fits of the stored D; table rows equal the seed statistics" || bad "fits" "$res"

# a partial file: mark two runs unfinished, as a killed sweep would leave them
"$PY" -c "
import h5py
f = h5py.File('$T/eq.h5', 'r+')
st = f['runs/status'][()]; st[0] = 1; st[5] = 0; f['runs/status'][...] = st"
check "analyze a partial file" 0 "$HS" analyze "$T/eq.h5" --prefix "$T/partial"
contains "partial summary" "$OUT" "8 runs, 6 finished, 6 fitted"
contains "says what is missing" "$OUT" "2 runs are not finished"
res=$("$PY" -c "
import h5py; g = h5py.File('$T/eq.h5')['analysis/equisep']
print(list(g['flag'][()]), int(sum(g['n_fitted'][()])))")
[ "$res" = "[1, 0, 0, 0, 0, 1, 0, 0] 6" ] && ok "unfinished runs flagged 1, not fitted" || bad "partial flags" "$res"

check "analyze a file without D" 1 "$HS" analyze /nonexistent.h5
contains "names the file" "$ERR" "/nonexistent.h5: cannot open"

if [ "${HSWEEP_TEST_QUICK:-0}" != 1 ]; then # matplotlib only: the release pass draws it
  check "figure script" 0 "$PY" analysis/equisep_figure.py "$T/eq.h5" --prefix "$T/fig"
  [ -s "$T/fig-equisep.png" ] && [ -s "$T/fig-equisep.pdf" ] && ok "figure written (PNG and PDF)" || bad "no figure" "$OUT"
fi

# ---------------------------------------------------------------- neighbours: kNN pseudotime, fixed point, composition
N=tests/specs/train/neighbours-tiny.yaml
check "tiny neighbours sweep on 2 ranks" 0 "$MPI" -n 2 "$HS" run $N -o "$T/nb.h5" --quiet --progress -1
check "analyze picks the neighbours analysis" 0 "$MPI" -n 2 "$HS" analyze "$T/nb.h5"
contains "neighbours summary" "$OUT" "of 2 runs, 2 analysed"
contains "per-configuration fixed point" "$(cat "$T/nb.neighbours.md")" "| all runs | 2 |"
res=$("$PY" - "$T/nb.h5" "$T/nb.neighbours.csv" <<'PYEOF'
import sys, csv, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
g = f["analysis/neighbours"]
rows = list(csv.DictReader(open(sys.argv[2])))
V, kc, W = int(g["levels"][0]), int(g.attrs["kc"]), int(g.attrs["window"])
assert (V, kc, W) == (4, 10, 10)
for r in range(2):
    X = f["series/neigh_rep/values"][r]; L = f["series/neigh_labels/values"][r].astype(int)
    rw = f["series/neigh_rows/values"][r].astype(int); pt = f["series/neigh_rep/point"][r]
    assert X.shape == (33, 32, 32) and (pt >= 0).all()
    # the draws: distinct rows within a point, from a fixed pool of 4 rows per leaf
    assert all(len(set(p)) == 32 for p in rw)
    pool = {}
    for row, lab in zip(rw.ravel(), L.ravel()):
        pool.setdefault(lab, set()).add(row)
    assert len(pool) == 16 and all(len(v) <= 4 for v in pool.values()), pool
    Np, S, Wd = X.shape
    Z = X.reshape(Np * S, Wd); N = len(Z); k = min(100, N)
    D2 = ((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(D2, -1)
    I = np.argsort(D2, axis=1, kind="stable")[:, :k]
    pc = np.percentile(I / (N - 1), g["percentiles"][()], axis=1).T.reshape(Np, S, -1).mean(1)
    assert np.allclose(pc, g["pseudotime_pct"][r]), "percentiles"
    drift = ((np.arange(N)[:, None] - I[:, 1:]) / S).mean(1).reshape(Np, S).mean(1)
    assert np.allclose(drift, g["drift"][r]), "drift"
    sm = np.array([np.abs(drift[max(0, j - W + 1):j + 1]).mean() for j in range(Np)])
    fx = int(np.argmin(sm))
    step = f["records/step"][r][pt]
    assert np.allclose(sm, g["drift_abs_smooth"][r]) and fx == g["fixed_index"][r], "fixed point"
    pm = (I / (N - 1)).mean(1).reshape(Np, S).mean(1)
    assert np.allclose(pm, g["pseudotime_mean"][r]), "mean pseudotime"
    # the time-permuted control: a row's position says nothing of its time, so every point's mean
    # neighbour pseudotime is ~0.5 (the 32 x 100 neighbours of a point: sd ~0.005), while the
    # unshuffled search dates the representation (its mean climbs with the point's time: 0.40 ->
    # 0.55 and 0.2 -> 0.7 here, r 0.92 and 0.96 with the point's index)
    cm = g["control_mean"][r]
    assert np.all(np.abs(cm - 0.5) < 0.06), cm
    assert np.corrcoef(pm, np.arange(Np))[0, 1] > 0.8 and np.ptp(pm) > 4 * np.ptp(cm), (pm, cm)
    assert abs(float(rows[r]["control_mean"]) - cm.mean()) < 1e-9, rows[r]
    assert abs(float(rows[r]["control_max_dev"]) - np.abs(cm - 0.5).max()) < 1e-9, rows[r]
    row = rows[r]
    assert int(row["fixed_index"]) == fx and abs(float(row["fixed_x"]) - step[fx] / step[-1]) < 1e-9, row
    assert int(row["seed"]) == r + 1 and int(row["points"]) == 33 and int(row["draws"]) == 32, row
    def lca(a, b):
        for l in range(V):
            if a >> l == b >> l:
                return l
        return V
    share = np.zeros((Np, V)); chance = np.zeros((Np, V))
    for j in range(Np):
        Dj = ((X[j][:, None] - X[j][None]) ** 2).sum(-1); np.fill_diagonal(Dj, -1)
        Ij = np.argsort(Dj, axis=1, kind="stable")[:, 1:kc + 1]
        lv = np.array([[lca(L[j, q], L[j, c]) for c in Ij[q]] for q in range(S)])
        la = np.array([[lca(L[j, q], L[j, c]) for c in range(S) if c != q] for q in range(S)])
        for l in range(V):
            share[j, l], chance[j, l] = (lv <= l).mean(), (la <= l).mean()
            assert np.isclose((lv == l + 1).mean(), g["composition"][r, j, 1, l]), ("within", j, l)
            if l + 2 <= V:
                assert np.isclose((lv == l + 2).mean(), g["composition"][r, j, 2, l]), ("between", j, l)
    assert np.allclose(share, g["composition"][r, :, 0]) and np.allclose(chance, g["composition"][r, :, 3])
    for l in range(V):  # the table's final values: the smoothed last point
        assert abs(float(row[f"share_l{l}"]) - share[-W:, l].mean()) < 1e-9, (l, row)
        assert abs(float(row[f"chance_l{l}"]) - chance[-W:, l].mean()) < 1e-9, (l, row)
    assert float(row["share_l2"]) > float(row["chance_l2"]) + 0.1  # the tree shows at fc1
print("ok")
PYEOF
)
[ "$res" = ok ] && ok "neighbours: pseudotime, fixed point, composition and table equal numpy's brute force" || bad "neighbours" "$res"
if [ "${HSWEEP_TEST_QUICK:-0}" != 1 ]; then
  check "neighbours figure script" 0 "$PY" analysis/neighbours_figure.py "$T/nb.h5" --prefix "$T/nbf" --tsne-points 40
  [ -s "$T/nbf-neighbours-pseudotime.png" ] && [ -s "$T/nbf-neighbours-composition.pdf" ] && \
    ok "neighbours figures written" || bad "no neighbours figures" "$OUT"
  case "$ERR" in # the t-SNE panels need scikit-learn (python3-sklearn); without it they are skipped, said so
    *"no scikit-learn"*) ok "t-SNE skipped without scikit-learn" ;;
    *) contains "t-SNE panels with their trustworthiness" "$OUT" "tsne 0 epoch 4: trustworthiness 0.9" ;;
  esac
fi

finish
