"""equisep_figure - the figures of the equi-separation analysis (He & Su, PNAS 2023).

    hsweep analyze results.h5                                   # writes /analysis/equisep
    /usr/bin/python3 analysis/equisep_figure.py results.h5 [--prefix PATH]

Reads the final separation fuzziness D_l of every fitted run (/layers/separation at the run's last
record point with a D at layer 0) and the fits of `hsweep analyze` (/analysis/equisep), and writes,
as PNG and PDF (PATH defaults to the results path without .h5):

  PATH-equisep.png/.pdf   D against layer l (log y axis) for the main nets (BatchNorm + ReLU),
                          one panel per optimiser (train.opt), one colour per depth (model.depth):
                          each seed thin, the mean over seeds of ln D as markers, and the line
                          exp(mean intercept + mean slope * l) dashed; the legend gives the
                          configuration's mean decay ratio rho and Pearson r over seeds.
  PATH-controls.png/.pdf  at each depth (and optimiser) where controls exist (model.norm none or
                          model.act identity): BN+ReLU against no-BN and no-ReLU nets. Skipped,
                          with a message, when the sweep has no controls.

A key that does not vary in the sweep has no /runs column; its value is then read from the runs'
canonical config text, and for model.norm/model.act every run counts as a main net. Works on a
partial file: only fitted runs are drawn (flag 0); unfinished ones are counted and left out.
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
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter  # noqa: E402

# The order of hs_run_state in include/hsweep/store.h
STATES = ["pending", "running", "done", "failed", "diverged"]
FINISHED = ("done", "diverged")
# /analysis/equisep/flag values (HS_FIT_* in include/hsweep/analysis.h)
FLAG_OK, FLAG_UNFINISHED, FLAG_NO_D, FLAG_BAD_D = 0, 1, 2, 3
# Schema defaults (src/spec/schema.c), used when a key neither varies nor appears in the
# canonical config text (which lists only non-default values).
DEFAULTS = {"model.depth": "2", "train.opt": "sgd", "model.norm": "batch", "model.act": "relu"}
# Panels in the order of the schema's enum, unknown optimisers after them.
OPT_ORDER = ["sgd", "momentum", "adam", "adamw"]
# Variant names and fixed colours, so a variant looks the same in every control panel.
MAIN = ("batch", "relu")
VARIANTS = {("batch", "relu"): ("BN+ReLU", OKABE_ITO["blue"]), ("none", "relu"): ("no BN", OKABE_ITO["vermillion"]),
            ("batch", "identity"): ("no ReLU", OKABE_ITO["orange"]),
            ("none", "identity"): ("no BN, no ReLU", OKABE_ITO["purple"])}
# Columns of /runs that are not configuration keys: seeds (averaged over) and bookkeeping.
SEED_KEYS = {"seed", "data.seed"}
PANEL_W, PANEL_H = 4.8, 3.9


def parse_config(lines):
    """key -> value of one canonical config text ("hsweep/1\\nkey=value\\n..."; strings quoted)."""
    out = {}
    for line in lines.splitlines()[1:]:
        k, sep, v = line.partition("=")
        if sep:
            out[k] = v[1:-1] if len(v) >= 2 and v[0] == v[-1] == '"' else v
    return out


def column(runs, key, configs):
    """The values of config key `key` for every run, as strings: the /runs column if the key
    varies, else from the canonical config text, else the schema default (None if unknown)."""
    if key in runs:
        data = runs[key][()]
        return text(data) if data.dtype.kind in "SOU" else np.array([str(x) for x in data], dtype=object)
    return np.array([c.get(key, DEFAULTS.get(key)) for c in configs], dtype=object)


def final_curve(d, n_layers):
    """D_0..D_{n-1} of one run's final measurement (d is its [N x L] block): the last record point
    with a D at layer 0, as in hsweep analyze, so the drawn points are the fitted ones."""
    rows = np.nonzero(~np.isnan(d[:, 0]))[0]
    if len(rows) == 0 or n_layers < 1:
        return None
    return d[rows[-1], :n_layers]


def load(path):
    """Everything the figures need, as plain arrays; ResultsError on a file that is not an
    analysed hsweep results file."""
    with h5py.File(path, "r") as f:
        if "runs" not in f or "status" not in f["runs"]:
            raise ResultsError(f"{path}: not an hsweep results file (no /runs/status)")
        if "analysis/equisep" not in f:
            raise ResultsError(f"{path}: no /analysis/equisep: run `hsweep analyze {path}` first")
        if "layers/separation" not in f:
            raise ResultsError(f"{path}: no /layers/separation: the sweep recorded no separation fuzziness")
        runs, eq = f["runs"], f["analysis/equisep"]
        R = runs["status"].shape[0]
        configs = [parse_config(t) for t in text(runs["config"][()])] if "config" in runs else [{}] * R
        status = np.array([STATES[s] if s < len(STATES) else "?" for s in runs["status"][()].astype(int)])
        keys = sorted(k for k in runs if (k == "seed" or "." in k) and k not in SEED_KEYS)  # config keys
        cols = {k: column(runs, k, configs) for k in set(keys) | set(DEFAULTS)}
        need = ("slope", "intercept", "n_layers", "flag", "config", "n_runs", "n_fitted", "rho_mean", "r_mean")
        missing = [k for k in need if k not in eq]
        if missing:
            raise ResultsError(f"{path}: /analysis/equisep lacks {', '.join(missing)}: "
                               f"re-run `hsweep analyze {path}`")
        fit = {k: eq[k][()] for k in need[:5]}
        cfg = {k: eq[k][()] for k in need[5:]}
        obey_r = float(eq.attrs.get("obey_r", -0.99))
        # read D only for the fitted runs: the file may hold thousands of runs x records x layers
        sep = f["layers/separation"]
        curves = {}
        # a fitted run always has a configuration; the check keeps a stray -1 out of the legends
        for r in np.nonzero((fit["flag"] == FLAG_OK) & (fit["config"] >= 0))[0]:
            c = final_curve(sep[r], int(fit["n_layers"][r]))
            if c is not None:
                curves[int(r)] = c
    return {"R": R, "status": status, "keys": keys, "cols": cols, "fit": fit, "cfg": cfg,
            "obey_r": obey_r, "curves": curves, "varies": set(keys)}


def variant_rank(v):
    """Legend order: BN+ReLU, no BN, no ReLU, both removed, then anything else."""
    keys = list(VARIANTS)
    return (keys.index(v), "") if v in keys else (len(keys), str(v))


def is_control(v):
    """He & Su's controls: no BatchNorm, or no ReLU (the linearised net)."""
    return v != MAIN and (v[0] == "none" or v[1] == "identity")


