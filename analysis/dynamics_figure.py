"""dynamics_figure - the figures of the learning-dynamics analysis.

    hsweep analyze --kind dynamics results.h5                   # writes /analysis/dynamics
    /usr/bin/python3 analysis/dynamics_figure.py results.h5 [--prefix PATH]

Reads the raw series (/series/<name>/values and point, /records/step and epoch, /layers) and what
hs_analyze_dynamics stored under /analysis/dynamics (configurations, theory curves, fixed points;
see include/hsweep/analysis.h). Each figure is drawn only when the file has its data; written as
PNG and PDF (PATH defaults to the results path without .h5):

  PATH-dynamics-levels      test accuracy per tree level against optimiser steps, one panel per
                            hierarchy configuration (e.g. data.kind x model.act), levels coloured
                            coarse (dark) to fine (light), mean over seeds of the trailing mean over
                            the last 10 stored points (the analysis' smoothing); 0.9 dotted.
  PATH-dynamics-center-gap  cousin minus sibling centroid cosine distance against steps, one row per
                            configuration, one column per representation (input, Linear outputs,
                            block outputs, logits), one colour per level; seeds averaged, smoothed.
  PATH-dynamics-richlazy    rich vs lazy: final |W - W0| / |W0| and (|W| - |W0|) / |W0| per layer
                            against the first layer's init scale (log x; mean +- std over seeds;
                            weight decay as separate markers), and the training-loss curves.
  PATH-dynamics-weights     first-layer weight vectors (rows of weights_first, 2-D inputs) at the
                            first and last snapshot for the smallest (rich) and largest (lazy) init
                            scale without weight decay, first seed.
  PATH-dynamics-dln         deep linear nets: measured mode strengths u_a (solid) against the theory
                            a(t) (dashed), one panel per configuration, first seed.
  PATH-dynamics-gated       gated nets: singular values of the shared layer Wh (solid) against the
                            ODE's b_h (dashed) and the fixed point b_h* (dotted), one panel per
                            configuration, first seed.

Exits 1 with a message when the file has no /analysis/dynamics. Prints one line per written file.
"""
import os
import sys
import warnings

import h5py
import matplotlib
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from figure_common import ResultsError, open_results, save, seeds_text, text  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# levels without a value (the top level's center gap, padding) average to NaN on purpose
warnings.filterwarnings("ignore", message="Mean of empty slice")
warnings.filterwarnings("ignore", message="Degrees of freedom <= 0")

WINDOW = 10  # HS_DYN_WINDOW: the trailing mean of the analysis
THRESHOLD = 0.9  # HS_DYN_ACC_THRESHOLD
PANEL_W, PANEL_H = 4.4, 3.3


def load(path):
    """Everything the figures need as plain arrays; ResultsError without /analysis/dynamics."""
    d = {"series": {}}
    with h5py.File(path, "r") as f:
        if "analysis/dynamics" not in f:
            raise ResultsError(f"{path}: no /analysis/dynamics: run `hsweep analyze --kind dynamics {path}` first")
        g = f["analysis/dynamics"]
        d["label"] = text(g["label"][()])
        d["config"] = g["config"][()]
        d["flag"] = g["flag"][()]
        for k in ("init_scale", "weight_decay", "weight_change", "norm_change"):
            if k in g:
                d[k] = g[k][()]
        for part in ("hierarchy", "richlazy", "dln", "gated"):
            if part in g:
                d[part] = {k: g[part][k][()] for k in g[part]}
        for k in ("step", "epoch", "train_loss"):
            if k in f["records"]:
                d[k] = f["records"][k][()]
        if "series" in f:
            for name in ("level_acc", "center_gap", "mode_strength", "singular_values", "weights_first"):
                if name in f["series"]:
                    d["series"][name] = (f["series"][name]["values"][()], f["series"][name]["point"][()])
    if "order" in d.get("hierarchy", {}):
        d["hierarchy"]["order"] = text(d["hierarchy"]["order"])
    return d


def configs_of(d, runs):
    """Configurations (sorted) of the selected runs (a boolean mask), each with its run indices."""
    cfg = d["config"]
    out = []
    for c in sorted(set(int(x) for x in cfg[runs & (cfg >= 0)])):
        out.append((c, np.nonzero(runs & (cfg == c))[0]))
    return out


def steps_of(d, r, point, key="step"):
    """The step (or epoch) of each stored point of run r (NaN where none)."""
    rec = d[key][r]
    p = point[r]
    ok = (p >= 0) & (p < rec.shape[0])
    return np.where(ok, rec[np.clip(p, 0, rec.shape[0] - 1)], np.nan)


