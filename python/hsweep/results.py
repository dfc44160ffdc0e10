"""hsweep.results - read an hsweep results file (written by `hsweep run`) into pandas.

Needs only Debian's python3-h5py, python3-numpy and python3-pandas.

    import hsweep as hr                      # pip install --no-build-isolation --no-deps ./python
    runs = hr.read_runs("results.h5")        # one row per run: id, status, varying keys, wall, host, ...
    long = hr.read_records("results.h5")     # one row per (run, record point): id, keys, epoch, test_acc, ...
    lay = hr.read_layers("results.h5")      # one row per (run, record point, layer): weight_norm, ...
    long[long.status == "done"].groupby("model.depth").test_acc.last()
    runs, acc, point = hr.read_series("results.h5", "level_acc")  # acc [R x Ns x V], point [R x Ns]
    tab = hr.read_series_long("results.h5", "level_acc")  # one row per (run, point, level): value, epoch

Also runnable: `python3 -m hsweep results.h5` prints both tables' shapes and heads, the
series, the stored analyses (hsweep.analysis) and searches (hsweep.searches).

The file layout is documented in include/hsweep/store.h and the README: /runs/<column> [R],
/records/<metric> [R x N] (NaN where a run recorded nothing), /layers/<metric> [R x N x L],
/series/<name>/values [R x Ns x d1 .. dk] (NaN-padded: a run's own dims and point count may be
smaller) with /series/<name>/point [R x Ns] (the record point, i.e. the index along N, of each
stored point; -1 where none) and the group attributes axes ("rep,class,class") and every (only
when all runs agree). The file of one training (`hsweep train`) has the same /series groups
without the run axis; read_series reads both.
Runs that have not finished (pending, running, failed) are kept with their status, so a partial
file from a running or killed sweep reads fine; filter on `status`.
"""
import functools
import os
import sys
import time

import h5py
import numpy as np
import pandas as pd

# The order of hs_run_state in include/hsweep/store.h
STATES = ["pending", "running", "done", "failed", "diverged"]


def _open(path):
    """Open read-only WITHOUT HDF5's file lock. A sweep writes its file through MPI-IO, which takes
    no lock, so a locking reader would open it anyway; but while a locking reader holds it, every
    serial write into it is refused ("unable to lock file": the search result a stage stores
    mid-sweep, `hsweep analyze`, a resume's first open). Reading never needs the lock: rows are
    final once their state says so (read_runs)."""
    if os.path.exists(path) and not os.path.isfile(path):
        # a FIFO would block HDF5's open until something writes it; a directory has no results
        raise OSError(f"{path}: is a {'directory' if os.path.isdir(path) else 'device, FIFO or socket'}, "
                      "not a results file")
    try:
        return h5py.File(path, "r", locking=False)
    except OSError as e:
        # this process holds the file open already (the caller's own h5py.File, with the lock):
        # HDF5 shares that open and refuses a second one with other locking flags; sharing it takes
        # no lock of its own, so open it with the flags it has
        if "locking flag" not in str(e):
            raise
        return h5py.File(path, "r")
    except (TypeError, ValueError):
        # h5py < 3.5 or HDF5 < 1.10.7 cannot say it per file; the variable works where HDF5 has
        # not read it yet (set HDF5_USE_FILE_LOCKING=FALSE before starting Python to be sure)
        os.environ["HDF5_USE_FILE_LOCKING"] = "FALSE"
        return h5py.File(path, "r")


# A reader racing a writer may see metadata the writer is rewriting (an extent grown, a row half
# flushed) and fail with an OSError from HDF5: the whole read is then retried from the start.
LIVE_RETRIES = 5


