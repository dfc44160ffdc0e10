"""hsweep.analysis - read what `hsweep analyze` stored under /analysis/<name> into pandas.

    import hsweep
    hsweep.analysis_names("results.h5")                 # ["equisep", "finals"]
    a = hsweep.read_analysis("results.h5", "equisep")
    a.configs[["label", "model.depth", "rho_mean", "r_mean"]]  # one row per configuration
    a.runs[["id", "seed", "rho", "r", "flag"]]                # one row per run
    a.attrs["obey_r"]                                          # -0.99

The layout of each analysis (which dataset is per run [R], per configuration [C], what the other
arrays' dims are) is documented in include/hsweep/analysis.h; this module sorts the datasets by
that layout without knowing the analyses' names, so a new analysis reads the same way.
"""
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .results import _live, _open, _text, is_config, read_runs

# Datasets that form tables of their own (one row per entry of another axis), by name prefix: the
# SRHM analysis' curves [M] and fits, the probes' time points [T] and families [F]. Longest first.
TABLE_PREFIXES = ["s0_fit_", "fit_", "curve_", "time_", "family_"]
# Per-family values of the sensitivity analysis without the family_ prefix (thr_p_star, p_star,
# at_p_star and the same for p_star_S, p_star_D)
_FAMILY_EXTRA = {"sensitivity": re.compile(r"^(thr_|at_)?p_star(_S|_D)?$")}
# Per-run 1-D datasets by name (analysis.h's [R], and the C sources' per-run writers): consulted
# only when a file has as many configurations as runs (each configuration one run), where the
# length alone cannot tell [R] from [C]. A new per-run dataset of an analysis belongs here.
_PER_RUN = {
    "equisep": {"slope", "intercept", "rho", "half_life", "r", "r2", "d_first", "d_last", "n_layers", "flag",
                "config"},
    "srhm": {"best_error", "flag", "config", "P"},
    "dynamics": {"config", "flag", "final_train_loss", "final_test_loss", "init_scale", "weight_decay", "last_step",
                 "hierarchy/has", "hierarchy/coarse_first", "hierarchy/n_levels", "hierarchy/order", "dln/has",
                 "dln/flag", "dln/n_layers", "dln/tau", "gated/has", "gated/flag", "gated/modules", "gated/active",
                 "gated/dt", "gated/b0", "gated/train_loss", "gated/test_loss", "gated/error_unit", "gated/published",
                 "gated/published_trained", "gated/published_heldout"},
    "sensitivity": {"config", "flag", "n_nodes", "test_err", "S21", "D21", "S80", "G80"},
    "stability": {"config", "flag", "c", "T"},
    "neighbours": {"fixed_index", "fixed_step", "fixed_x", "levels", "k", "config"},
    "finals": {"config"},
}
# The config keys that are seeds: never a configuration's own value
SEEDS = ("seed", "data.seed", "data.rule_seed")


@dataclass
class Analysis:
    """What one analysis stored, sorted by its axes (see include/hsweep/analysis.h):

    runs     DataFrame, index `run` = the row r of the run table (0 .. R-1, R = the length of the
             analysis' `config` dataset: the runs the analysis saw): columns id, status and the
             varying config keys (as read_runs), then every 1-D dataset of length R ("part/name"
             for a dataset in a part, e.g. "hierarchy/coarse_first").
    configs  DataFrame, index `config` = the configuration c (0 .. C-1, C = the length of
             `label`; the per-run dataset `config` holds each run's c, -1 for none): columns
             label, then every config key whose value is the same for all runs of each
             configuration (the keys that define it; seeds and, e.g. for srhm, data.n_train are
             not), then every 1-D dataset of length C.
    tables   dict of DataFrames, one per group of 1-D datasets of another axis, keyed by their
             name prefix without the underscore: "curve" (srhm, [M]), "fit", "s0_fit" (srhm),
             "time" ([T]: sensitivity, stability), "family" ([F]: sensitivity); columns keep the
             datasets' full names, index 0 .. n-1; a table with a <prefix>config column also gets
             `label` (that configuration's).
    arrays   dict name -> numpy array: every other dataset with its stored dims (e.g. equisep
             has none; dynamics "hierarchy/t90" [R x V], "hierarchy/t90_mean" [C x V],
             neighbours "composition" [R x Ns x 6 x V]); strings decoded to str.
    attrs    dict name -> value: the attributes of the analysis group and its parts
             ("part/name"), e.g. equisep's obey_r, srhm's threshold.
    """
    name: str
    runs: pd.DataFrame
    configs: pd.DataFrame
    tables: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)
    attrs: dict = field(default_factory=dict)


