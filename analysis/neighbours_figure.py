"""neighbours_figure - the figures of the neighbours analysis (the hierarchy paper's Fig. 5).

    hsweep analyze --kind neighbours results.h5                 # writes /analysis/neighbours
    /usr/bin/python3 analysis/neighbours_figure.py results.h5 [--prefix PATH] [--tsne-seed S] [--tsne-points N]

Reads /analysis/neighbours (curves, fixed points, configurations; see include/hsweep/analysis.h),
/records/step and epoch, and the stored draws (/series/neigh_rep, neigh_labels) for t-SNE. Written
as PNG and PDF (PATH defaults to the results path without .h5):

  PATH-neighbours-pseudotime   per configuration (columns), first seed: top, the 13 percentiles of
                               the neighbours' pseudotime (smoothed, trailing 10 points) against the
                               relative time x with the diagonal y = x; bottom, the smoothed |drift|
                               of every seed with each seed's fixed point (arg-min) marked. Epoch
                               boundaries dashed. The caption gives the fixed point per seed and
                               its mean +- std.
  PATH-neighbours-composition  per configuration: fraction of each draw's nearest others (among the
                               draws of its own record point) sharing its class at each tree level,
                               mean over seeds +- std (band) of the smoothed curves, chance dashed.
  PATH-neighbours-tsne         t-SNE (scikit-learn, exact, perplexity 30, learning rate 10, the
                               paper's settings, seeded) of 250 draws picked at random among all
                               draws of an epoch, at 5 epochs, first seed of each configuration;
                               coloured by the 4-class level (top row) and by leaf (bottom row).
                               Each panel gives its trustworthiness (k = 5), also printed as a line
                               "tsne <config> epoch <e>: trustworthiness <T>"; the caption the seed.
                               --tsne-points N: N draws per panel instead of 250 (tests).

Exits 1 with a message when the file has no /analysis/neighbours. Prints one line per written file.
"""
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from figure_common import CYCLE, ResultsError, open_results, save, seeds_text, text  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

WINDOW = 10  # NB_WINDOW: the analysis' trailing mean
TSNE_POINTS, TSNE_PERPLEXITY, TSNE_LR = 250, 30.0, 10.0
PUBLISHED = {1.6103e-4: 0.30, 0.0923671: 0.44}  # fixed point x of the paper's two runs


def load(path):
    d = {}
    with h5py.File(path, "r") as f:
        if "analysis/neighbours" not in f:
            raise ResultsError(f"{path}: no /analysis/neighbours: run `hsweep analyze --kind neighbours {path}` first")
        g = f["analysis/neighbours"]
        for k in g:
            d[k] = g[k][()]
        d["label"] = text(d["label"])
        d["window"] = int(g.attrs["window"])
        d["kc"] = int(g.attrs["kc"])
        d["epoch"] = f["records/epoch"][()] if "records/epoch" in f else None
        d["rec_step"] = f["records/step"][()]
        d["ids"] = text(f["runs/id"][()]) if "runs/id" in f else None
    d["path"] = path
    return d


def trailing(x, w=WINDOW):
    out = np.full(x.shape, np.nan)
    for j in range(x.shape[0]):
        seg = x[max(0, j - w + 1):j + 1]
        n = np.sum(np.isfinite(seg), axis=0)
        out[j] = np.where(n > 0, np.nansum(seg, axis=0) / np.maximum(n, 1), np.nan)
    return out


def configs(d):
    cfg = d["config"]
    return [(c, np.nonzero(cfg == c)[0]) for c in range(len(d["label"])) if np.any(cfg == c)]


def epoch_lines(d, r):
    """x of the epoch boundaries of run r: the last step of each epoch over the last step."""
    if d["epoch"] is None:
        return []
    ep, st = d["epoch"][r], d["rec_step"][r]
    ok = np.isfinite(ep) & np.isfinite(st)
    ep, st = ep[ok], st[ok]
    if not len(st) or st[-1] <= 0:
        return []
    xs = [st[np.nonzero(ep == e)[0][0]] / st[-1] for e in np.unique(ep)[1:]]
    return [x for x in xs if x < 1]  # the last point alone starts the epoch after training


def valid(d, r):
    return np.isfinite(d["x"][r])