def _live(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        for attempt in range(LIVE_RETRIES):
            try:
                return fn(*args, **kwargs)
            except OSError as e:
                # a missing or non-HDF5 file is no race: report it at once
                if (attempt == LIVE_RETRIES - 1 or isinstance(e, FileNotFoundError) or not os.path.isfile(args[0])
                        or "file signature not found" in str(e)):
                    raise
                time.sleep(0.1 * (attempt + 1))
    return wrapper


def _text(a):
    return [x.decode("utf-8") if isinstance(x, bytes) else str(x) for x in a]


def is_config(column):
    """True for a column of the run table that is a config key (the schema's keys are dotted, and
    `seed`); the others are bookkeeping (id, status, rank, attempts, start, end, wall, epochs_done,
    steps, steps_total, in_plan, error, config, provenance and its PROVENANCE fields)."""
    return column == "seed" or "." in column


# The keys of a run's provenance (hs_run_provenance in include/hsweep/run.h), in its order
PROVENANCE = ["host", "cpu", "isa", "gemm", "blas", "hsweep_version", "git", "compiler", "mpi",
              "slurm_job_id", "slurm_step_id", "slurm_array_job_id", "slurm_array_task_id"]


def parse_provenance(text):
    """A run's provenance text ("key=value" lines) as a dict; every key of PROVENANCE is there,
    "unknown" where the text lacks it (a run not stored yet, a file from before provenance)."""
    out = dict.fromkeys(PROVENANCE, "unknown")
    for line in text.splitlines():
        key, eq, value = line.partition("=")
        if eq:
            out[key] = value
    return out


@_live
def read_runs(path):
    """The run table: one row per run, in file order (a resumed file appends new runs at the end;
    in_plan == 0 marks rows a later spec no longer names). Safe on a file being written: values of
    a row are final once its status is done, diverged or failed. Where and how each run ran are
    the columns of PROVENANCE (host, gemm, git, ...: "unknown" when not recorded), parsed from the
    raw `provenance` text."""
    with _open(path) as f:
        runs = f["runs"]
        ids = runs["id"][()]
        # a row exists once its id is written (the last cell of a new row)
        n = len(ids)
        while n and not ids[n - 1]:
            n -= 1
        table = {}
        for name in runs:
            data = runs[name][:n]
            if name == "status":
                table[name] = [STATES[int(s)] if int(s) < len(STATES) else "?" for s in data]
            elif data.dtype.kind in "SO":
                table[name] = _text(data)
            else:
                table[name] = data
        if "provenance" not in table:
            table["provenance"] = [""] * n
        parsed = [parse_provenance(t) for t in table["provenance"]]
        first = ["id", "status"]
        cols = first + sorted(k for k in table if k not in first)
        frame = {k: table[k] for k in cols}
        for key in PROVENANCE:
            frame[key] = [p[key] for p in parsed]
        return pd.DataFrame(frame)


@_live
def read_records(path, finished_only=False):
    """The long table: one row per (run, record point that exists), with the run's id, status
    and varying config keys, then one column per recorded metric."""
    runs = read_runs(path)
    with _open(path) as f:
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
    keep = ["id", "status"] + [c for c in runs.columns if is_config(c)]
    for c in keep:
        out[c] = runs[c].to_numpy()[run_idx]
    for n in names:
        out[n] = data[n][run_idx, rec_idx]
    long = pd.DataFrame(out)
    if finished_only:
        long = long[long.status.isin(["done", "diverged"])]
    return long.reset_index(drop=True)


@_live
def read_layers(path, finished_only=False):
    """Per-layer metrics as a long table: one row per (run, record point, layer) that holds a
    value, with the run's id, status and varying keys, the record point's epoch, and one column
    per /layers metric (e.g. weight_norm, weight_change; layer = dense layer, readout last)."""
    runs = read_runs(path)
    with _open(path) as f:
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
    keep = [c for c in runs.columns if is_config(c)]
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


@_live
def series_names(path):
    """The names of the /series groups of a results file or a single-run file (sorted)."""
    with _open(path) as f:
        return sorted(f["series"]) if "series" in f else []


@_live
def series_axes(path, name):
    """The per-point axis names of a series, e.g. ["rep", "class", "class"] ([] for a scalar)."""
    with _open(path) as f:
        a = _series_group(f, path, name).attrs["axes"]
    a = a.decode("utf-8") if isinstance(a, bytes) else str(a)
    return [x for x in a.split(",") if x]


def _series_group(f, path, name):
    if "series" not in f or name not in f["series"]:
        have = ", ".join(sorted(f["series"])) if "series" in f else "none"
        raise KeyError(f"{path}: no series '{name}' (series in the file: {have})")
    return f["series"][name]


@_live
def read_series(path, name):
    """One series as arrays: (runs, values, point).

    Results file: runs is the run table (read_runs, row r = run r), values the float64 array
    [R x Ns x d1 .. dk] (NaN where run r stored nothing: fewer points, smaller dims of its own, or
    not finished), point the int64 array [R x Ns] of record points (index into the
    /records/<metric> columns; -1 where nothing is stored). Single-run file (`hsweep train`):
    runs is None, values [n x d1 .. dk], point [n]. Raises KeyError naming the series when the
    file has no such series."""
    with _open(path) as f:
        g = _series_group(f, path, name)
        values, point = g["values"][()], g["point"][()]
        is_results = "runs" in f
    return (read_runs(path) if is_results else None), values, point


def _axis_columns(axes, ndim):
    """Column names for the per-point axes: repeated names get _2, _3, ... ("class", "class_2")."""
    names = axes + [f"axis{k}" for k in range(len(axes), ndim)]
    out, seen = [], {}
    for a in names[:ndim]:
        seen[a] = seen.get(a, 0) + 1
        out.append(a if seen[a] == 1 else f"{a}_{seen[a]}")
    return out


@_live
def read_series_long(path, name, finished_only=False):
    """One series as a long table: one row per (run, stored point, per-point index) holding a
    value, with the run's id, status and varying keys, `point` (the stored point's position j),
    `record` (its record point) and `epoch` / `step` of that record point, one column per axis
    (named by the series' axes; a repeated name gets _2, e.g. class, class_2), and `value`."""
    runs, values, point = read_series(path, name)
    axes = series_axes(path, name)
    if runs is None:  # a single-run file: one run
        values, point = values[None], point[None]
        runs = pd.DataFrame({"id": ["run"], "status": ["?"]})
    ndim = values.ndim - 2
    cols = _axis_columns(axes, ndim)
    idx = np.nonzero(~np.isnan(values))
    run_idx, pt_idx = idx[0], idx[1]
    rec = point[run_idx, pt_idx]
    out = {"run": run_idx}
    keep = ["id", "status"] + [c for c in runs.columns if is_config(c)]
    for c in keep:
        out[c] = runs[c].to_numpy()[run_idx]
    out["point"], out["record"] = pt_idx, rec
    with _open(path) as f:
        for m in ("epoch", "step"):
            if "records" in f and m in f["records"]:
                data = f["records"][m][()]
                if data.ndim == 1:
                    data = data[None]
                ok = (rec >= 0) & (rec < data.shape[1])
                out[m] = np.where(ok, data[run_idx, np.clip(rec, 0, data.shape[1] - 1)], np.nan)
    for k, c in enumerate(cols):
        out[c] = idx[2 + k]
    out["value"] = values[idx]
    long = pd.DataFrame(out)
    if finished_only and "status" in long:
        long = long[long.status.isin(["done", "diverged"])]
    return long.reset_index(drop=True)


def main(argv):
    if len(argv) != 2:
        print("usage: python3 -m hsweep RESULTS.h5", file=sys.stderr)
        return 2
    runs = read_runs(argv[1])
    long = read_records(argv[1])
    print(f"runs: {runs.shape[0]} rows x {runs.shape[1]} columns; "
          + ", ".join(f"{s} {n}" for s, n in runs.status.value_counts().items()))
    print(runs.drop(columns=["config"], errors="ignore").head(10).to_string())
    print(f"records: {long.shape[0]} rows x {long.shape[1]} columns")
    print(long.head(10).to_string())
    for name in series_names(argv[1]):
        _, values, point = read_series(argv[1], name)
        print(f"series {name}: values {list(values.shape)} (axes: {','.join(series_axes(argv[1], name)) or '-'}), "
              f"{int((point >= 0).sum())} stored points")
    from .analysis import analysis_names, read_analysis
    from .searches import read_searches
    for name in analysis_names(argv[1]):
        a = read_analysis(argv[1], name)
        print(f"analysis {name}: {len(a.runs)} runs, {len(a.configs)} configurations"
              + "".join(f", {t} [{len(v)}]" for t, v in a.tables.items())
              + (f"; arrays {', '.join(sorted(a.arrays))}" if a.arrays else ""))
    s = read_searches(argv[1])
    for _, row in s.iterrows():
        print(f"search {row.stage} {row.group}: {row.status}, {row.key}* = {row.crossing:.6g} in [{row.lo:g}, {row.hi:g}]")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
