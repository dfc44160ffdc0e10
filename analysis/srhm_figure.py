"""srhm_figure - the figures of the SRHM sample-complexity analysis (Tomasini & Wyart, ICML 2024).

    hsweep analyze --kind srhm results.h5                       # writes /analysis/srhm
    /usr/bin/python3 analysis/srhm_figure.py results.h5 [--prefix PATH]

Reads only /analysis/srhm (written by hs_analyze_srhm, see include/hsweep/analysis.h): the
configurations, their curves eps(P) (best test error, mean and std over seeds at each P), P* and
the fits. Writes, as PNG and PDF (PATH defaults to the results path without .h5):

  PATH-srhm-curves.png/.pdf    eps against P (log x), one panel per architecture, one colour per
                               s0, one line style per (v, L, s) when there are several; mean over
                               seeds with std error bars, the threshold dotted, P* (interpolated)
                               as a vertical tick on the threshold line.
  PATH-srhm-collapse.png/.pdf  the same curves against P / X (X the theory's scale: (s0+1)^2 n_c m^L
                               for cnn, s^(L/2) (s0+1)^L n_c m^L for lcn, n_c m^L otherwise): they
                               collapse when the prediction holds.
  PATH-srhm-pstar.png/.pdf     P* against X on log-log axes, one marker per architecture, error bars
                               10^(mean +- std) of log10 P* over seeds; the fitted line P* = A X^b per
                               (arch, s) solid, and the published prefactors dashed (P* = 2.5 X CNN
                               s=2, 1.0 X LCN s=2, 3.5 X CNN s=3, 2.5 X LCN s=3) for the (arch, s)
                               present. Configurations that never reach the threshold are listed.

Configurations whose other varying keys (beyond arch, v, L, s, s0) differ get distinct markers and
their label in the legend. Exits 1 with a message when the file has no /analysis/srhm.
Prints one line per written file.
"""
import os
import sys

import h5py
import matplotlib
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from figure_common import OKABE_ITO, ResultsError, open_results, save, seeds_text, text  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

# /analysis/srhm/reached values (HS_SRHM_* in include/hsweep/analysis.h)
NO_DATA, NEVER, REACHED, BELOW_GRID = -1, 0, 1, 2
# Published prefactors of P* = c X (Tomasini & Wyart 2024), by (arch, s).
PUBLISHED = {("cnn", 2): 2.5, ("lcn", 2): 1.0, ("cnn", 3): 3.5, ("lcn", 3): 2.5}
ARCH_ORDER = ["cnn", "lcn", "fcn", "mlp"]
ARCH_STYLE = {"cnn": (OKABE_ITO["blue"], "o"), "lcn": (OKABE_ITO["vermillion"], "s"), "fcn": (OKABE_ITO["orange"], "^"),
              "mlp": (OKABE_ITO["purple"], "D")}
LINESTYLES = ["-", "--", ":", "-."]
MARKERS = ["o", "s", "^", "v", "D", "P", "X", "*"]
PANEL_W, PANEL_H = 4.8, 3.9
NEEDED = ["label", "arch", "v", "n_c", "m", "s", "L", "s0", "X", "p_star", "p_star_closest", "p_star_log10_mean",
          "p_star_log10_std", "reached", "curve_config", "curve_P", "curve_eps_mean", "curve_eps_std", "curve_n",
          "fit_arch", "fit_s", "fit_b", "fit_prefactor", "fit_r", "fit_n", "flag"]


def load(path):
    """/analysis/srhm as plain arrays; ResultsError when it is missing or incomplete."""
    with h5py.File(path, "r") as f:
        if "analysis/srhm" not in f:
            raise ResultsError(f"{path}: no /analysis/srhm: run `hsweep analyze --kind srhm {path}` first")
        g = f["analysis/srhm"]
        missing = [k for k in NEEDED if k not in g]
        if missing:
            raise ResultsError(f"{path}: /analysis/srhm lacks {', '.join(missing)}: analyse again with this hsweep")
        d = {k: g[k][()] for k in g}
        d["threshold"] = float(g.attrs.get("threshold", 0.1))
    for k in ("label", "arch", "fit_arch"):
        d[k] = text(d[k])
    return d


def arch_order(values):
    vals = sorted(set(values), key=lambda a: (ARCH_ORDER.index(a) if a in ARCH_ORDER else len(ARCH_ORDER), a))
    return vals


def extra(d, c):
    """The part of configuration c's label beyond arch, v, L, s, s0, n_c, m (other varying keys)."""
    base = {"arch", "v", "L", "s", "s0", "n_c", "m"}
    parts = [p for p in d["label"][c].split(", ") if p.split("=")[0] not in base and p != "all runs"]
    return ", ".join(parts)


