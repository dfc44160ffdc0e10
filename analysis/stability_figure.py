"""stability_figure - the figure of the relative-stability analysis (Petrini et al., NeurIPS 2021).

    hsweep run spec.yaml -o results.h5                          # with record.stability > 0
    hsweep analyze --kind stability results.h5                  # writes /analysis/stability
    /usr/bin/python3 analysis/stability_figure.py results.h5 [--prefix PATH]

Reads only /analysis/stability (see include/hsweep/analysis.h). Writes, as PNG and PDF (PATH
defaults to the results path without .h5):

  PATH-stability-nodes.png/.pdf   R_f = D_f / G_f against the node (0 = the input, then the hidden
                                  layers, the last = the output) on a log axis, one panel per
                                  configuration, one line per record point coloured by its optimiser
                                  step (colour bar); lines are means over seeds, the band around the
                                  first and the last point one standard deviation (ddof 1) over
                                  seeds. R_f ~ 1 means the node is as sensitive to a diffeomorphism
                                  as to noise of the same norm; training moves it by decades.

Exits 1 with a message when the file has no /analysis/stability. Prints one line per file.
"""
import os
import sys

import h5py
import matplotlib
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from figure_common import ResultsError, open_results, plain_log_ticks, save, seeds_text, text  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

NEEDED = ["label", "time_config", "time_point", "time_step", "time_R_mean", "time_R_std", "config_c", "config_T"]
PANEL_W, PANEL_H = 4.6, 3.7


def load(path):
    """/analysis/stability as plain arrays; ResultsError when it is missing or incomplete."""
    with h5py.File(path, "r") as f:
        if "analysis/stability" not in f:
            raise ResultsError(f"{path}: no /analysis/stability: run `hsweep analyze --kind stability {path}` first")
        g = f["analysis/stability"]
        missing = [k for k in NEEDED if k not in g]
        if missing:
            raise ResultsError(f"{path}: /analysis/stability lacks {', '.join(missing)}: analyse again")
        d = {k: g[k][()] for k in g}
    d["label"] = text(d["label"])
    return d


def figure_nodes(d, prefix):
    C = len(d["label"])
    fig, axes = plt.subplots(1, C, figsize=(PANEL_W * C + 0.8, PANEL_H), squeeze=False)
    steps = d["time_step"][np.isfinite(d["time_step"])]
    norm = matplotlib.colors.Normalize(vmin=steps.min() if steps.size else 0, vmax=steps.max() if steps.size else 1)
    cmap = plt.get_cmap("viridis")
    for c, ax in enumerate(axes[0]):
        rows = np.flatnonzero(d["time_config"] == c)
        rows = rows[np.argsort(d["time_point"][rows])]
        for i, t in enumerate(rows):
            R, sd = d["time_R_mean"][t], d["time_R_std"][t]
            k = np.flatnonzero(np.isfinite(R) & (R > 0))
            col = cmap(norm(d["time_step"][t])) if np.isfinite(d["time_step"][t]) else "0.5"
            ax.plot(k, R[k], color=col, marker="o", ms=3, lw=1.2)
            if i in (0, len(rows) - 1) and np.isfinite(sd[k]).any():
                lo = np.clip(R[k] - np.nan_to_num(sd[k]), R[k] * 1e-3, None)
                ax.fill_between(k, lo, R[k] + np.nan_to_num(sd[k]), color=col, alpha=0.2, lw=0)
        ax.axhline(1.0, color="0.4", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_xlabel("node index (0 = input, last = output)")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_ylabel("R_f = D_f / G_f (dimensionless)")
        ax.set_title(f"{d['label'][c]}\n(c = {d['config_c'][c]:g}, T = {d['config_T'][c]:.3g})", fontsize=8)
        ax.grid(alpha=0.3, which="both", lw=0.5)
        plain_log_ticks(ax)
    sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(sm, ax=axes[0].tolist(), label="optimiser step of the record point")
    fig.suptitle("Relative stability per node over training: mean over seeds; bands (first and last point) one "
                 "std over seeds", fontsize=9, y=1.04)
    n = d["n_runs"] if "n_runs" in d else []
    return save(fig, prefix, "stability-nodes",
                "Relative stability R_f = D_f / G_f (sensitivity to a diffeomorphism over that to noise of the same "
                "norm) per node, one panel per configuration, one line per record point coloured by its optimiser "
                f"step; dotted: R_f = 1. Lines: mean over seeds ({seeds_text(n)} per configuration); bands around the "
                "first and the last record point: +- 1 std over seeds (ddof 1), none with one seed.")


def main(argv):
    got = open_results(argv, __doc__, "results file analysed with --kind stability", load)
    if isinstance(got, int):
        return got
    d, prefix, _ = got
    if len(d["label"]) == 0:
        print("no configuration with probes: nothing to draw", file=sys.stderr)
        return 1
    figure_nodes(d, prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
