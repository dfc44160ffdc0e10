"""gated_permuted_figure - trained vs held-out pathway error of gated deep linear networks against
the init scale and over training (sweeps/gated-permuted.yaml).

    mpirun -np 2 hsweep analyze results.h5        # writes /analysis/dynamics/gated
    /usr/bin/python3 analysis/gated_permuted_figure.py results.h5 [--prefix PATH]

Reads the raw records (/records/epoch, train_loss, test_loss, train_acc, test_acc) and the run
table; the error is what the dynamics analysis reports (/analysis/dynamics/gated/error_unit): on
the toy task (data.kind gated_toy, MSE) the paper's ||Y - out||_F^2 / 2 per pathway = 14 x the
recorded MSE (4 items x 7 outputs / 2), on the image tasks 1 - accuracy. Trained pathways are the
training rows, held-out pathways the test rows. Writes PNG and PDF:

  PATH-gated-init-scale   final trained (open) and held-out (filled) error against sigma0 = the
                          init scale, one panel per task (toy by init, gated_perm, gated_rot,
                          perm-59 ...), mean over seeds with +- 1 std bars (ddof 1, as the
                          tables); the toy panels also
                          draw the published values (black crosses / plus signs); the toy runs of
                          other than 700 epochs (toy-coverage) against K / M instead, beside the
                          slides' values.
  PATH-gated-curves       held-out (solid) and trained (dashed) error against the epoch, one panel
                          per task, one colour per init scale, mean over seeds.

Each figure's caption (under it, and in the PNG's Description) states the spread over seeds. Exits 1
with a message when the file has no gated runs.
"""
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import figure_common as fc  # noqa: E402
import hsweep_results as hr  # noqa: E402

plt = fc.plt

# The published 7-domain toy sweep (shared/reference/gated-dln-experiments.md, section 4).
PUB_SIGMA = [0.2, 0.66, 1.12, 1.58, 2.04, 2.5]
PUB_TRAINED = [2.27, 0.02, 0.03, 0.01, 0.01, 0.00]
PUB_HELDOUT = [2.36, 0.38, 3.61, 21.4, 49.7, 92.4]
# The slides' held-out error against K/M (M = 7), read by eye (+-10); trained about 0.
PUB_COVER_KM = [1 / 7, 2 / 7, 3 / 7, 4 / 7, 5 / 7, 6 / 7]
PUB_COVER = [215, 90, 10, 0, 0, 0]


def with_fixed_keys(runs, keys):
    """The run table with `keys` as columns: the run table holds only the keys that vary, so a key a
    sweep fixes (data.kind of a toy-only sweep) is read from each run's canonical config text."""
    for k in keys:
        if k not in runs.columns and "config" in runs.columns:
            vals = []
            for text in runs["config"].astype(str):
                kv = dict(line.split("=", 1) for line in text.splitlines()[1:] if "=" in line)
                v = kv.get(k)
                vals.append(v.strip('"') if v is not None else None)
            if any(v is not None for v in vals):
                runs[k] = vals
    return runs


def load(path):
    runs = with_fixed_keys(hr.read_runs(path), ("data.kind", "model.init", "model.init_scale", "train.epochs",
                                                 "data.active", "data.modules"))
    if "data.kind" not in runs.columns or not runs["data.kind"].astype(str).str.startswith("gated").any():
        raise fc.ResultsError(f"{path}: no gated runs (data.kind gated_*)")
    with h5py.File(path, "r") as f:
        rec = {k: f["records/" + k][()] for k in ("epoch", "train_loss", "test_loss", "train_acc", "test_acc")}
        cls = f["runs/data.class_counts"][()] if "runs/data.class_counts" in f else None
    done = runs.status.isin(["done", "diverged"]).to_numpy()
    kind = runs["data.kind"].astype(str).to_numpy()
    init = runs["model.init"].astype(str).to_numpy() if "model.init" in runs else np.array([""] * len(runs))
    epochs = runs["train.epochs"].to_numpy(float) if "train.epochs" in runs else np.full(len(runs), np.nan)
    # the run table holds the keys that vary (K and M do across this sweep's blocks)
    active = runs["data.active"].to_numpy(float) if "data.active" in runs else np.full(len(runs), np.nan)
    modules = runs["data.modules"].to_numpy(float) if "data.modules" in runs else np.full(len(runs), np.nan)
    task = []
    for r in range(len(runs)):
        t = kind[r].replace("gated_", "")
        # K / M must be known to draw against it: the canonical text omits keys at their default
        if t == "toy" and epochs[r] != 700 and np.isfinite(active[r] / modules[r]):
            t = "toy coverage (" + init[r] + ")"  # held-out error against K / M
        elif t == "toy":
            t += " (" + init[r] + ")"
        elif cls is not None and len(fc.text([cls[r]])[0]) > 2:
            t += "-59"  # the block with classes 5..9 only (data.class_counts set)
        task.append(t)
    toy = kind == "gated_toy"
    tr = np.where(toy[:, None], 14 * rec["train_loss"], 1 - rec["train_acc"])
    te = np.where(toy[:, None], 14 * rec["test_loss"], 1 - rec["test_acc"])
    scale = runs["model.init_scale"].to_numpy(float)
    cover = np.array([t.startswith("toy coverage") for t in task])
    x = np.where(cover, active / modules, scale)  # the panel's x: K / M for coverage, else sigma0
    return dict(task=np.array(task), scale=x, done=done, epoch=rec["epoch"], tr=tr, te=te, toy=toy)