def styles(d, configs):
    """Per configuration: colour by s0, line style by (v, L, s), marker by the other keys; and the
    legend handles that explain them (only the dimensions that vary)."""
    s0s = sorted({int(d["s0"][c]) for c in configs})
    cmap = plt.get_cmap("viridis")
    colour = {s0: cmap(0.85 * i / max(1, len(s0s) - 1)) for i, s0 in enumerate(s0s)}
    groups = sorted({(int(d["v"][c]), int(d["L"][c]), int(d["s"][c])) for c in configs})
    ls = {g: LINESTYLES[i % len(LINESTYLES)] for i, g in enumerate(groups)}
    extras = sorted({extra(d, c) for c in configs})
    mk = {e: MARKERS[i % len(MARKERS)] for i, e in enumerate(extras)}
    out = {}
    for c in configs:
        g = (int(d["v"][c]), int(d["L"][c]), int(d["s"][c]))
        out[c] = (colour[int(d["s0"][c])], ls[g], mk[extra(d, c)])
    handles = [Line2D([], [], color=colour[s0], lw=2, label=f"s0={s0}") for s0 in s0s]
    if len(groups) > 1:
        handles += [Line2D([], [], color="0.3", ls=ls[g], label=f"v={g[0]}, L={g[1]}, s={g[2]}") for g in groups]
    if len(extras) > 1:
        handles += [Line2D([], [], color="0.3", ls="none", marker=mk[e], label=e or "(none)") for e in extras]
    return out, handles


def curve(d, c):
    sel = d["curve_config"] == c
    return d["curve_P"][sel], d["curve_eps_mean"][sel], d["curve_eps_std"][sel]


def panels(n):
    fig, axes = plt.subplots(1, n, figsize=(PANEL_W * n, PANEL_H), squeeze=False)
    return fig, axes[0]


def figure_curves(d, prefix, title, collapse):
    archs = arch_order(d["arch"][d["n_p"] > 0])
    fig, axes = panels(len(archs))
    thr = d["threshold"]
    for ax, arch in zip(axes, archs):
        configs = [c for c in range(len(d["arch"])) if d["arch"][c] == arch and d["n_p"][c] > 0]
        st, handles = styles(d, configs)
        for c in configs:
            P, m, sd = curve(d, c)
            x = P / d["X"][c] if collapse else P
            col, ls, mk = st[c]
            ax.errorbar(x, m, yerr=np.nan_to_num(sd), color=col, ls=ls, marker=mk, ms=3.5, lw=1.2, capsize=2,
                        elinewidth=0.8)
            if not collapse and d["reached"][c] == REACHED:
                ax.plot([d["p_star"][c]], [thr], marker="|", ms=12, mew=2, color=col)
        ax.axhline(thr, color="0.4", ls=":", lw=1)
        ax.set_xscale("log")
        ax.set_ylim(bottom=0)
        ax.set_xlabel("P / X (training-set size over the theory's scale)" if collapse else "training-set size P")
        ax.set_ylabel("best test error (fraction wrong)")
        ax.set_title(arch.upper())
        ax.grid(alpha=0.3, which="both", lw=0.5)
        handles.append(Line2D([], [], color="0.4", ls=":", label=f"threshold {thr:g}"))
        ax.legend(handles=handles, fontsize=8, frameon=False, loc="best")
    what = "collapse: eps against P / X" if collapse else "eps(P), mean +- std over seeds"
    fig.suptitle(f"{title}: SRHM {what}", fontsize=10)
    fig.tight_layout()
    seeds = seeds_text(d["curve_n"][np.isin(d["curve_config"], np.nonzero(d["n_p"] > 0)[0])])
    cap = ("Best test error against P / X, X the theory's sample-complexity scale: the curves collapse when the "
           "prediction holds." if collapse else
           "Best test error eps against the training-set size P, one panel per architecture; tick on the threshold: "
           "P* (interpolated).")
    save(fig, prefix, "srhm-collapse" if collapse else "srhm-curves",
         cap + f" One colour per s0. Points: mean over seeds ({seeds} per point); error bars: +- 1 std over seeds "
         f"(ddof 1), none with one seed; dotted: the threshold {thr:g}.")


