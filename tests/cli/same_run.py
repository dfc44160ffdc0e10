"""same_run.py ONE.h5 SWEEP.h5 [ID] - exit 0 when the run of ONE.h5 (a file of `hsweep train`) is
stored bit for bit the same in SWEEP.h5 (a file of `hsweep run`), else print every difference and
exit 1. ID picks the sweep row (default: ONE.h5's run_id), so a run can be compared with another
on purpose, to prove the comparison fails. Compared: status, config and epochs_done; every
/records field but the wall-clock seconds; every /layers field; every /series (values and points);
the sweep row's padding beyond the run's own extent must be empty (NaN, point -1), and a series
the single run does not have must be empty in its sweep row."""
import sys

import h5py
import numpy as np


def text(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def same_bits(a, b):
    """Equal shapes and equal bytes (floats compared as bit patterns, so -0.0 != 0.0)."""
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    return a.shape == b.shape and a.dtype.itemsize == b.dtype.itemsize and a.tobytes() == b.tobytes()


def empty(x):
    x = np.asarray(x)
    return bool(np.all(x == -1)) if x.dtype.kind in "iu" else bool(np.all(np.isnan(x)))


def main(one_path, sweep_path, want=None):
    bad = []
    checked = 0
    with h5py.File(one_path, "r") as one, h5py.File(sweep_path, "r") as sw:
        rid = want or text(one.attrs["run_id"])
        ids = [text(x) for x in sw["runs/id"][()]]
        if rid not in ids:
            print(f"{rid}: no such run in {sweep_path}")
            return 1
        i = ids.index(rid)
        states = ["pending", "running", "done", "failed", "diverged"]
        if text(one.attrs["status"]) != states[int(sw["runs/status"][i])]:
            bad.append(f"status {text(one.attrs['status'])} vs {states[int(sw['runs/status'][i])]}")
        if text(one.attrs["config"]) != text(sw["runs/config"][i]):
            bad.append("config differs")
        if int(text(one.attrs["epochs_done"])) != int(sw["runs/epochs_done"][i]):
            bad.append("epochs_done differs")
        n = one["records/epoch"].shape[0]
        for k in one["records"]:
            if k == "seconds":  # wall clock
                continue
            a, b = one["records/" + k][()], sw["records/" + k][i]
            checked += 1
            if not same_bits(a, b[:n]) or not empty(b[n:]):
                bad.append(f"records/{k}: {a} vs {b}")
        if sorted(one["records"]) != sorted(sw["records"]):
            bad.append(f"record fields {sorted(one['records'])} vs {sorted(sw['records'])}")
        for k in sw["layers"]:
            b = sw["layers/" + k][i]
            if k not in one.get("layers", {}):
                if not empty(b):
                    bad.append(f"layers/{k}: only in the sweep")
                continue
            a = one["layers/" + k][()]
            checked += 1
            inner = b[: a.shape[0], : a.shape[1]]
            pad = np.ones(b.shape, bool)
            pad[: a.shape[0], : a.shape[1]] = False
            if not same_bits(a, inner) or not empty(b[pad]):
                bad.append(f"layers/{k}: {a} vs {b}")
        mine = set(one["series"]) if "series" in one else set()
        theirs = set(sw["series"]) if "series" in sw else set()
        for name in sorted(mine - theirs):
            bad.append(f"series/{name}: only in the single run")
        for name in sorted(theirs):
            vb, pb = sw[f"series/{name}/values"][i], sw[f"series/{name}/point"][i]
            if name not in mine:
                if not empty(vb) or not empty(pb):
                    bad.append(f"series/{name}: only in the sweep row")
                continue
            va, pa = one[f"series/{name}/values"][()], one[f"series/{name}/point"][()]
            checked += 1
            box = tuple(slice(0, s) for s in va.shape)
            pad = np.ones(vb.shape, bool)
            pad[box] = False
            if not same_bits(va, vb[box]) or not empty(vb[pad]):
                bad.append(f"series/{name}/values differ")
            if not same_bits(pa.astype(np.int64), pb[: pa.shape[0]].astype(np.int64)) or not empty(pb[pa.shape[0]:]):
                bad.append(f"series/{name}/point: {pa} vs {pb}")
            for k, v in one[f"series/{name}"].attrs.items():
                if k in sw[f"series/{name}"].attrs and text(v) != text(sw[f"series/{name}"].attrs[k]):
                    bad.append(f"series/{name} attribute {k}: {text(v)} vs {text(sw[f'series/{name}'].attrs[k])}")
    for b in bad:
        print(f"{rid}: {b}")
    if not bad:
        print(f"{rid}: identical ({checked} arrays)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
