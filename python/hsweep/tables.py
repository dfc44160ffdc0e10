"""tables - the analysis tables a results file carries (/tables/<kind>/csv and md).

`hsweep analyze` writes each table beside the file (<prefix>.<kind>.csv / .md) and the same text
into it, so the file alone is enough:

    import hsweep
    tabs = hsweep.read_tables("results.h5")       # {"equisep": DataFrame, ...}, kinds sorted
    print(hsweep.read_table_md("results.h5", "equisep"))

The DataFrames are parsed from the stored CSV exactly as pandas reads the file beside it
(`pd.read_csv`); `read_table_csv` gives the text itself. Read-only; safe on a live file.
"""
import io

import pandas as pd

from .results import _open

GROUP = "tables"


def _text(v):
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def table_kinds(path):
    """The table kinds stored in the file, sorted ([] when no analysis stored a table)."""
    with _open(path) as f:
        return sorted(f[GROUP].keys()) if GROUP in f else []


def _missing(f, path, kind):
    have = sorted(f[GROUP].keys()) if GROUP in f else []
    return KeyError(f"{path}: no table '{kind}' (stored: {', '.join(have) or 'none'})")


def read_table_csv(path, kind):
    """The CSV text of table kind; KeyError naming the stored kinds when the file has none."""
    with _open(path) as f:
        key = f"{GROUP}/{kind}/csv"
        if key not in f:
            raise _missing(f, path, kind)
        return _text(f[key][()])


def read_table_md(path, kind):
    """The Markdown text of table kind, or None when the analysis wrote that table as CSV only;
    KeyError when the file holds no table of that kind."""
    with _open(path) as f:
        if f"{GROUP}/{kind}" not in f:
            raise _missing(f, path, kind)
        key = f"{GROUP}/{kind}/md"
        return _text(f[key][()]) if key in f else None


def _frame(text):
    return pd.read_csv(io.StringIO(text)) if text.strip() else pd.DataFrame()


def read_tables(path):
    """Every stored table as {kind: pandas.DataFrame} (parsed from its CSV), kinds sorted."""
    with _open(path) as f:
        if GROUP not in f:
            return {}
        return {k: _frame(_text(f[f"{GROUP}/{k}/csv"][()])) for k in sorted(f[GROUP].keys())
                if "csv" in f[f"{GROUP}/{k}"]}