def figure_pstar(d, prefix, title):
    fig, ax = plt.subplots(figsize=(PANEL_W * 1.25, PANEL_H * 1.15))
    ok = d["reached"] == REACHED
    xs_all = d["X"][ok]
    if not ok.any():
        print("no configuration reaches the threshold: P* figure has no points")
    lo, hi = (xs_all.min() / 2, xs_all.max() * 2) if ok.any() else (1, 10)
    grid = np.geomspace(lo, hi, 50)
    for arch in arch_order(d["arch"]):
        col, mk = ARCH_STYLE.get(arch, ("0.3", "o"))
        sel = ok & (d["arch"] == arch)
        if sel.any():
            m, sd = d["p_star_log10_mean"][sel], d["p_star_log10_std"][sel]
            lower = np.where(np.isfinite(sd), d["p_star"][sel] - 10 ** (m - sd), 0)
            upper = np.where(np.isfinite(sd), 10 ** (m + sd) - d["p_star"][sel], 0)
            # per-seed spread around the interpolated P* of the mean curve
            ax.errorbar(d["X"][sel], d["p_star"][sel], yerr=[np.clip(lower, 0, None), np.clip(upper, 0, None)],
                        color=col, marker=mk, ls="none", ms=6, capsize=2, label=f"{arch.upper()} P* (interpolated)")
            cl = sel & np.isfinite(d["p_star_closest"])
            ax.plot(d["X"][cl], d["p_star_closest"][cl], marker=mk, mfc="none", color=col, ls="none", ms=8, alpha=0.6,
                    label=f"{arch.upper()} P* (closest grid point)")
        for f in np.where(d["fit_arch"] == arch)[0]:
            if np.isfinite(d["fit_b"][f]):
                ax.plot(grid, d["fit_prefactor"][f] * grid ** d["fit_b"][f], color=col, lw=1.3,
                        label=f"fit {arch.upper()} s={d['fit_s'][f]}: {d['fit_prefactor'][f]:.2g} X^{d['fit_b'][f]:.2f}"
                              f" (r={d['fit_r'][f]:.3f}, n={d['fit_n'][f]})")
            c = PUBLISHED.get((arch, int(d["fit_s"][f])))
            if c is not None:
                ax.plot(grid, c * grid, color=col, ls="--", lw=1, alpha=0.7,
                        label=f"published {arch.upper()} s={d['fit_s'][f]}: {c:g} X")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("X (theory's scale, training samples)")
    ax.set_ylabel(f"P* (training samples to best test error {d['threshold']:g})")
    ax.grid(alpha=0.3, which="both", lw=0.5)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    notes = [f"{d['label'][c]}: {'never reaches' if d['reached'][c] == NEVER else 'below the grid'}"
             for c in range(len(d["label"])) if d["reached"][c] in (NEVER, BELOW_GRID)]
    if notes:
        ax.text(0.99, 0.01, "no P*:\n" + "\n".join(notes[:8]) + ("\n..." if len(notes) > 8 else ""),
                transform=ax.transAxes, ha="right", va="bottom", fontsize=8, color="0.3")
    ax.set_title(f"{os.path.basename(title)}: P* against X", fontsize=10)
    fig.tight_layout()
    save(fig, prefix, "srhm-pstar",
         f"P*, the training-set size where the mean best test error reaches {d['threshold']:g} (interpolated on the "
         "mean curve; open markers: the closest grid point), against the theory's scale X, one marker per "
         "architecture. Error bars: 10^(mean +- 1 std) of log10 P* over seeds (ddof 1). Solid: the fit P* = A X^b "
         "per (arch, s); dashed: the published prefactors.")


def report(d):
    flag = d["flag"]
    hier = int((flag != 3).sum())
    unfinished = int((flag == 1).sum())
    print(f"{int((flag == 0).sum())} of {hier} rhm/srhm runs analysed" +
          (f", {unfinished} unfinished (left out)" if unfinished else ""))
    for code, why in ((NEVER, "never reach the threshold"), (BELOW_GRID, "are below it at the smallest P"),
                      (NO_DATA, "have no finished run")):
        n = int((d["reached"] == code).sum())
        if n:
            print(f"{n} configurations {why}: no P*")


def main(argv):
    opened = open_results(argv, __doc__, "results file after `hsweep analyze --kind srhm`", load)
    if isinstance(opened, int):
        return opened
    d, prefix, path = opened
    title = os.path.basename(path)
    report(d)
    if not (d["n_p"] > 0).any():
        print(f"{path}: no finished rhm/srhm runs yet: nothing to draw", file=sys.stderr)
        return 1
    figure_curves(d, prefix, title, collapse=False)
    figure_curves(d, prefix, title, collapse=True)
    figure_pstar(d, prefix, title)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
