"""plot_curves - learning curves and a final-accuracy table from an hsweep results file.

    /usr/bin/python3 analysis/plot_curves.py results.h5 [-o curves.png]

One line per configuration (every varying key except the seeds): training loss, training accuracy
and test accuracy against epochs, the mean over seeds with a band of +- 1 standard deviation over
seeds (ddof 1, as the C tables). Prints a Markdown table of the final values (mean +- std over
seeds, ddof 1, and how many seeds finished). Writes the figure as PNG and PDF (default: the results
path without .h5, plus -curves). Works on a partial file and on one a sweep is writing (it only
reads): unfinished runs are left out of the table and counted, and runs still training are drawn
dashed as far as they got.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import figure_common as fc  # noqa: E402
import hsweep_results as hr  # noqa: E402

plt = fc.plt
METRICS = [("train_loss", "training loss", "training loss (dimensionless, log scale)", True),
           ("train_acc", "training accuracy", "training accuracy (fraction correct)", False),
           ("test_acc", "test accuracy", "test accuracy (fraction correct)", False)]

SEED_KEYS = {"seed", "data.seed"}


def config_keys(runs):
    """The varying config keys (columns of the run table that are not bookkeeping), seeds last."""
    keys = [c for c in runs.columns if hr.is_config(c)]
    return [k for k in keys if k not in SEED_KEYS], [k for k in keys if k in SEED_KEYS]


def label_of(keys, values):
    return ", ".join(f"{k.split('.')[-1]}={v}" for k, v in zip(keys, values)) or "all runs"


def seed_band(g, metric):
    """Per epoch over the seeds of one configuration's records g: (mean, std with ddof 1, count),
    pandas Series indexed by epoch; std is NaN where only one seed has the epoch."""
    by = g.groupby("epoch")[metric]
    return by.mean(), by.std(ddof=1), by.count()


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("-o", "--out", help="figure path (.png; a .pdf is written beside it)")
    a = ap.parse_args(argv)
    if not os.path.exists(a.results):
        print(f"{a.results}: no such file", file=sys.stderr)
        return 1
    try:
        runs = hr.read_runs(a.results)
        long = hr.read_records(a.results, finished_only=True)
    except (OSError, KeyError) as e:  # not HDF5, cut short, or no results file
        print(f"{a.results}: cannot read as a results file: {e}", file=sys.stderr)
        return 1
    unfinished = int((~runs.status.isin(["done", "diverged"])).sum())
    if long.empty:
        print(f"{a.results}: no finished runs yet ({unfinished} unfinished)")
        return 1
    cfg_keys, _ = config_keys(runs)
    groups = list(long.groupby(cfg_keys if len(cfg_keys) > 1 else cfg_keys[0], sort=True)) if cfg_keys else [((), long)]

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    colours = fc.categorical(len(groups))
    rows, seeds = [], []
    for (key, g), colour in zip(groups, colours):
        key = key if isinstance(key, tuple) else (key,)
        label = label_of(cfg_keys, key)
        for ax, (m, title, ylabel, logy) in zip(axes, METRICS):
            mean, sd, _ = seed_band(g, m)
            ax.plot(mean.index, mean.values, color=colour, label=label)
            ok = sd.notna().to_numpy()
            ax.fill_between(mean.index[ok], (mean - sd).values[ok], (mean + sd).values[ok], color=colour,
                            alpha=0.2, lw=0)
            ax.set_title(title)
            ax.set_xlabel("epoch")
            ax.set_ylabel(ylabel)
            if logy:
                ax.set_yscale("log")
        last = g.sort_values("epoch").groupby("id").tail(1)
        seeds.append(len(last))
        rows.append((label, len(last), last.epoch.max(), last.train_acc.mean(), last.train_acc.std(ddof=1),
                     last.test_acc.mean(), last.test_acc.std(ddof=1), last.train_loss.mean()))
    # runs still training (a live file): their record points so far, one thin dashed line each
    live = hr.read_records(a.results)
    live = live[live.status == "running"]
    for rid, g in live.groupby("id"):
        g = g.sort_values("epoch")
        for i, (ax, (m, _, _, _)) in enumerate(zip(axes, METRICS)):
            ax.plot(g.epoch, g[m], ls="--", lw=0.8, color="0.4", label=f"running {rid[:8]}" if i == 2 else None)
    fc.plain_log_ticks(axes[0])
    handles, labels = axes[-1].get_legend_handles_labels()
    fig.tight_layout()
    # below the panels: the curves fill the axes, and a sweep can have many configurations
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(4, len(labels)),
               frameon=False)
    n_live = live.id.nunique()
    caption = (f"Learning curves of {os.path.basename(a.results)}, one colour per configuration "
               f"({', '.join(k.split('.')[-1] for k in cfg_keys) or 'a single configuration'}). Lines: mean over "
               f"seeds at each epoch; band: mean +- 1 std over seeds (ddof 1; {fc.seeds_text(seeds)} per "
               "configuration; no band with one seed). Only finished runs are averaged"
               + (f"; {unfinished} unfinished runs left out" if unfinished else "")
               + (f"; dashed grey: the {n_live} runs still training, as far as they got." if n_live else "."))
    out = a.out or os.path.splitext(a.results)[0] + "-curves.png"
    fc.save(fig, os.path.splitext(out)[0], "", caption)

    print("| configuration | seeds | epochs | train acc | test acc | train loss |")
    print("|---|---|---|---|---|---|")
    for label, n, ep, tr, trs, te, tes, loss in rows:
        print(f"| {label} | {n} | {int(ep)} | {tr:.4f} +- {trs:.4f} | {te:.4f} +- {tes:.4f} | {loss:.3g} |")
    print("(+- one standard deviation over seeds, ddof 1)")
    if unfinished:
        print(f"({unfinished} runs not finished yet: left out of the table"
              + (f"; {n_live} running, drawn dashed as far as they got)" if n_live else ")"))
    print(f"figure: {out} (and .pdf)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