def variant(data, r):
    """(norm, act) of run r; a key that does not vary makes every run a main net in it."""
    c, v = data["cols"], data["varies"]
    norm = c["model.norm"][r] if "model.norm" in v else MAIN[0]
    act = c["model.act"][r] if "model.act" in v else MAIN[1]
    return norm, act


def groups(data, runs):
    """The fitted runs among `runs`, grouped by configuration (the analysis' config index, which
    is every varying key except the seeds): {config index: [run, ...]}, in config order."""
    out = {}
    for r in runs:
        c = int(data["fit"]["config"][r])
        if c >= 0 and r in data["curves"]:
            out.setdefault(c, []).append(r)
    return dict(sorted(out.items()))


def depth_of(data, r):
    d = data["cols"]["model.depth"][r]
    return int(d) if d is not None and str(d).lstrip("-").isdigit() else d


def depth_key(d):
    """Sort key: depths numerically, anything unparsable after them."""
    return (0, d, "") if isinstance(d, int) else (1, 0, str(d))


def extra_label(data, members, others, skip):
    """The keys (besides `skip`) that tell this configuration apart from the `others` drawn in the
    same panel, e.g. the learning rate in a rate sweep; empty when depth alone does."""
    r = members[0]
    keys = [k for k in data["keys"] if k not in skip
            and any(data["cols"][k][o[0]] != data["cols"][k][r] for o in others)]
    return ", ".join(f"{k.split('.')[-1]}={data['cols'][k][r]}" for k in keys)


def fit_stats(data, c, members):
    """Legend numbers of configuration c: rho and r as `hsweep analyze` aggregated them (means over
    the fitted seeds), plus the run counts so a partial configuration is visible."""
    cfg = data["cfg"]
    s = f"rho={cfg['rho_mean'][c]:.3f}, r={cfg['r_mean'][c]:.3f}"
    if cfg["n_fitted"][c] < cfg["n_runs"][c]:
        s += f" ({cfg['n_fitted'][c]} of {cfg['n_runs'][c]} seeds)"
    return s


