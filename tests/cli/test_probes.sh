#!/usr/bin/env bash
# test_probes.sh HSWEEP MPIEXEC PYTHON - the probes end to end on 2 ranks: a tiny SRHM sweep with
# the sensitivity probes (CNN and LCN, two P, two seeds), `hsweep analyze --kind sensitivity`, its
# tables checked finite and in range and its final S, D, G checked against the stored series
# (numpy); a tiny Fashion-MNIST (cfm) sweep of an MLP with the relative-stability probe, its R_f
# finite and positive at every node and point and constant at the input, `--kind stability`; the
# plan's refusals; then the figure scripts. Run from the source tree root.
set -u
HS=$1 MPI=$2 PY=$3
. "$(dirname "$0")/lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
S=tests/specs/train/probes-srhm.yaml
I=tests/specs/train/probes-images.yaml
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# ---------------------------------------------------------------- sensitivities (SRHM)
check "plan sizes the probe series" 0 "$HS" plan $S
contains "series in the file's size" "$OUT" "sensitivity_S"
check "srhm sweep with probes on 2 ranks" 0 "$MPI" -n 2 "$HS" run $S -o "$T/s.h5" --quiet --progress -1
contains "every run done" "$OUT" "8 runs: 8 done"
check "analyze --kind sensitivity" 0 "$MPI" -n 2 "$HS" analyze "$T/s.h5" --kind sensitivity
contains "summary" "$OUT" "sensitivities of 8 runs (8 finished with probes) in 4 configurations, 2 families"
contains "P* readings" "$OUT" "| family | arch | node | P* (err) | P*_S (S) | P*_D (D) |"
for t in sensitivity.csv sensitivity.md sensitivity-nodes.csv sensitivity-pstar.csv; do
  [ -s "$T/s.$t" ] || bad "no table s.$t"
done
res=$("$PY" - "$T/s.h5" "$T/s.sensitivity.csv" "$T/s.sensitivity-nodes.csv" <<'PYEOF'
import sys, h5py, numpy as np, pandas as pd
f = h5py.File(sys.argv[1], "r")
g = f["analysis/sensitivity"]
# the tables: finite sensitivities between 0 and a few, test errors in [0, 1]
t = pd.read_csv(sys.argv[2])
for q in ("S21", "D21", "S80", "G80"):
    v = t[q + "_mean"].to_numpy()
    assert np.all(np.isfinite(v)) and np.all((v >= 0) & (v < 5)), (q, v)
assert np.all((t["test_err_mean"] >= 0) & (t["test_err_mean"] <= 1))
nodes = pd.read_csv(sys.argv[3])
assert len(nodes) == 4 * 3 * 2, len(nodes)                         # configurations x nodes x levels
v = nodes[["S_mean", "D_mean", "G_mean"]].to_numpy()
assert np.all(np.isfinite(v)) and np.all((v >= 0) & (v < 5)), v
# the analysis' final S, D, G are the means over seeds of each run's last stored point
cfg = g["config"][()]
for name, key in (("sensitivity_S", "S_mean"), ("sensitivity_D", "D_mean"), ("sensitivity_G", "G_mean")):
    vals, pts = f["series/" + name + "/values"][()], f["series/" + name + "/point"][()]
    last = np.array([vals[r, np.flatnonzero(pts[r] >= 0)[-1]] for r in range(len(cfg))])
    for c in range(len(g["label"])):
        assert np.allclose(g[key][c], last[cfg == c].mean(axis=0), rtol=1e-12, atol=0), (name, c)
# S_{k,l} at every stored point of every run is finite, and the points are every record point
acc = f["records/test_acc"][()]
pts = f["series/sensitivity_S/point"][()]
n_rec = np.sum(np.isfinite(acc), axis=1)
for r in range(len(cfg)):
    assert list(pts[r][pts[r] >= 0]) == list(range(n_rec[r])), (r, pts[r], n_rec[r])
    assert np.all(np.isfinite(f["series/sensitivity_S/values"][r][: n_rec[r]]))
# more data, less sensitive: at P = 512 the second layer of the CNN moves less under tau_1 than at 64
P, arch = t["data.n_train"].to_numpy(), t["model.arch"].to_numpy()
d64, d512 = (t["D21_mean"][(arch == "cnn") & (P == p)].item() for p in (64, 512))
assert d512 < d64, (d64, d512)
print("ok")
PYEOF
)
[ "$res" = ok ] && ok "tables finite in [0, 5); final S, D, G are the seeds' means of the series; D_2,1 falls with P" \
  || bad "sensitivity analysis" "$res"

