"""sensitivity_figure - the figures of the SRHM sensitivity analysis (Tomasini & Wyart, ICML 2024).

    hsweep run spec.yaml -o results.h5                          # with record.sensitivity > 0
    hsweep analyze --kind sensitivity results.h5                # writes /analysis/sensitivity
    /usr/bin/python3 analysis/sensitivity_figure.py results.h5 [--prefix PATH]

Reads only /analysis/sensitivity (written by the sensitivity analysis, see
include/hsweep/analysis.h). Writes, as PNG and PDF (PATH defaults to the results path without .h5):

  PATH-sensitivity-nodes.png/.pdf   S_{k,1} (solid) and D_{k,1} (dashed) at the final point against
                                    the node k (hidden layer k, the last node the output), one panel
                                    per family (a configuration without data.n_train), one colour
                                    per training-set size P; points are means over seeds, error bars
                                    one standard deviation (ddof 1) over seeds.
  PATH-sensitivity-error.png/.pdf   the best test error against S_{2,1}, against D_{2,1} and (deep
                                    nets' panel, Tomasini & Wyart's Figure 1) against S at each net's
                                    80%-depth node, on log-log axes, one point per configuration (mean
                                    over seeds, error bars one std), one marker per architecture; the
                                    Pearson r of the log values across configurations in each title.

Exits 1 with a message when the file has no /analysis/sensitivity. Prints one line per file.
"""
import os
import sys
import textwrap

import h5py
import matplotlib
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from figure_common import ResultsError, open_results, plain_log_ticks, save, seeds_text, text  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

NEEDED = ["label", "family", "P", "S_mean", "S_std", "D_mean", "D_std", "test_err_mean", "test_err_std",
          "S21_mean", "S21_std", "D21_mean", "D21_std", "family_label", "family_arch"]
MARKERS = {"cnn": "o", "lcn": "s", "fcn": "^", "mlp": "D", "vgg11": "v", "vgg16": "<", "resnet18": ">",
           "resnet34": "p", "effnet_b0": "*"}
PANEL_W, PANEL_H = 4.6, 3.7
MAX_COLS = 4  # panels per row: deep-net sweeps have one family per architecture


def load(path):
    """/analysis/sensitivity as plain arrays; ResultsError when it is missing or incomplete."""
    with h5py.File(path, "r") as f:
        if "analysis/sensitivity" not in f:
            raise ResultsError(f"{path}: no /analysis/sensitivity: run `hsweep analyze --kind sensitivity {path}` "
                               "first")
        g = f["analysis/sensitivity"]
        missing = [k for k in NEEDED if k not in g]
        if missing:
            raise ResultsError(f"{path}: /analysis/sensitivity lacks {', '.join(missing)}: analyse again")
        d = {k: g[k][()] for k in g}
        d["attrs"] = dict(g.attrs)
    for k in ("label", "family_label", "family_arch"):
        d[k] = text(d[k])
    return d


def n_seeds(d):
    """Runs (seeds) per configuration: /analysis/sensitivity/n_runs; none in an older file."""
    return d["n_runs"] if "n_runs" in d else []


