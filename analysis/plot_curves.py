"""plot_curves - learning curves and a final-accuracy table from an hsweep results file.

    /usr/bin/python3 analysis/plot_curves.py results.h5 [-o curves.png]

One line per configuration (every varying key except the seeds), averaged over seeds with the
min-max band shaded: training loss, training accuracy and test accuracy against epochs. Prints a
Markdown table of the final values (mean +- std over seeds, and how many seeds finished). Works on
a partial file and on one a sweep is writing (it only reads): unfinished runs are left out of the
table and counted, and runs still training are drawn dashed as far as they got.
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hsweep_results as hr  # noqa: E402

SEED_KEYS = {"seed", "data.seed"}


def config_keys(runs):
    """The varying config keys (columns of the run table that are not bookkeeping), seeds last."""
    keys = [c for c in runs.columns if hr.is_config(c)]
    return [k for k in keys if k not in SEED_KEYS], [k for k in keys if k in SEED_KEYS]


def label_of(keys, values):
    return ", ".join(f"{k.split('.')[-1]}={v}" for k, v in zip(keys, values)) or "all runs"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("-o", "--out", help="figure path (.png; a .pdf is written beside it)")
    a = ap.parse_args(argv)
    runs = hr.read_runs(a.results)
    long = hr.read_records(a.results, finished_only=True)
    unfinished = int((~runs.status.isin(["done", "diverged"])).sum())
    if long.empty:
        print(f"{a.results}: no finished runs yet ({unfinished} unfinished)")
        return 1
    cfg_keys, _ = config_keys(runs)
    groups = list(long.groupby(cfg_keys, sort=True)) if cfg_keys else [((), long)]

    metrics = [("train_loss", "training loss", True), ("train_acc", "training accuracy", False),
               ("test_acc", "test accuracy", False)]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    rows = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        label = label_of(cfg_keys, key)
        by_epoch = g.groupby("epoch")
        for ax, (m, title, logy) in zip(axes, metrics):
            mean, lo, hi = by_epoch[m].mean(), by_epoch[m].min(), by_epoch[m].max()
            line, = ax.plot(mean.index, mean.values, label=label)
            ax.fill_between(mean.index, lo.values, hi.values, color=line.get_color(), alpha=0.2)
            ax.set_title(title)
            ax.set_xlabel("epoch")
            if logy:
                ax.set_yscale("log")
        last = g.sort_values("epoch").groupby("id").tail(1)
        rows.append((label, len(last), last.epoch.max(), last.train_acc.mean(), last.train_acc.std(ddof=0),
                     last.test_acc.mean(), last.test_acc.std(ddof=0), last.train_loss.mean()))
    # runs still training (a live file): their record points so far, one thin dashed line each
    live = hr.read_records(a.results)
    live = live[live.status == "running"]
    for rid, g in live.groupby("id"):
        g = g.sort_values("epoch")
        for i, (ax, (m, _, _)) in enumerate(zip(axes, metrics)):
            ax.plot(g.epoch, g[m], ls="--", lw=0.8, color="0.4", label=f"running {rid[:8]}" if i == 2 else None)
    axes[-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    out = a.out or os.path.splitext(a.results)[0] + "-curves.png"
    fig.savefig(out, dpi=120)
    fig.savefig(os.path.splitext(out)[0] + ".pdf")

    print("| configuration | seeds | epochs | train acc | test acc | train loss |")
    print("|---|---|---|---|---|---|")
    for label, n, ep, tr, trs, te, tes, loss in rows:
        print(f"| {label} | {n} | {int(ep)} | {tr:.4f} +- {trs:.4f} | {te:.4f} +- {tes:.4f} | {loss:.3g} |")
    n_live = live.id.nunique()
    if unfinished:
        print(f"({unfinished} runs not finished yet: left out of the table"
              + (f"; {n_live} running, drawn dashed as far as they got)" if n_live else ")"))
    print(f"figure: {out} (and .pdf)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