def fig_pseudotime(d, prefix):
    cs = configs(d)
    fig, axes = plt.subplots(2, len(cs), figsize=(4.8 * len(cs), 7.2), squeeze=False,
                             gridspec_kw={"height_ratios": [2, 1]}, sharex=True)
    notes = []
    for i, (c, runs) in enumerate(cs):
        r0 = runs[0]
        ok = valid(d, r0)
        x = d["x"][r0][ok]
        ax = axes[0, i]
        cmap = plt.get_cmap("viridis")
        for p, pc in enumerate(d["percentiles"]):
            ax.plot(x, d["pseudotime_pct_smooth"][r0][ok, p], color=cmap(p / (len(d["percentiles"]) - 1)), lw=1,
                    label=f"percentile {pc:g}" if pc in (1, 25, 50, 75, 99) else None)
        ax.plot([0, 1], [0, 1], "k:", lw=1, label="y = x")
        if "control_mean" in d:  # files analysed before the control have neither curve
            ax.plot(x, trailing(d["pseudotime_mean"][r0][ok]), color="k", lw=1.2, label="mean")
            ax.plot(x, trailing(d["control_mean"][r0][ok]), color="grey", lw=1.2, ls="--",
                    label="mean, rows shuffled (control)")
        ax.set_title(d["label"][c], fontsize=9)
        ax.set_xlabel("relative training time x = step / last step")
        ax.xaxis.set_tick_params(labelbottom=True)
        ax.set_ylabel("neighbours' pseudotime (relative time)")
        if i == len(cs) - 1:
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
        bx = axes[1, i]
        fx = d["fixed_x"][runs]
        for r in runs:
            okr = valid(d, r)
            bx.plot(d["x"][r][okr], d["drift_abs_smooth"][r][okr], lw=1, alpha=0.8)
            bx.axvline(d["fixed_x"][r], color="C3", lw=0.8, alpha=0.6)  # vermillion in the shared cycle
        bx.set_yscale("log")
        bx.set_xlabel("relative training time x = step / last step")
        bx.set_ylabel("|drift| (smoothed, relative time)")
        for e in epoch_lines(d, r0):
            ax.axvline(e, color="grey", ls="--", lw=0.5)
            bx.axvline(e, color="grey", ls="--", lw=0.5)
        fxs = ", ".join(f"{v:.2f}" for v in fx)
        spread = f"{np.mean(fx):.2f} +- {np.std(fx, ddof=1):.2f}" if len(fx) > 1 else f"{fx[0]:.2f}"
        pub = [v for b, v in PUBLISHED.items() if f"beta={b:.10g}" in d["label"][c]]
        notes.append(f"{d['label'][c]}: fixed x = {spread} over {len(fx)} seeds ({fxs})"
                     + (f"; published {pub[0]:.2f}" if pub else ""))
    fig.suptitle("kNN pseudotime of the stored draws (k = %d, first seed; vermillion lines: each seed's fixed point)"
                 % int(d["k"][cs[0][1][0]]), fontsize=10)
    fig.tight_layout()
    return save(fig, prefix, "neighbours-pseudotime",
                "Top: percentiles (colour, 1 to 99) of the pseudotime of each stored draw's k nearest neighbours among "
                f"all record points, smoothed (trailing {WINDOW} points), first seed, against the relative time x; "
                "dotted: y = x; black: the mean neighbour pseudotime, and dashed the same with the rows shuffled "
                "before the search (the time-permuted control: flat at 0.5 when the search dates the draws). Bottom: the smoothed |drift| of every seed (one line each, so the spread is the lines) "
                "with each seed's fixed point (argmin) as a vertical line; grey dashed: epoch boundaries. Fixed point: "
                "mean +- 1 std over seeds (ddof 1).\n" + "\n".join(notes))


