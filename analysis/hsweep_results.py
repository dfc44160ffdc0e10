"""hsweep_results - read an hsweep results file (written by `hsweep run`) into pandas.

Needs only Debian's python3-h5py, python3-numpy and python3-pandas.

    import sys; sys.path.insert(0, "analysis")
    import hsweep_results as hr
    runs = hr.read_runs("results.h5")        # one row per run: id, status, varying keys, wall, ...
    long = hr.read_records("results.h5")     # one row per (run, record point): id, keys, epoch, test_acc, ...
    lay = hr.read_layers("results.h5")      # one row per (run, record point, layer): weight_norm, ...
    long[long.status == "done"].groupby("model.depth").test_acc.last()

Also runnable: `python3 analysis/hsweep_results.py results.h5` prints both tables' shapes and heads.

The file layout is documented in include/hsweep/store.h and the README: /runs/<column> [R],
/records/<metric> [R x N] (NaN where a run recorded nothing), /layers/<metric> [R x N x L].
Runs that have not finished (pending, running, failed) are kept with their status, so a partial
file from a running or killed sweep reads fine; filter on `status`.
"""
import sys

import h5py
import numpy as np
import pandas as pd

# The order of hs_run_state in include/hsweep/store.h
STATES = ["pending", "running", "done", "failed", "diverged"]


def _text(a):
    return [x.decode("utf-8") if isinstance(x, bytes) else str(x) for x in a]


def read_runs(path):
    """The run table: one row per run, in plan order."""
    with h5py.File(path, "r") as f:
        runs = f["runs"]
        table = {}
        for name in runs:
            data = runs[name][()]
            if name == "status":
                table[name] = [STATES[int(s)] if int(s) < len(STATES) else "?" for s in data]
            elif data.dtype.kind in "SO":
                table[name] = _text(data)
            else:
                table[name] = data
        first = ["id", "status"]
        cols = first + sorted(k for k in table if k not in first)
        return pd.DataFrame({k: table[k] for k in cols})


def read_records(path, finished_only=False):
    """The long table: one row per (run, record point that exists), with the run's id, status
    and varying config keys, then one column per recorded metric."""
    runs = read_runs(path)
    with h5py.File(path, "r") as f:
        recs = f["records"]
        names = list(recs)
        data = {n: recs[n][()] for n in names}
    if not names:
        return pd.DataFrame()
    R, N = data[names[0]].shape
    # a record point exists where its epoch is recorded
    present = ~np.isnan(data["epoch"]) if "epoch" in data else np.ones((R, N), bool)
    run_idx, rec_idx = np.nonzero(present)
    out = {"run": run_idx, "record": rec_idx}
    keep = [c for c in runs.columns if c not in ("config", "error", "start", "end", "attempts")]
    for c in keep:
        out[c] = runs[c].to_numpy()[run_idx]
    for n in names:
        out[n] = data[n][run_idx, rec_idx]
    long = pd.DataFrame(out)
    if finished_only:
        long = long[long.status.isin(["done", "diverged"])]
    return long.reset_index(drop=True)


def read_layers(path, finished_only=False):
    """Per-layer metrics as a long table: one row per (run, record point, layer) that holds a
    value, with the run's id, status and varying keys, the record point's epoch, and one column
    per /layers metric (e.g. weight_norm, weight_change; layer = dense layer, readout last)."""
    runs = read_runs(path)
    with h5py.File(path, "r") as f:
        names = list(f["layers"])
        data = {n: f["layers"][n][()] for n in names}
        epoch = f["records/epoch"][()] if "epoch" in f["records"] else None
    if not names:
        return pd.DataFrame()
    present = np.zeros(data[names[0]].shape, bool)
    for n in names:
        present |= ~np.isnan(data[n])
    run_idx, rec_idx, layer_idx = np.nonzero(present)
    out = {"run": run_idx, "record": rec_idx, "layer": layer_idx}
    for c in ("id", "status"):
        out[c] = runs[c].to_numpy()[run_idx]
    keep = [c for c in runs.columns if c not in ("id", "status", "config", "error", "start", "end", "attempts",
                                                  "rank", "wall", "epochs_done", "steps")]
    for c in keep:
        out[c] = runs[c].to_numpy()[run_idx]
    if epoch is not None:
        out["epoch"] = epoch[run_idx, rec_idx]
    for n in names:
        out[n] = data[n][run_idx, rec_idx, layer_idx]
    long = pd.DataFrame(out)
    if finished_only:
        long = long[long.status.isin(["done", "diverged"])]
    return long.reset_index(drop=True)


def main(argv):
    if len(argv) != 2:
        print("usage: hsweep_results.py RESULTS.h5", file=sys.stderr)
        return 2
    runs = read_runs(argv[1])
    long = read_records(argv[1])
    print(f"runs: {runs.shape[0]} rows x {runs.shape[1]} columns; "
          + ", ".join(f"{s} {n}" for s, n in runs.status.value_counts().items()))
    print(runs.drop(columns=["config"], errors="ignore").head(10).to_string())
    print(f"records: {long.shape[0]} rows x {long.shape[1]} columns")
    print(long.head(10).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