def figure_nodes(d, prefix):
    fams = sorted(set(int(x) for x in d["family"]))
    cols = min(MAX_COLS, len(fams))
    rows = (len(fams) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(PANEL_W * cols + 1.2, (PANEL_H + 0.3) * rows), squeeze=False)
    for ax in axes.flat[len(fams):]:
        ax.set_visible(False)
    cmap = plt.get_cmap("viridis")
    for ax, f in zip(axes.flat, fams):
        configs = [c for c in range(len(d["family"])) if d["family"][c] == f]
        configs.sort(key=lambda c: d["P"][c])
        handles = []
        for i, c in enumerate(configs):
            col = cmap(0.85 * i / max(1, len(configs) - 1))
            S, Ss, D, Ds = (d[k][c, :, 0] for k in ("S_mean", "S_std", "D_mean", "D_std"))
            k = np.flatnonzero(np.isfinite(S))
            P = d["P"][c]
            ax.errorbar(k + 1, S[k], yerr=np.nan_to_num(Ss[k]), color=col, marker="o", ms=3.5, lw=1.3, capsize=2)
            ax.errorbar(k + 1 + 0.05, D[k], yerr=np.nan_to_num(Ds[k]), color=col, marker="s", ms=3, lw=1.1,
                        ls="--", capsize=2)
            handles.append(Line2D([], [], color=col, lw=2, label=f"P={P:g}" if np.isfinite(P) else d["label"][c]))
        handles += [Line2D([], [], color="0.3", marker="o", label="S_{k,1}"),
                    Line2D([], [], color="0.3", marker="s", ls="--", label="D_{k,1}")]
        ax.set_xlabel("node index k (hidden layer k; last = output)")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_ylabel("sensitivity at level 1 (dimensionless)")
        ax.set_ylim(bottom=0)
        ax.set_title("\n".join(textwrap.wrap(d["family_label"][f], 52)), fontsize=8)
        ax.grid(alpha=0.3, lw=0.5)
        ax.legend(handles=handles, fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle("Synonymic S_{k,1} (solid) and displacement D_{k,1} (dashed) sensitivity at the end of training; "
                 "mean +- std over seeds", fontsize=9)
    fig.tight_layout()
    return save(fig, prefix, "sensitivity-nodes",
                "Synonymic sensitivity S_{k,1} (solid, circles) and displacement sensitivity D_{k,1} (dashed, squares) "
                "of hidden layer k (the last node is the output) at the end of training, one panel per family, one "
                f"colour per training-set size P. Points: mean over seeds ({seeds_text(n_seeds(d))} per "
                "configuration); "
                "error bars: +- 1 std over seeds (ddof 1), none with one seed.")


def figure_error(d, prefix):
    panels = [("S21", "S_{2,1}", "r_log_S21", "node 2, level 1"), ("D21", "D_{2,1}", "r_log_D21", "node 2, level 1")]
    if "S80_mean" in d and np.isfinite(d["S80_mean"]).any():
        panels.append(("S80", "S_80%", "r_log_S80", "80%-depth node, level 1"))
    fig, axes = plt.subplots(1, len(panels), figsize=(PANEL_W * len(panels), PANEL_H), squeeze=False)
    archs = d["family_arch"][d["family"]]
    for ax, (q, name, r_attr, where) in zip(axes[0], panels):
        for arch in sorted(set(archs)):
            sel = (archs == arch) & np.isfinite(d[f"{q}_mean"]) & np.isfinite(d["test_err_mean"])
            sel &= (d[f"{q}_mean"] > 0) & (d["test_err_mean"] > 0)
            if not sel.any():
                continue
            ax.errorbar(d[f"{q}_mean"][sel], d["test_err_mean"][sel], xerr=np.nan_to_num(d[f"{q}_std"][sel]),
                        yerr=np.nan_to_num(d["test_err_std"][sel]), ls="none", marker=MARKERS.get(arch, "P"),
                        ms=5, capsize=2, label=arch)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(f"{name} at the final point ({where}; dimensionless)")
        ax.set_ylabel("best test error (fraction wrong)")
        r = d["attrs"].get(r_attr, np.nan)
        ax.set_title(f"test error vs {name}: Pearson r (log-log) = {r:.3f}", fontsize=9)
        ax.grid(alpha=0.3, which="both", lw=0.5)
        plain_log_ticks(ax, "x"), plain_log_ticks(ax, "y")
        ax.legend(fontsize=8, frameon=False, loc="best")
    fig.suptitle("One point per configuration: mean over seeds, error bars one std", fontsize=9)
    fig.tight_layout()
    return save(fig, prefix, "sensitivity-error",
                "Best test error against the sensitivities at the end of training (log-log), one point per "
                f"configuration, one marker per architecture. Points: mean over seeds ({seeds_text(n_seeds(d))} per "
                "configuration); error bars: +- 1 std over seeds (ddof 1) in both directions, none with one seed. "
                "Titles: Pearson r of the log values across configurations.")


def main(argv):
    got = open_results(argv, __doc__, "results file analysed with --kind sensitivity", load)
    if isinstance(got, int):
        return got
    d, prefix, _ = got
    if len(d["label"]) == 0:
        print("no configuration with probes: nothing to draw", file=sys.stderr)
        return 1
    figure_nodes(d, prefix)
    figure_error(d, prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
