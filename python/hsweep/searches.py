"""hsweep.searches - the results of searching stages (/search/<stage>) as one pandas table.

    import hsweep
    s = hsweep.read_searches("results.h5")
    s[["stage", "group", "status", "crossing", "lo", "hi", "rounds", "points"]]

A stage with `search:` (README "Searches") brackets, per group of its `over` keys, the value of
`key` where the seed mean of `metric` crosses `target`; rank 0 stores the result once the stage
ends (src/store/search.c writes it, store.h documents it).
"""
import numpy as np
import pandas as pd

from .results import _live, _open, _text

# The order of hs_search_status in include/hsweep/plan.h
SEARCH_STATES = ["open", "converged", "not bracketed", "max rounds"]

_COLUMNS = ["stage", "group", "key", "metric", "target", "status", "status_code", "crossing", "lo", "hi",
            "err_lo", "err_hi", "rounds", "points", "seeds_lo", "seeds_hi"]


def _attr(g, name, default):
    v = g.attrs.get(name, default)
    if isinstance(v, bytes):
        return v.decode("utf-8")
    return v.item() if isinstance(v, np.generic) else v


@_live
def read_searches(path):
    """One row per (searching stage, group), stages in name order and groups in stored order:
    stage, group (the group's `over` values as text, e.g. "model.depth=1"), key, metric, target
    (the stage's search: key, e.g. data.per_class, where metric, e.g. test_err, crosses target),
    status ("open", "converged", "not bracketed", "max rounds"; status_code the number),
    crossing (the key's value where the seed means cross the target, interpolated in the final
    bracket, in log key when the search is log; NaN without one), lo, hi (the bracket; NaN
    without one), err_lo, err_hi (the metric's seed mean at lo and hi), rounds, points (distinct
    key values trained; x seeds = trainings), and seeds_lo, seeds_hi (per row a float64 array
    [S]: element s the value of seed s + 1 at lo and hi, S = the search's seeds). An empty table
    (with these columns) when the file holds no search."""
    rows = {c: [] for c in _COLUMNS}
    with _open(path) as f:
        if "search" not in f:
            return pd.DataFrame(rows)
        for stage in sorted(f["search"]):
            g = f["search"][stage]
            groups = _text(g["group"][()])
            n = len(groups)
            seeds_lo, seeds_hi = g["seeds_lo"][()], g["seeds_hi"][()]  # [n x S]
            code = g["status"][()]
            rows["stage"] += [stage] * n
            rows["group"] += groups
            rows["key"] += [_attr(g, "key", "")] * n
            rows["metric"] += [_attr(g, "metric", "")] * n
            rows["target"] += [float(_attr(g, "target", np.nan))] * n
            rows["status"] += [SEARCH_STATES[c] if 0 <= c < len(SEARCH_STATES) else "?" for c in code]
            rows["status_code"] += list(code)
            for c in ("crossing", "lo", "hi", "err_lo", "err_hi", "rounds", "points"):
                rows[c] += list(g[c][()])
            rows["seeds_lo"] += list(seeds_lo)
            rows["seeds_hi"] += list(seeds_hi)
    return pd.DataFrame(rows)