def draw_config(ax, data, members, color, label, marker="o"):
    """One configuration: each seed's D thin, the geometric mean over seeds (mean of ln D) as
    markers, and the line of the mean fit dashed. Averaging slopes and intercepts over seeds equals
    fitting the mean ln D when all seeds have the same layers, so line and markers agree."""
    n = max(len(data["curves"][r]) for r in members)
    lnd = np.full((len(members), n), np.nan)
    for i, r in enumerate(members):
        c = data["curves"][r]
        ax.plot(np.arange(len(c)), c, color=color, lw=0.7, alpha=0.35)
        lnd[i, :len(c)] = np.log(c)
    layers = np.arange(n)
    ax.plot(layers, np.exp(np.nanmean(lnd, axis=0)), ls="none", marker=marker, ms=4.5, color=color)
    slope = np.mean([data["fit"]["slope"][r] for r in members])
    intercept = np.mean([data["fit"]["intercept"][r] for r in members])
    ax.plot(layers, np.exp(intercept + slope * layers), ls="--", lw=1.2, color=color)
    return Line2D([], [], color=color, marker=marker, ms=4.5, ls="--", lw=1.2, label=label)


def label_log_axis(ax):
    """Label 1-2-5 (or every integer multiple) of each decade when D spans few decades: trained
    nets' D often spans just one or two, which leaves matplotlib's default with one labelled tick."""
    lo, hi = ax.get_ylim()
    if hi / lo >= 1e3:
        return
    # about 4 to 10 labels whatever the span
    subs = (1.0, 2.0, 5.0) if hi / lo >= 30 else (1.0, 2.0, 3.0, 5.0) if hi / lo >= 4 else tuple(range(1, 10))
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=subs))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def style_axes(ax, title, handles):
    ax.set_yscale("log")
    ax.set_xlabel("layer index l (0 = input)")
    ax.set_ylabel("separation fuzziness D (dimensionless)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)
    # below the axes: with 3 to 20 points per curve, no corner is reliably free of data
    ax.legend(handles=handles, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.17),
              frameon=False, ncol=1)


def finish(fig, axes, title):
    """Tick labels fitted to the final limits (the y axis is shared), and a title that wraps on a
    narrow (one-panel) figure instead of running past its edges."""
    label_log_axis(axes[0])
    # anchored above the figure's top edge (kept by bbox_inches="tight") so a wrapped title
    # cannot run into the panel titles
    fig.suptitle(title.replace("; ", "\n", 1) if len(axes) == 1 else title, fontsize=9, y=1.0, va="bottom")


def opt_order(values):
    return sorted(set(values), key=lambda o: (OPT_ORDER.index(o) if o in OPT_ORDER else len(OPT_ORDER), str(o)))


def depth_colors(depths):
    """One colour per depth, the same in every panel; shallow = dark, deep = light."""
    cmap = plt.get_cmap("viridis")
    ds = sorted(set(depths), key=depth_key)
    return {d: cmap(0.85 * i / max(len(ds) - 1, 1)) for i, d in enumerate(ds)}


def caption(data, runs, what):
    """The caption of a figure drawing the fitted `runs`: what it shows and the spread."""
    counts = [len(m) for m in groups(data, runs).values()]
    return (f"Separation fuzziness D (He & Su) per layer at the end of training: {what}. Thin lines: each "
            f"seed ({seeds_text(counts)} per configuration); markers: geometric mean over seeds (mean of ln D); "
            "dashed: exp(mean intercept + mean slope * l) of the per-seed least-squares fits of ln D against l. "
            "Legend: decay ratio rho = exp(slope) and Pearson r, means over the fitted seeds. No error bars: the "
            "thin lines are the spread.")


def figure_main(data, prefix, title):
    """Figure 1: the main nets, one panel per optimiser, one colour per depth."""
    main = [r for r in data["curves"] if variant(data, r) == MAIN]
    if not main:
        print("no fitted BN+ReLU runs: equisep figure skipped")
        return []
    opts = data["cols"]["train.opt"]
    panels = opt_order(opts[r] for r in main)
    colors = depth_colors([depth_of(data, r) for r in main])
    markers = "osD^v<>p*h"
    fig, axes = plt.subplots(1, len(panels), figsize=(PANEL_W * len(panels), PANEL_H), sharey=True,
                             squeeze=False)
    for ax, opt in zip(axes[0], panels):
        gs = groups(data, [r for r in main if opts[r] == opt])
        gs = sorted(gs.items(), key=lambda cm: depth_key(depth_of(data, cm[1][0])))
        handles, seen = [], {}
        for c, members in gs:
            d = depth_of(data, members[0])
            same_depth = [m for c2, m in gs if c2 != c and depth_of(data, m[0]) == d]
            extra = extra_label(data, members, same_depth, {"model.depth", "train.opt", "model.norm", "model.act"})
            label = f"L={d}" + (f", {extra}" if extra else "") + f": {fit_stats(data, c, members)}"
            # a second configuration at the same depth (e.g. a rate sweep) keeps the colour, not the marker
            k = seen[d] = seen.get(d, -1) + 1
            handles.append(draw_config(ax, data, members, colors[d], label, markers[k % len(markers)]))
        style_axes(ax, str(opt) if opt is not None else "", handles)
    finish(fig, axes[0], f"{title}: D per layer at the end of training, BN+ReLU nets; "
                         "thin: seeds, markers: mean of ln D, dashed: fit")
    return save(fig, prefix, "equisep", caption(data, main, "BN+ReLU nets, one panel per optimiser, one colour per "
                                                 "depth L (markers distinguish other keys at the same depth)"))