# ---------------------------------------------------------------- relative stability (images)
check "image sweep with the stability probe on 2 ranks" 0 "$MPI" -n 2 "$HS" run $I -o "$T/i.h5" --quiet --progress -1
contains "every run done" "$OUT" "2 runs: 2 done"
check "analyze picks the stability analysis" 0 "$MPI" -n 2 "$HS" analyze "$T/i.h5"
contains "summary" "$OUT" "relative stability of 2 runs (2 finished with probes) in 1 configurations"
[ -s "$T/i.stability.csv" ] && [ -s "$T/i.stability.md" ] && ok "tables written" || bad "no stability tables"
res=$("$PY" - "$T/i.h5" <<'PYEOF'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
R, pts = f["series/stability_R/values"][()], f["series/stability_R/point"][()]
P = f["series/stability_diffeo/values"][()]
for r in range(R.shape[0]):
    v = R[r][pts[r] >= 0]
    assert v.shape == (4, 4), v.shape                                   # 4 record points x 4 nodes
    assert np.all(np.isfinite(v)) and np.all(v > 0), v
    assert np.all(v[:, 0] == v[0, 0]) and v[0, 0] >= 1, v[:, 0]        # the input: fixed, >= 1
    c, T = P[r][pts[r] >= 0][0]
    tmin, tmax = 1 / (np.pi * 100 * np.log(3)), 4 / (np.pi ** 3 * 9 * np.log(3))
    assert c == 3 and abs(T - np.sqrt(tmin * tmax)) < 1e-12 * T, (c, T)
    D, G = (f["series/stability_" + k + "/values"][r][pts[r] >= 0] for k in "DG")
    assert np.allclose(R[r][pts[r] >= 0], D / G, rtol=1e-12)
print("ok")
PYEOF
)
[ "$res" = ok ] && ok "R_f finite and positive at every node and point, R_f = D_f / G_f, the input's fixed and >= 1" \
  || bad "stability series" "$res"

# ---------------------------------------------------------------- refusals before any training
printf 'base:\n  data: {kind: cfm, per_class: 5}\n  record: {sensitivity: 3}\n' > "$T/bad1.yaml"
check "plan refuses sensitivities of image data" 1 "$HS" plan "$T/bad1.yaml"
contains "names the key" "$ERR" "record.sensitivity = 3: the sensitivity probes re-draw the synonyms"
printf 'base:\n  data: {kind: srhm, v: 4, s: 2, L: 2, s0: 1, n_train: 64, n_test: 64}\n  model: {arch: cnn}\n  record: {stability: 10}\n' > "$T/bad2.yaml"
check "plan refuses the stability of SRHM inputs" 1 "$HS" plan "$T/bad2.yaml"
contains "names the key" "$ERR" "record.stability = 10: the diffeomorphisms deform square images"

if [ "${HSWEEP_TEST_QUICK:-0}" != 1 ]; then # matplotlib only: the release pass draws them
  check "sensitivity figures" 0 "$PY" analysis/sensitivity_figure.py "$T/s.h5" --prefix "$T/fig"
  [ -s "$T/fig-sensitivity-nodes.png" ] && [ -s "$T/fig-sensitivity-error.pdf" ] && ok "figures written" \
    || bad "no sensitivity figures" "$OUT"
  check "stability figure" 0 "$PY" analysis/stability_figure.py "$T/i.h5" --prefix "$T/fig"
  [ -s "$T/fig-stability-nodes.png" ] && ok "figure written" || bad "no stability figure" "$OUT"
fi

finish