def trailing(x, w=WINDOW):
    """Trailing mean along axis 0 over the last up to w finite values (as the analysis)."""
    out = np.full(x.shape, np.nan)
    for j in range(x.shape[0]):
        seg = x[max(0, j - w + 1):j + 1]
        n = np.sum(np.isfinite(seg), axis=0)
        s = np.nansum(seg, axis=0)
        out[j] = np.where(n > 0, s / np.maximum(n, 1), np.nan)
    return out


def grid(n, ncols=None):
    ncols = ncols or min(n, 3)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(PANEL_W * ncols, PANEL_H * nrows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def seed_mean(d, runs, values, point, key="step"):
    """Mean over runs of the smoothed values on the first run's point grid (runs of a configuration
    share their schedule); returns (steps, mean)."""
    r0 = runs[0]
    t = steps_of(d, r0, point, key)
    ok = np.isfinite(t)
    stack = [trailing(values[r][ok]) for r in runs]
    return t[ok], np.nanmean(np.stack(stack), axis=0)


# ---------------------------------------------------------------- figures

def fig_levels(d, prefix):
    if "hierarchy" not in d or "level_acc" not in d["series"]:
        return []
    values, point = d["series"]["level_acc"]
    cfgs = configs_of(d, d["hierarchy"]["has"] == 1)
    if not cfgs:
        return []
    fig, axes = grid(len(cfgs))
    for ax, (c, runs) in zip(axes, cfgs):
        t, m = seed_mean(d, runs, values, point)
        nv = int(np.nanmax(d["hierarchy"]["n_levels"][runs]))
        cmap = plt.get_cmap("viridis")
        for lev in range(nv - 1, -1, -1):
            ax.plot(t, m[:, lev], color=cmap(1 - (lev + 0.5) / nv), lw=1.5, label=f"level {lev}")
        ax.axhline(THRESHOLD, color="k", ls=":", lw=1)
        ax.set_title(d["label"][c], fontsize=9)
        ax.set_xlabel("optimiser step")
        ax.set_ylabel("test accuracy (fraction correct, smoothed)")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=8, title="coarse -> fine", loc="best")
    fig.suptitle(f"accuracy per tree level (level 0 = leaves), mean over seeds, trailing mean of {WINDOW} points")
    fig.tight_layout()
    return save(fig, prefix, "dynamics-levels",
                "Test accuracy per level of the label tree (level 0 = leaves) against optimiser steps, one panel per "
                f"configuration; each curve the trailing mean over the last {WINDOW} stored points, averaged over "
                "seeds "
                f"({seeds_text([len(r) for _, r in cfgs])} per configuration); no band (the analysis' table gives the "
                f"spread of the crossing steps); dotted: accuracy {THRESHOLD:g}.")