def figure_controls(data, prefix, title):
    """Figure 2: at each (depth, optimiser) with controls, BN+ReLU against the control variants.
    The BN+ReLU configurations drawn are the ones that differ from the controls only in norm and
    act (same rate, width, ...), falling back to any at that depth and optimiser."""
    ctrl = [r for r in data["curves"] if is_control(variant(data, r))]
    if not ctrl:
        n = sum(is_control(variant(data, r)) for r in range(data["R"]))
        print(f"no fitted control runs ({n} unfitted): controls figure skipped" if n else
              "no control runs (model.norm none or model.act identity): controls figure skipped")
        return []
    opts = data["cols"]["train.opt"]
    order = opt_order(opts[r] for r in ctrl)
    keys = sorted({(depth_of(data, r), opts[r]) for r in ctrl}, key=lambda k: (order.index(k[1]), depth_key(k[0])))
    same = [k for k in data["keys"] if k not in {"model.norm", "model.act"}]
    fig, axes = plt.subplots(1, len(keys), figsize=(PANEL_W * len(keys), PANEL_H), sharey=True, squeeze=False)
    for ax, (d, opt) in zip(axes[0], keys):
        here = [r for r in data["curves"] if depth_of(data, r) == d and opts[r] == opt]
        cg = groups(data, [r for r in here if is_control(variant(data, r))])
        cg = dict(sorted(cg.items(), key=lambda cm: variant_rank(variant(data, cm[1][0]))))
        ref = cg[next(iter(cg))][0]
        main = [r for r in here if variant(data, r) == MAIN]
        matched = [r for r in main if all(data["cols"][k][r] == data["cols"][k][ref] for k in same)]
        shown = list(groups(data, matched or main).items()) + list(cg.items())
        handles = []
        for c, members in shown:
            name, color = VARIANTS.get(variant(data, members[0]), ("norm={}, act={}".format(*variant(data, members[0])),
                                                                   "0.45"))
            others = [m for c2, m in shown if c2 != c and variant(data, m[0]) == variant(data, members[0])]
            extra = extra_label(data, members, others, {"model.norm", "model.act"})
            label = name + (f" ({extra})" if extra else "") + f": {fit_stats(data, c, members)}"
            handles.append(draw_config(ax, data, members, color, label))
        style_axes(ax, f"L={d}" + (f", {opt}" if opt is not None else ""), handles)
    finish(fig, axes[0], f"{title}: controls, the law holds for r <= {data['obey_r']:g}; "
                         "thin: seeds, markers: mean of ln D, dashed: fit")
    return save(fig, prefix, "controls", caption(data, list(data["curves"]), "BN+ReLU nets against the controls "
                                                 f"(no BatchNorm, no ReLU) per depth and optimiser; the law holds for "
                                                 f"r <= {data['obey_r']:g}"))


def report_left_out(data):
    """Say which runs the figures leave out and why, so a partial or flawed file is obvious."""
    R, flag = data["R"], data["fit"]["flag"]
    finished = int(np.isin(data["status"], FINISHED).sum())
    if finished < R:
        print(f"{finished} of {R} runs finished; figures use the finished ones")
    for f, why in ((FLAG_NO_D, "no D recorded"), (FLAG_BAD_D, "bad D (zero or non-finite)")):
        n = int((flag == f).sum())
        if n:
            print(f"{n} finished runs left out: {why}")
    # e.g. act=tanh: neither a main net nor one of He & Su's controls, so in neither figure
    drawn = {variant(data, r) for r in data["curves"]}
    other = sorted(v for v in drawn if v != MAIN and not is_control(v))
    for v in other:
        print(f"runs with norm={v[0]}, act={v[1]} are neither main nets nor controls: not drawn")


def main(argv):
    opened = open_results(argv, __doc__, "results file after `hsweep analyze`", load)
    if isinstance(opened, int):
        return opened
    data, prefix, path = opened
    title = os.path.basename(path)
    report_left_out(data)
    if not data["curves"]:
        print(f"{path}: no fitted runs yet: nothing to draw", file=sys.stderr)
        return 1
    figure_main(data, prefix, title)
    figure_controls(data, prefix, title)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