def last_finite(a):
    i = np.nonzero(np.isfinite(a))[0]
    return a[i[-1]] if len(i) else np.nan


def seed_std(v):
    """Standard deviation over the finite seeds' values, ddof 1 as the tables; NaN with one seed."""
    v = v[np.isfinite(v)]
    return float(np.std(v, ddof=1)) if len(v) > 1 else np.nan


def init_scale_figure(d, prefix):
    tasks = sorted(set(d["task"][d["done"]]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.6), squeeze=False)
    seeds = []
    for ax, t in zip(axes[0], tasks):
        sel = d["done"] & (d["task"] == t)
        scales = np.unique(d["scale"][sel])
        for key, label, fill in (("tr", "trained", "none"), ("te", "held-out", None)):
            m, sd = [], []
            for s in scales:
                v = np.array([last_finite(d[key][r]) for r in np.nonzero(sel & (d["scale"] == s))[0]])
                m.append(np.nanmean(v)), sd.append(seed_std(v))
                seeds.append(int(np.isfinite(v).sum()))
            m, sd = np.array(m), np.nan_to_num(np.array(sd))
            ax.errorbar(scales, m, yerr=sd, marker="o", mfc=fill, capsize=3, label=f"{label} (measured)")
        if t.startswith("toy coverage"):
            ax.plot(PUB_COVER_KM, PUB_COVER, "k+", ms=9, label="held-out (slides, by eye)")
            ax.set_ylabel("error per pathway ||Y - out||²/2 (squared error)")
            ax.set_yscale("symlog", linthresh=0.1)
        elif t.startswith("toy"):
            ax.plot(PUB_SIGMA, PUB_TRAINED, "kx", label="trained (published)")
            ax.plot(PUB_SIGMA, PUB_HELDOUT, "k+", ms=9, label="held-out (published)")
            ax.set_ylabel("error per pathway ||Y - out||²/2 (squared error)")
            ax.set_yscale("symlog", linthresh=0.1)
        else:
            ax.set_ylabel("error (fraction wrong)")
        if t.startswith("toy coverage"):
            ax.set_xlabel("trained fraction K / M")
        else:
            ax.set_xscale("log")
            ax.set_xlabel("init scale sigma0 (std of the initial weights)")
        ax.set_title(t)
        ax.legend(fontsize=8, loc="best")
    fig.suptitle("Gated deep linear networks: final error on trained vs held-out pathways")
    fig.tight_layout()
    caption = ("Final error on the trained (open) and held-out (filled) pathways against the init scale sigma0 "
               "(coverage panels: against the trained fraction K / M), one panel per task; toy tasks: the squared "
               "error per pathway ||Y - out||^2/2, image tasks: the fraction wrong. Points: mean over seeds "
               f"({fc.seeds_text(seeds)} per point); error bars: +- 1 std over seeds (ddof 1), none with one seed. "
               "Black: the published values.")
    fc.save(fig, prefix, "gated-init-scale", caption)
    print("caption: " + caption)


def curves_figure(d, prefix):
    tasks = sorted(set(d["task"][d["done"]]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.6), squeeze=False)
    spreads, seeds = [], []
    for ax, t in zip(axes[0], tasks):
        sel = d["done"] & (d["task"] == t)
        scales = np.unique(d["scale"][sel])
        cmap = plt.get_cmap("viridis")
        for k, s in enumerate(scales):
            rows = np.nonzero(sel & (d["scale"] == s))[0]
            keep = np.isfinite(d["epoch"][rows[0]])  # the record table is padded to the longest run
            ep = d["epoch"][rows[0]][keep]
            c = cmap(k / max(1, len(scales) - 1))
            te, tr = d["te"][rows][:, keep], d["tr"][rows][:, keep]
            spreads.append(np.nanmax(np.nanmax(te, 0) - np.nanmin(te, 0)))
            seeds.append(len(rows))
            name = "K/M" if t.startswith("toy coverage") else "sigma0"
            ax.plot(ep, np.nanmean(te, 0), "-", color=c, label=f"{name} {s:.3g} held-out")
            ax.plot(ep, np.nanmean(tr, 0), "--", color=c, lw=1)
        ax.set_yscale("symlog" if t.startswith("toy") else "linear", **({"linthresh": 0.1} if t.startswith("toy") else {}))
        ax.set_xlabel("epoch")
        ax.set_ylabel("error per pathway (squared error)" if t.startswith("toy") else "error (fraction wrong)")
        ax.set_title(f"{t} (dashed: trained)")
        ax.legend(fontsize=8, loc="best", ncol=2 if len(scales) > 4 else 1)
    fig.suptitle("Held-out (solid) and trained (dashed) pathway error over training, mean over seeds")
    fig.tight_layout()
    caption = ("Held-out (solid) and trained (dashed) pathway error against epochs, one panel per task, one colour "
               f"per init scale; lines: mean over seeds ({fc.seeds_text(seeds)} per line), no band; the largest "
               f"min..max spread of a held-out curve over seeds is {np.nanmax(spreads):.3g} (median "
               f"{np.nanmedian(spreads):.3g}) in the panel's units.")
    fc.save(fig, prefix, "gated-curves", caption)
    print("caption: " + caption)


def main(argv):
    r = fc.open_results(argv, __doc__, "results file of sweeps/gated-permuted.yaml", load)
    if isinstance(r, int):
        return r
    d, prefix, _ = r
    init_scale_figure(d, prefix)
    curves_figure(d, prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