def fig_center_gap(d, prefix):
    if "hierarchy" not in d or "center_gap" not in d["series"]:
        return []
    values, point = d["series"]["center_gap"]
    cfgs = configs_of(d, d["hierarchy"]["has"] == 1)
    if not cfgs:
        return []
    reps, V = values.shape[2], values.shape[3]
    fig, axes = plt.subplots(len(cfgs), reps, figsize=(2.8 * reps, 2.4 * len(cfgs)), squeeze=False, sharey="row")
    cmap = plt.get_cmap("viridis")
    names = ["input"] + [f"{'linear' if q % 2 else 'block'} {(q - 1) // 2}" for q in range(1, reps - 1)] + ["logits"]
    for i, (c, runs) in enumerate(cfgs):
        t = steps_of(d, runs[0], point)
        ok = np.isfinite(t)
        m = np.nanmean(np.stack([trailing(values[r][ok].reshape(int(ok.sum()), -1)) for r in runs]), axis=0)
        m = m.reshape(-1, reps, V)
        for q in range(reps):
            ax = axes[i, q]
            for lev in range(V - 1):
                if np.any(np.isfinite(m[:, q, lev])):
                    ax.plot(t[ok], m[:, q, lev], color=cmap(1 - (lev + 0.5) / V), lw=1.2, label=f"level {lev}")
            ax.axhline(0, color="k", lw=0.5)
            ax.set_title(names[q] if q < len(names) else f"rep {q}", fontsize=9)
            ax.set_ylabel((d["label"][c].replace(", ", "\n") + "\n" if q == 0 else "") + "center gap (cosine dist.)",
                          fontsize=8)
            ax.set_xlabel("optimiser step", fontsize=8)
    axes[0, -1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.suptitle("center gap: cousin minus sibling centroid cosine distance, per representation and level")
    fig.tight_layout()
    return save(fig, prefix, "dynamics-center-gap",
                "Center gap (mean cosine distance between the centroids of cousin classes minus that of sibling "
                "classes) per representation (columns) and tree level (colours) against optimiser steps, one row per "
                f"configuration; trailing mean over {WINDOW} stored points, averaged over seeds "
                f"({seeds_text([len(r) for _, r in cfgs])} per configuration); no band.")


def fig_richlazy(d, prefix):
    if "richlazy" not in d or "weight_change" not in d:
        return []
    xor = np.zeros(d["config"].shape, bool)
    cfgs_all = d["richlazy"]["n_runs"]
    for c in np.nonzero(cfgs_all > 0)[0]:
        xor |= d["config"] == c
    cfgs = configs_of(d, xor)
    if not cfgs:
        return []
    L = d["weight_change"].shape[1]
    fig, axes = plt.subplots(1, 3, figsize=(PANEL_W * 3, PANEL_H))
    decays = sorted(set(float(d["weight_decay"][runs[0]]) for _, runs in cfgs))
    markers = ["o", "s", "^", "D", "v", "P"]
    for k, (name, title) in enumerate([("weight_change", "|W - W0| / |W0|"), ("norm_change", "(|W| - |W0|) / |W0|")]):
        ax = axes[k]
        for l in range(L):
            for j, wd in enumerate(decays):
                xs, ms, ss = [], [], []
                for c, runs in cfgs:
                    if float(d["weight_decay"][runs[0]]) != wd:
                        continue
                    v = d[name][runs, l]
                    xs.append(d["init_scale"][runs[0]]), ms.append(np.nanmean(v))
                    ss.append(np.nanstd(v, ddof=1) if np.sum(np.isfinite(v)) > 1 else 0)
                o = np.argsort(xs)
                ax.errorbar(np.array(xs)[o], np.array(ms)[o], yerr=np.array(ss)[o], marker=markers[j % len(markers)],
                            color=f"C{l}", ls="-" if j == 0 else "none", capsize=2,
                            label=f"layer {l}" + ("" if len(decays) == 1 else f", decay {wd:g}"))
        ax.set_xscale("log")
        if name == "weight_change":
            ax.set_yscale("log")
        ax.set_xlabel("first-layer init scale (std of the weights)")
        ax.set_ylabel(f"{title} (dimensionless)")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8, loc="best")
    ax = axes[2]
    for i, (c, runs) in enumerate(cfgs):
        ep = d["epoch"][runs[0]]
        ok = np.isfinite(ep)
        ax.plot(ep[ok], np.nanmean(d["train_loss"][runs][:, ok], axis=0), color=f"C{i}", lw=1.2, label=d["label"][c])
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (dimensionless)")
    ax.set_title("training loss (mean over seeds)", fontsize=10)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.suptitle("rich vs lazy: relative weight change against init scale (mean +- std over seeds)")
    fig.tight_layout()
    return save(fig, prefix, "dynamics-richlazy",
                "Rich vs lazy: relative change of each layer's weights |W - W0| / |W0| (left) and of their norm "
                "(|W| - |W0|) / |W0| (middle) at the end of training against the first layer's init scale, one colour "
                "per layer (markers: weight decay); points: mean over seeds "
                f"({seeds_text([len(r) for _, r in cfgs])} per configuration), error bars: +- 1 std over seeds "
                "(ddof 1), none with one seed. Right: training loss, mean over seeds, no band.")


def fig_weights(d, prefix):
    if "richlazy" not in d or "weights_first" not in d["series"]:
        return []
    values, point = d["series"]["weights_first"]
    if values.shape[3] != 2:
        return []
    cand = [(float(d["init_scale"][runs[0]]), c, runs) for c, runs in configs_of(d, d["flag"] == 0)
            if d["richlazy"]["n_runs"][c] > 0 and float(d["weight_decay"][runs[0]]) == 0]
    if not cand:
        return []
    cand.sort(key=lambda x: x[0])
    picks = [("rich", cand[0]), ("lazy", cand[-1])] if len(cand) > 1 else [("", cand[0])]
    fig, axes = plt.subplots(1, len(picks), figsize=(PANEL_W * len(picks), PANEL_W))
    axes = np.atleast_1d(axes)
    for ax, (name, (scale, c, runs)) in zip(axes, picks):
        r = runs[0]
        have = np.nonzero(np.any(np.isfinite(values[r].reshape(values.shape[1], -1)), axis=1))[0]
        if len(have) == 0:
            continue
        w0, w1 = values[r, have[0]], values[r, have[-1]]
        ax.scatter(w0[:, 0], w0[:, 1], s=8, color="0.6", label="start")
        ax.scatter(w1[:, 0], w1[:, 1], s=8, color="C3" if name == "rich" else "C0", label="end")
        ax.axhline(0, color="k", lw=0.4), ax.axvline(0, color="k", lw=0.4)
        ax.set_aspect("equal", "datalim")
        ax.set_title(f"{name} (init scale {scale:g})", fontsize=10)
        ax.set_xlabel("w[0] (first input coordinate)"), ax.set_ylabel("w[1] (second input coordinate)")
        ax.legend(fontsize=8, loc="best")
    fig.suptitle("first-layer weight vectors at the first and last snapshot (first seed)")
    fig.tight_layout()
    return save(fig, prefix, "dynamics-weights",
                "First-layer weight vectors (one point per hidden unit) at the first (grey) and the last stored "
                "snapshot, for the smallest (rich) and the largest (lazy) init scale without weight decay; one run "
                "(the first seed), so no spread is shown.")


