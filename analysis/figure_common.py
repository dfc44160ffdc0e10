"""figure_common - what the figure scripts of analysis/ share: the command line, loading with clear
errors, HDF5 string columns, one colour-blind-safe style, and saving a figure as PNG and PDF with
its caption (drawn under the axes and stored in the files' metadata).

Set HSWEEP_FIGURE_CHECK=1 to make save() refuse a figure that lacks a caption, has an axes with
data but no x or y label, or a legend font under 8 pt (the tests set it).
HSWEEP_FIGURE_CAPTION=meta keeps the caption in the files' metadata only, not drawn: `hsweep
report` sets it, since the page prints each caption under its image as text."""
import argparse
import os
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from cycler import cycler  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

# Okabe & Ito's palette, distinguishable under the common colour-vision deficiencies. The cycle
# puts yellow (faint on white) and black (kept for reference lines) last.
OKABE_ITO = {"blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "vermillion": "#D55E00",
             "purple": "#CC79A7", "sky": "#56B4E9", "yellow": "#F0E442", "black": "#000000"}
CYCLE = [OKABE_ITO[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky", "yellow", "black")]
SEQUENTIAL = "viridis"  # ordered data (depth, P, step, level): perceptually uniform, no red/green
MIN_FONT = 8.0
CAPTION_FONT = 8.5

plt.rcParams.update({
    "axes.prop_cycle": cycler(color=CYCLE),
    "image.cmap": SEQUENTIAL,
    "font.size": 9,
    "axes.labelsize": 9,
    "axes.titlesize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": MIN_FONT,
    "legend.title_fontsize": MIN_FONT,
    "legend.loc": "best",
    "figure.titlesize": 10,
})


class ResultsError(Exception):
    """The file is not one these figures can be drawn from; the message says what to do."""


class FigureCheckError(Exception):
    """A figure misses what every figure must have (HSWEEP_FIGURE_CHECK=1)."""


def text(a):
    """Strings of an HDF5 string column (fixed-length bytes, or variable-length str/bytes)."""
    return np.array([x.decode("utf-8") if isinstance(x, bytes) else str(x) for x in a], dtype=object)


def categorical(n):
    """n colours for unordered categories: Okabe-Ito while it lasts, viridis beyond 8."""
    if n <= len(CYCLE) - 1:
        return CYCLE[:n]
    cmap = plt.get_cmap(SEQUENTIAL)
    return [cmap(0.9 * i / max(n - 1, 1)) for i in range(n)]


def seeds_text(counts):
    """'3 seeds' or '2-3 seeds' for the seed counts of the configurations drawn."""
    c = sorted({int(x) for x in counts if x is not None and np.isfinite(x) and x > 0})
    if not c:
        return "seeds"
    n = f"{c[0]}" if c[0] == c[-1] else f"{c[0]}-{c[-1]}"
    return f"{n} seed{'s' if c[-1] != 1 else ''}"


def plain_log_ticks(ax, axis="y"):
    """Plain numbers (0.3, 2) on a log axis that spans under two decades, where matplotlib's
    default labels one tick or none, or writes 3x10^0."""
    lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
    if lo > 0 and hi / lo < 100:
        a = ax.yaxis if axis == "y" else ax.xaxis
        keep = range(1, 10) if hi / lo < 3 else (1, 2, 3, 5)  # labels that do not collide

        def label(v, _):
            if v <= 0:
                return ""
            mantissa = round(v / 10 ** np.floor(np.log10(v)), 6)
            return f"{v:.2g}" if mantissa in keep else ""
        fmt = FuncFormatter(label)
        a.set_major_formatter(fmt)
        a.set_minor_formatter(fmt)


def _has_data(ax):
    return bool(ax.lines or ax.collections or ax.images or ax.patches or ax.containers)


def problems(fig, caption):
    """What the figure misses: a caption, axis labels on an axes with data, legible legends."""
    out = [] if caption and caption.strip() else ["no caption"]
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible() or hasattr(ax, "_colorbar") or not _has_data(ax):
            continue
        name = f"axes {i} ({ax.get_title() or 'untitled'})"
        for axis, label in (("x", ax.get_xlabel()), ("y", ax.get_ylabel())):
            if not label.strip():
                out.append(f"{name}: no {axis} label")
        leg = ax.get_legend()
        if leg is not None:
            small = [t.get_fontsize() for t in leg.get_texts() if t.get_fontsize() < MIN_FONT]
            if small:
                out.append(f"{name}: legend font {min(small):g} pt < {MIN_FONT:g}")
    for leg in fig.legends:
        if any(t.get_fontsize() < MIN_FONT for t in leg.get_texts()):
            out.append(f"figure legend font < {MIN_FONT:g} pt")
    return out


def add_caption(fig, caption):
    """Draw the caption under everything already on the figure, wrapped to its width."""
    renderer = fig.canvas.get_renderer()
    box = fig.get_tightbbox(renderer)
    w_in, h_in = fig.get_size_inches()
    width = max(box.width, 3.0)
    chars = max(40, int(width * 72 / (CAPTION_FONT * 0.5)))
    body = "\n".join(textwrap.fill(p, chars) for p in caption.split("\n"))
    fig.text(box.x0 / w_in, (box.y0 - 0.08) / h_in, body, fontsize=CAPTION_FONT, ha="left", va="top",
             color="0.15")


def save(fig, prefix, name, caption):
    """Write prefix-name.png and .pdf (prefix.png and .pdf when name is empty) with the caption
    drawn under the axes and stored as the PNG's Description and the PDF's Subject (another
    report shows the PNG's); print each path, close the figure; returns the paths. Under
    HSWEEP_FIGURE_CHECK=1, raises FigureCheckError when problems(fig, caption) finds any."""
    if os.environ.get("HSWEEP_FIGURE_CHECK") == "1":
        bad = problems(fig, caption)
        if bad:
            plt.close(fig)
            raise FigureCheckError(f"{prefix}-{name}: " + "; ".join(bad) if name else f"{prefix}: " + "; ".join(bad))
    if os.environ.get("HSWEEP_FIGURE_CAPTION") != "meta":
        add_caption(fig, caption)
    stem = f"{prefix}-{name}" if name else prefix
    title = os.path.basename(stem)
    meta = {"png": {"Title": title, "Description": caption, "Software": "hsweep analysis/"},
            "pdf": {"Title": title, "Subject": caption, "Creator": "hsweep analysis/"}}
    out = []
    for ext in ("png", "pdf"):
        path = f"{stem}.{ext}"
        fig.savefig(path, dpi=150, bbox_inches="tight", metadata=meta[ext])
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