@_live
def analysis_names(path):
    """The analyses stored in a results file (/analysis/<name>), sorted; [] when none."""
    with _open(path) as f:
        return sorted(f["analysis"]) if "analysis" in f else []


def _collect(group, prefix, datasets, attrs):
    for k, v in group.attrs.items():
        v = v.item() if isinstance(v, np.generic) else v
        attrs[prefix + k] = v.decode("utf-8") if isinstance(v, bytes) else v
    for name, obj in group.items():
        if hasattr(obj, "shape"):
            data = obj[()]
            if data.dtype.kind in "SO":
                data = np.array(_text(data.ravel()), dtype=object).reshape(data.shape)
            datasets[prefix + name] = data
        else:
            _collect(obj, prefix + name + "/", datasets, attrs)


def _same(a, b):
    return a == b or (pd.isna(a) and pd.isna(b))


def _table_of(analysis, name):
    base = name.rsplit("/", 1)[-1]
    for p in TABLE_PREFIXES:
        if base.startswith(p):
            return p[:-1]
    extra = _FAMILY_EXTRA.get(analysis)
    return "family" if extra and extra.match(base) else None


@_live
def read_analysis(path, name):
    """The analysis `name` as stored by `hsweep analyze` (an Analysis: runs, configs, tables,
    arrays, attrs; see its docstring for the index and columns of each). Raises KeyError naming
    the analyses the file holds when it has no /analysis/<name>."""
    datasets, attrs = {}, {}
    with _open(path) as f:
        if "analysis" not in f or name not in f["analysis"]:
            have = ", ".join(sorted(f["analysis"])) if "analysis" in f else "none"
            raise KeyError(f"{path}: no analysis '{name}' (analyses in the file: {have}; run `hsweep analyze`)")
        _collect(f["analysis"][name], "", datasets, attrs)
    all_runs = read_runs(path)
    R = len(datasets["config"]) if "config" in datasets else len(all_runs)
    C = len(datasets["label"]) if "label" in datasets else 0
    per_run = _PER_RUN.get(name, set())
    run_cols, cfg_cols, tables, arrays = {}, {}, {}, {}
    for key in sorted(datasets):
        data = datasets[key]
        table = _table_of(name, key) if data.ndim == 1 else None
        if table:
            tables.setdefault(table, {})[key] = data
        elif data.ndim == 1 and len(data) == R and (R != C or key in per_run or key == "config"):
            run_cols[key] = data
        elif data.ndim == 1 and len(data) == C and C:
            cfg_cols[key] = data
        else:
            arrays[key] = data

    # the runs the analysis saw are the first R rows (a later resume only appends)
    head = all_runs.iloc[:R]
    keep = ["id", "status"] + [c for c in head.columns if is_config(c)]
    runs = head[keep].reset_index(drop=True)
    for key, data in run_cols.items():
        runs[key] = data
    runs.index.name = "run"

    labels = cfg_cols.pop("label", np.array([""] * C, dtype=object))
    configs = pd.DataFrame({"label": labels})
    cfg_of_run = np.asarray(run_cols.get("config", np.full(R, -1)))
    for c in keep[2:]:
        if c in SEEDS:
            continue
        values, col, ok = head[c].to_numpy(), [None] * C, True
        for k in range(C):
            vals = values[cfg_of_run == k]
            if len(vals) and any(not _same(v, vals[0]) for v in vals[1:]):
                ok = False
                break
            col[k] = vals[0] if len(vals) else None
        if ok:
            configs[c] = col
    for key, data in cfg_cols.items():
        configs[key] = data
    configs.index.name = "config"

    frames = {}
    for table, cols in tables.items():
        lengths = {len(v) for v in cols.values()}
        if len(lengths) != 1:  # not one axis after all: keep the arrays as they are
            arrays.update(cols)
            continue
        t = pd.DataFrame(cols)
        link = table + "_config"
        if link in t and C:
            idx = t[link].to_numpy()
            t["label"] = [labels[i] if 0 <= i < C else "" for i in idx]
        frames[table] = t
    return Analysis(name=name, runs=runs, configs=configs, tables=frames, arrays=arrays, attrs=attrs)
