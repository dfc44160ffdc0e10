"""figure_common - what the figure scripts of analysis/ share: the command line, loading with clear
errors, HDF5 string columns, and saving a figure as PNG and PDF."""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


class ResultsError(Exception):
    """The file is not one these figures can be drawn from; the message says what to do."""


def text(a):
    """Strings of an HDF5 string column (fixed-length bytes, or variable-length str/bytes)."""
    return np.array([x.decode("utf-8") if isinstance(x, bytes) else str(x) for x in a], dtype=object)


def save(fig, prefix, name):
    """Write prefix-name.png and .pdf, print each path, close the figure; returns the paths."""
    out = []
    for ext in ("png", "pdf"):
        path = f"{prefix}-{name}.{ext}"
        fig.savefig(path, dpi=150, bbox_inches="tight")
        print(f"wrote {path}")
        out.append(path)
    plt.close(fig)
    return out


def open_results(argv, doc, results_help, load):
    """Parse `RESULTS.h5 [--prefix P]` and load(path). Returns (data, prefix, path), or an exit
    code (1) after printing why the file cannot be drawn from."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("results", help=results_help)
    ap.add_argument("--prefix", help="output path prefix (default: the results path without .h5)")
    a = ap.parse_args(argv)
    if not os.path.exists(a.results):
        print(f"{a.results}: no such file", file=sys.stderr)
        return 1
    try:
        data = load(a.results)
    except ResultsError as e:
        print(e, file=sys.stderr)
        return 1
    except OSError as e:
        print(f"{a.results}: cannot read as HDF5: {e}", file=sys.stderr)
        return 1
    prefix = a.prefix or (a.results[:-3] if a.results.endswith(".h5") else a.results)
    return data, prefix, a.results