def fig_dln(d, prefix):
    if "dln" not in d or "mode_strength" not in d["series"]:
        return []
    values, point = d["series"]["mode_strength"]
    g = d["dln"]
    cfgs = configs_of(d, g["has"] == 1)
    if not cfgs:
        return []
    fig, axes = grid(len(cfgs))
    for ax, (c, runs) in zip(axes, cfgs):
        r = runs[0]
        t = g["step"][r]
        ok = np.isfinite(t)
        for a in range(values.shape[2]):
            if not np.any(np.isfinite(values[r, ok, a])):
                continue
            ax.plot(t[ok], values[r, ok, a], color=f"C{a}", lw=1.5, label=f"mode {a} (s={g['s'][r, a]:.3g})")
            if np.any(np.isfinite(g["theory"][r, ok, a])):
                ax.plot(t[ok], g["theory"][r, ok, a], color=f"C{a}", ls="--", lw=1)
        ax.set_title(d["label"][c], fontsize=9)
        ax.set_xlabel("optimiser step")
        ax.set_ylabel("mode strength u_a^T W v_a (dimensionless)")
        ax.legend(fontsize=8, loc="best")
    fig.suptitle("deep linear nets: measured mode strengths (solid) and theory (dashed), first seed")
    fig.tight_layout()
    return save(fig, prefix, "dynamics-dln",
                "Deep linear nets: measured strength of each input-output mode (solid) against the theory from the "
                "measured start (dashed: Saxe et al.'s closed form or the deep ODE), against optimiser steps, one "
                "panel per configuration; one run (the first seed), so no spread is shown.")


def fig_gated(d, prefix):
    if "gated" not in d or "singular_values" not in d["series"]:
        return []
    values, point = d["series"]["singular_values"]
    g = d["gated"]
    cfgs = configs_of(d, g["has"] == 1)
    if not cfgs:
        return []
    fig, axes = grid(len(cfgs))
    for ax, (c, runs) in zip(axes, cfgs):
        r = runs[0]
        M = int(g["modules"][r])
        ep = g["epoch"][r]
        ok = np.isfinite(ep)
        for a in range(values.shape[3]):
            sv = values[r, ok, M, a]
            if not np.any(np.isfinite(sv)):
                continue
            ax.plot(ep[ok], sv, color=f"C{a}", lw=1.5, label=f"mode {a}")
            if np.any(np.isfinite(g["ode_h"][r, ok, a])):
                ax.plot(ep[ok], g["ode_h"][r, ok, a], color=f"C{a}", ls="--", lw=1)
            if np.isfinite(g["fixed_point"][r, a]):
                ax.axhline(g["fixed_point"][r, a], color=f"C{a}", ls=":", lw=0.8)
        ax.set_title(d["label"][c], fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylabel("singular value of Wh (dimensionless)")
        ax.legend(fontsize=8, loc="best")
    fig.suptitle("gated nets: shared-layer singular values (solid), ODE b_h (dashed), fixed point (dotted)")
    fig.tight_layout()
    return save(fig, prefix, "dynamics-gated",
                "Gated nets: singular values of the shared layer Wh (solid) against the neural-race ODE b_h (dashed) "
                "and its fixed point b_h* (dotted), against epochs, one panel per configuration; one run (the first "
                "seed), so no spread is shown.")


def main(argv):
    got = open_results(argv, __doc__, "results file analysed by `hsweep analyze --kind dynamics`", load)
    if isinstance(got, int):
        return got
    d, prefix, _ = got
    out = []
    for f in (fig_levels, fig_center_gap, fig_richlazy, fig_weights, fig_dln, fig_gated):
        out += f(d, prefix)
    if not out:
        print("no figure: the file has none of the dynamics data (hierarchy, rich/lazy, dln, gated)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
