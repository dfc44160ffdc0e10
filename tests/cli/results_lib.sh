# results_lib.sh - what the sweep and results-file tests (test_results.sh, test_faults.sh,
# test_sweep.sh, test_sweep_records.sh) share: sweeps on N ranks (in the foreground or the
# background), waits on a sweep's log (until it is mid-sweep) and checkpoints, and comparisons of
# two results files run by run (by id, whatever the row order). Sourced after lib.sh, with HS, MPI
# and PY set.
run() { "$MPI" -n "$1" "$HS" run "${@:2}" --progress -1; }
# bg_run NP ARGS...: the same in the background, with $! the launcher itself (signals reach it)
bg_run() { "$MPI" -n "$1" "$HS" run "${@:2}" --progress -1 & }
wait_first_done() { # LOG: until the sweep writing LOG has finished a run, 60 s max
  for _ in $(seq 600); do grep -q ' done ' "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
# same_by_id A B: every run of B is in A under the same id with bit-identical records, layers and
# status (wall-clock columns aside), whatever the row order of either file
same_by_id() {
  "$PY" - "$1" "$2" <<'PYEOF'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
ia = {x: i for i, x in enumerate(a["runs/id"][:])}
for j, x in enumerate(b["runs/id"][:]):
    if x not in ia: print("missing", x); sys.exit()
    i = ia[x]
    assert a["runs/status"][i] == b["runs/status"][j], x
    for g in ("records", "layers"):
        for k in b[g]:
            if k == "seconds": continue
            u, v = a[g][k][i], b[g][k][j]          # files may pad to different sizes with NaN
            n = tuple(slice(0, min(p, q)) for p, q in zip(u.shape, v.shape))
            assert np.array_equal(u[n], v[n], equal_nan=True), (x, g, k)
            for w in (u, v):
                m = np.ones(w.shape, bool); m[n] = False
                assert np.isnan(w[m]).all(), (x, g, k, "beyond the common part")
print("same")
PYEOF
}
sha() { sha256sum "$1" | cut -c1-64; }
# same_series A B: every series value and point of B's runs equal A's (by id)
same_series() {
  "$PY" - "$1" "$2" <<'PYEOF'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
ia = {x: i for i, x in enumerate(a["runs/id"][:])}
for name in (b["series"] if "series" in b else []):
    for j, x in enumerate(b["runs/id"][:]):
        for d in ("values", "point"):
            assert np.array_equal(a["series"][name][d][ia[x]], b["series"][name][d][j], equal_nan=True), (name, d, x)
print("same")
PYEOF
}
wait_ckpt() { # F: until a run of the sweep writing F has saved a checkpoint, 60 s max
  for _ in $(seq 600); do ls "$1.ckpt"/*.ckpt >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