def fig_composition(d, prefix):
    cs = configs(d)
    fig, axes = plt.subplots(1, len(cs), figsize=(4.8 * len(cs), 3.8), squeeze=False, sharey=True)
    for ax, (c, runs) in zip(axes[0], cs):
        V = int(d["levels"][runs[0]])
        ok = valid(d, runs[0])
        x = d["x"][runs[0]][ok]
        cmap = plt.get_cmap("viridis")
        for lv in range(V):
            col = cmap(lv / max(V, 2))
            sh = np.stack([trailing(d["composition"][r][ok, 0, lv]) for r in runs])
            ch = np.stack([trailing(d["composition"][r][ok, 3, lv]) for r in runs])
            m, s = sh.mean(0), sh.std(0, ddof=1) if len(runs) > 1 else np.zeros(len(x))
            ax.plot(x, m, color=col, lw=1.2, label=f"level {lv} ({2 ** (V - lv)} classes)")
            ax.fill_between(x, m - s, m + s, color=col, alpha=0.2, lw=0)
            ax.plot(x, ch.mean(0), color=col, ls="--", lw=0.7)
        for e in epoch_lines(d, runs[0]):
            ax.axvline(e, color="grey", ls="--", lw=0.5)
        ax.set_title(f"{d['label'][c]} ({len(runs)} seeds)", fontsize=9)
        ax.set_xlabel("relative training time x")
        ax.set_ylabel(f"fraction of {d['kc']} nearest sharing the class")
        ax.set_ylim(0, 1.02)
    axes[0, -1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    return save(fig, prefix, "neighbours-composition",
                f"Fraction of each draw's {d['kc']} nearest other draws (of the same record point) that share its "
                "class at each tree level (colour), against the relative training time x, one panel per "
                f"configuration. Solid: mean over seeds ({seeds_text([len(r) for _, r in cs])} per configuration) of "
                f"the smoothed fraction (trailing {WINDOW} points); band: +- 1 std over seeds (ddof 1), none with one "
                "seed; dashed: chance (all other draws of the same record point); grey dashed: epoch boundaries.")


def fig_tsne(d, prefix, seed, npoints=TSNE_POINTS):
    try:
        from sklearn.manifold import TSNE, trustworthiness
    except ImportError:
        print("no scikit-learn (apt-get install python3-sklearn): t-SNE panels skipped", file=sys.stderr)
        return []
    cs = configs(d)
    with h5py.File(d["path"], "r") as f:
        reps = {c: f["series/neigh_rep/values"][runs[0]] for c, runs in cs}
        labs = {c: f["series/neigh_labels/values"][runs[0]] for c, runs in cs}
        pts = {c: f["series/neigh_rep/point"][runs[0]] for c, runs in cs}
    out = []
    for c, runs in cs:
        r0 = runs[0]
        V = int(d["levels"][r0])
        ep = d["epoch"][r0] if d["epoch"] is not None else None
        p = pts[c]
        ok = p >= 0
        X, L = reps[c][ok], labs[c][ok].astype(int)
        pe = ep[p[ok]] if ep is not None else np.floor(np.linspace(0, 9.999, ok.sum()))
        if len(pe) > 1 and np.sum(pe == pe[-1]) == 1:
            pe[-1] = pe[-2]  # the point after the last step belongs with the last epoch
        epochs = np.unique(pe[pe >= 0])
        pick = np.unique(np.round(np.linspace(0, len(epochs) - 1, min(5, len(epochs)))).astype(int))
        fig, axes = plt.subplots(2, len(pick), figsize=(2.8 * len(pick), 5.8), squeeze=False)
        rng = np.random.default_rng(seed)
        coarse_level = max(V - 2, 0)
        for i, e in enumerate(epochs[pick]):
            rows = X[pe == e].reshape(-1, X.shape[-1])
            lab = L[pe == e].reshape(-1)
            sel = rng.choice(len(rows), size=min(npoints, len(rows)), replace=False)
            Z, y = rows[sel], lab[sel]
            perp = min(TSNE_PERPLEXITY, (len(Z) - 1) / 3.0)
            emb = TSNE(n_components=2, perplexity=perp, learning_rate=TSNE_LR, init="random", method="exact",
                       random_state=seed).fit_transform(Z)
            tw = trustworthiness(Z, emb, n_neighbors=5)
            print(f"tsne {c} epoch {int(e) + 1}: trustworthiness {tw:.4f}")
            for row, lv in enumerate((coarse_level, 0)):
                ax = axes[row, i]
                cls = y >> lv
                n_cls = 2 ** (V - lv)
                # few coarse classes: Okabe-Ito; many leaves: viridis (sibling leaves get near colours)
                cmap = (ListedColormap(CYCLE[:n_cls]) if n_cls < len(CYCLE) else plt.get_cmap("viridis"))
                ax.scatter(emb[:, 0], emb[:, 1], c=cls, cmap=cmap, s=6, vmin=0, vmax=max(n_cls - 1, 1))
                ax.set_xticks([]), ax.set_yticks([])
                if row == 0:
                    ax.set_title(f"epoch {int(e) + 1}  (T = {tw:.2f})", fontsize=8)
                ax.set_xlabel("t-SNE 1 (arbitrary)", fontsize=8)
                what = f"{n_cls} classes (level {lv})" if lv else f"leaf ({n_cls} classes)"
                ax.set_ylabel((what + "\n" if i == 0 else "") + "t-SNE 2 (arbitrary)", fontsize=8)
        fig.suptitle(f"t-SNE of the stored draws, {d['label'][c]} (first seed)", fontsize=9)
        fig.tight_layout()
        out += save(fig, prefix, f"neighbours-tsne-{c}",
                    f"t-SNE of {npoints} stored draws per epoch picked at random (numpy seed {seed}) of the first "
                    f"seed, coloured by the coarse class (top) and the leaf (bottom); exact t-SNE, perplexity "
                    f"{TSNE_PERPLEXITY:g}, learning rate {TSNE_LR:g}, random_state {seed}; axes arbitrary (rotation, "
                    "reflection); T = trustworthiness (k = 5). One run, so no spread is shown.")
    return out


def main(argv):
    opt = {"--tsne-seed": 0, "--tsne-points": TSNE_POINTS}
    for k in opt:
        if k in argv:
            i = argv.index(k)
            opt[k] = int(argv[i + 1])
            argv = argv[:i] + argv[i + 2:]
    got = open_results(argv, __doc__, "a results file analysed by `hsweep analyze --kind neighbours`", load)
    if isinstance(got, int):
        return got
    d, prefix, _ = got
    if not np.any(d["config"] >= 0):
        print(f"{d['path']}: no run was analysed", file=sys.stderr)
        return 1
    fig_pseudotime(d, prefix)
    fig_composition(d, prefix)
    fig_tsne(d, prefix, opt["--tsne-seed"], opt["--tsne-points"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
