"""hsweep.report - one self-contained HTML page of a results file.

    python3 -m hsweep.report results.h5 -o report.html [--scripts analysis/] [--no-figures]
    hsweep report results.h5 -o report.html            # the same, through the command

The page needs nothing but itself: styles inline, figures as PNG data URIs, no script, no fetch.
It shows the sweep's spec and sessions, runs by state with a progress bar, one row per run (the
keys that vary, state, attempts, wall time, progress, error; where it ran on hover and in a
table of the machines and builds), the failed and diverged runs with their messages, every table
the analyses stored in the file (/tables/<kind>, `hsweep analyze`), and the figures of the
figure scripts that match the analyses present (analysis/README.md's table), each captioned by
the PNG's "Description" text, else its name. A figure script that fails is shown with its
message; it never stops the page. One that exits 1 with a message and no traceback (figure_common's
"nothing to draw in this file") is shown as a note.

Read-only: the figure scripts draw into a temporary directory, nothing is written into the file
or beside it (only -o), and a file a sweep is writing reads fine (rows not finished show their
progress so far).
"""
import argparse
import base64
import csv
import datetime
import html
import io
import os
import re
import struct
import stat
import subprocess
import sys
import tempfile
import zlib

import numpy as np

from .results import PROVENANCE, STATES, _open, is_config, read_runs
from .tables import read_table_csv, read_table_md, table_kinds

# Colours of the states (badges, the progress bar): the order of STATES.
STATE_COLOUR = {"pending": "#9aa0a6", "running": "#1a73e8", "done": "#188038", "failed": "#d93025",
                "diverged": "#e37400"}
# Shown per run and grouped in the provenance table; the Slurm ids only when a run has them.
PROV_SHOWN = ["host", "cpu", "isa", "gemm", "blas", "hsweep_version", "git", "compiler", "mpi"]
SCRIPT_TIMEOUT = 600  # seconds a figure script may take before the page reports it stuck

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#202124;background:#fff}
header{background:#202124;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#bdc1c6;font-size:13px}
nav{padding:8px 24px;border-bottom:1px solid #dadce0;position:sticky;top:0;background:#fff;z-index:2}
nav a{margin-right:16px;color:#1a73e8;text-decoration:none}
main{padding:0 24px 40px;max-width:1600px}
h2{margin:28px 0 10px;font-size:18px;border-bottom:1px solid #dadce0;padding-bottom:4px}
h3{margin:18px 0 8px;font-size:15px}
pre{background:#f8f9fa;border:1px solid #dadce0;padding:8px 10px;overflow-x:auto;font-size:12.5px}
.wrap{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:13px;margin:4px 0 12px}
th,td{border:1px solid #dadce0;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f1f3f4;position:sticky;top:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.err{color:#a50e0e;max-width:560px;white-space:pre-wrap;word-break:break-word}
#run-table td.err{max-width:360px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px}
.bar{display:flex;height:14px;width:100%;max-width:720px;border-radius:3px;overflow:hidden;background:#eee;margin:6px 0}
.bar span{display:block;height:100%}
.note{color:#5f6368}.st{font-weight:600}
.state-done{color:#188038}.state-failed{color:#d93025}.state-diverged{color:#e37400}.state-running{color:#1a73e8}.warn{color:#a50e0e}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 14px;margin:0}
dl.meta dt{color:#5f6368}dl.meta dd{margin:0;word-break:break-all}
figure{display:inline-block;margin:8px 18px 18px 0;vertical-align:top;max-width:100%}
figure img{max-width:100%;height:auto;border:1px solid #dadce0}
figcaption{font-size:13px;color:#3c4043;max-width:760px}
details{margin:4px 0 12px}
section{scroll-margin-top:44px}
#provenance-table td{max-width:280px;word-break:break-word}
"""


def esc(x):
    return html.escape(str(x), quote=True)


def text(v):
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def fmt(v):
    """A cell's text: integers as they are, floats to 12 significant digits (the precision the spec's
    values are rounded to), NaN as an empty cell."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return "" if np.isnan(v) else format(float(v), ".12g")
    return text(v)


def is_number(s):
    try:
        float(s)
        return s.strip() != ""
    except ValueError:
        return False


def png_description(data):
    """The "Description" text of a PNG's tEXt, zTXt or iTXt chunk (matplotlib's savefig metadata),
    or None."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    pos = 8
    while pos + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        try:
            if kind == b"tEXt":
                key, _, val = body.partition(b"\0")
                if key == b"Description":
                    return val.decode("latin-1")
            elif kind == b"zTXt":
                key, _, rest = body.partition(b"\0")
                if key == b"Description":
                    return zlib.decompress(rest[1:]).decode("latin-1")
            elif kind == b"iTXt":
                key, _, rest = body.partition(b"\0")
                if key == b"Description":
                    compressed = rest[0]
                    _lang, _, rest = rest[2:].partition(b"\0")
                    _tkey, _, val = rest.partition(b"\0")
                    return (zlib.decompress(val) if compressed else val).decode("utf-8")
            elif kind == b"IEND":
                break
        except (zlib.error, IndexError, UnicodeDecodeError):
            return None
    return None


# ---------------------------------------------------------------- reading the file

def read_meta(path):
    """Root attributes (strings), the analyses stored, and the raw provenance-free facts."""
    with _open(path) as f:
        attrs = {k: text(v) for k, v in f.attrs.items()}
        analyses = sorted(f["analysis"].keys()) if "analysis" in f else []
    return attrs, analyses


def spec_name(spec, path):
    m = re.search(r"^name:\s*['\"]?([^'\"#\n]+?)['\"]?\s*(#.*)?$", spec or "", re.M)
    return m.group(1) if m else os.path.basename(path)


def figure_scripts(scripts_dir, analyses):
    """[(analysis, script path)] for the analyses present, from analysis/README.md's table
    (analysis | C | picked when | figures); an analysis the table lacks falls back to the naming
    rule <analysis>_figure.py. Learning curves (plot_curves.py) come first for any file."""
    table = {}
    readme = os.path.join(scripts_dir, "README.md")
    if os.path.exists(readme):
        with open(readme, encoding="utf-8") as fh:
            for line in fh:
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if len(cells) >= 4 and re.fullmatch(r"[a-z_]+", cells[0]):
                    table[cells[0]] = re.findall(r"[A-Za-z0-9_]+_figure\.py", cells[-1])
    out = [("curves", os.path.join(scripts_dir, "plot_curves.py"))]
    for a in analyses:
        for s in table.get(a, [f"{a}_figure.py"]):
            p = os.path.join(scripts_dir, s)
            if os.path.exists(p) and all(p != q for _, q in out):
                out.append((a, p))
    return [(a, p) for a, p in out if os.path.exists(p)]


def run_figures(path, scripts_dir, analyses, log):
    """Run each matching figure script into a temporary directory. Returns a list of dicts:
    {analysis, script, figures: [(name, png bytes, caption or None)], error: text or None}."""
    results = []
    # the page prints each caption under its image: drawn into the PNG too, it showed twice
    env = dict(os.environ, MPLBACKEND="Agg", HSWEEP_FIGURE_CAPTION="meta")
    src = os.path.abspath(path)
    with tempfile.TemporaryDirectory(prefix="hsweep-report-") as tmp:
        for analysis, script in figure_scripts(scripts_dir, analyses):
            stem = os.path.splitext(os.path.basename(script))[0]
            out_dir = os.path.join(tmp, stem)
            os.mkdir(out_dir)
            if stem == "plot_curves":
                cmd = [sys.executable, script, src, "-o", os.path.join(out_dir, "fig-curves.png")]
            else:
                cmd = [sys.executable, script, src, "--prefix", os.path.join(out_dir, "fig")]
            log(f"figures: {os.path.basename(script)}")
            item = {"analysis": analysis, "script": os.path.basename(script), "figures": [], "error": None,
                    "declined": None}
            try:
                p = subprocess.run(cmd, cwd=out_dir, env=env, capture_output=True, text=True,
                                   timeout=SCRIPT_TIMEOUT)
                if p.returncode != 0:
                    said = (p.stderr or p.stdout).strip()
                    # figure_common's convention: exit 1 with one message is "nothing of mine to draw
                    # in this file" (e.g. no gated runs), not a broken script
                    if p.returncode == 1 and said and "Traceback" not in said:
                        item["declined"] = said[-2000:]
                    else:
                        item["error"] = f"exit {p.returncode}\n{said[-4000:]}"
            except subprocess.TimeoutExpired:
                item["error"] = f"stopped after {SCRIPT_TIMEOUT} s"
            except OSError as e:
                item["error"] = f"cannot run: {e}"
            for name in sorted(os.listdir(out_dir)):
                if name.startswith("fig-") and name.endswith(".png"):
                    with open(os.path.join(out_dir, name), "rb") as fh:
                        data = fh.read()
                    item["figures"].append((name[4:-4], data, png_description(data)))
            if not item["figures"] and not item["error"] and not item["declined"]:
                item["error"] = "drew nothing" + (f": {p.stdout.strip()[-2000:]}" if p.stdout.strip() else "")
            results.append(item)
    return results


# ---------------------------------------------------------------- the page's parts

def table_html(header, rows, table_id=None, cls=None, row_attrs=None, cell_cls=None):
    """A table; rows are lists of cell texts (escaped here). row_attrs[i] adds attributes to row i;
    cell_cls(col, text) gives a cell's class."""
    out = [f'<div class="wrap"><table{f" id={chr(34)}{esc(table_id)}{chr(34)}" if table_id else ""}'
           f'{f" class={chr(34)}{esc(cls)}{chr(34)}" if cls else ""}><thead><tr>']
    out += [f'<th data-col="{esc(h)}">{esc(h)}</th>' for h in header]
    out.append("</tr></thead><tbody>")
    for i, row in enumerate(rows):
        attrs = row_attrs[i] if row_attrs else ""
        out.append(f"<tr{attrs}>")
        for h, c in zip(header, row):
            k = cell_cls(h, c) if cell_cls else ("num" if is_number(c) else "")
            out.append(f'<td data-col="{esc(h)}"{f" class={chr(34)}{k}{chr(34)}" if k else ""}>{esc(c)}</td>')
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def section_overview(path, attrs, runs, lock_text):
    in_plan = runs["in_plan"].to_numpy() != 0 if "in_plan" in runs else np.ones(len(runs), bool)
    counts = {s: int(((runs.status == s).to_numpy() & in_plan).sum()) for s in STATES}
    total = int(in_plan.sum())
    out = ['<section id="overview"><h2>Runs by state</h2>']
    order = ["done", "diverged", "failed", "running", "pending"]
    out.append(f'<p id="run-counts" data-total="{total}"><b>{total} runs:</b> ' + ", ".join(
        f'<span class="badge" style="background:{STATE_COLOUR[s]}" data-state="{s}" data-count="{counts[s]}">'
        f"{counts[s]} {s}</span>" for s in order) + "</p>")
    if total:
        out.append('<div class="bar" title="runs by state">' + "".join(
            f'<span style="width:{100.0 * counts[s] / total:.3f}%;background:{STATE_COLOUR[s]}" '
            f'title="{counts[s]} {s}"></span>' for s in order if counts[s]) + "</div>")
    dropped = int((~in_plan).sum())
    if dropped:
        out.append(f'<p class="note" id="not-in-plan">{dropped} more rows are no longer in the current spec '
                   "(in_plan = 0): listed below, never run again.</p>")
    if "steps" in runs and "steps_total" in runs:
        st = runs["steps"].to_numpy(float)[in_plan]
        tot = runs["steps_total"].to_numpy(float)[in_plan]
        fin = np.isin(runs.status.to_numpy()[in_plan], ["done", "diverged", "failed"])
        done_steps = np.where(fin, tot, np.minimum(np.maximum(st, 0), tot)).sum()
        if tot.sum() > 0:
            out.append(f'<p id="progress">optimiser steps: {int(done_steps)} of {int(tot.sum())} '
                       f"({100.0 * done_steps / tot.sum():.1f}%, finished runs counted whole)</p>")
    if "wall" in runs:
        w = runs["wall"].to_numpy(float)
        w = w[np.isfinite(w) & (w > 0)]
        if len(w):
            out.append(f'<p class="note">training time of the runs stored: {w.sum():.1f} s '
                       f"({w.mean():.2f} s per run, longest {w.max():.2f} s)</p>")
    if lock_text is not None:
        out.append('<p class="warn" id="live">A writer holds the file\'s lock (it is being written, or its '
                   "writer died: <code>hsweep status</code> tells which); this page is a snapshot.</p>"
                   f"<details><summary>the lock</summary><pre>{esc(lock_text)}</pre></details>")
    out.append("</section>")
    return "".join(out)


def section_spec(path, attrs):
    meta = [("file", os.path.abspath(path)), ("format", attrs.get("format", "?")),
            ("hsweep version", attrs.get("hsweep_version", "?")), ("created", attrs.get("created", "?")),
            ("spec file", attrs.get("spec_path", "?")), ("spec sha256", attrs.get("spec_sha256", "?")),
            ("plan digest", attrs.get("plan_digest", "?")), ("config schema", attrs.get("schema_version", "?"))]
    out = ['<section id="spec"><h2>Sweep</h2><dl class="meta">']
    out += [f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in meta]
    out.append("</dl>")
    if attrs.get("overrides", "").strip():
        out.append(f'<h3>--set overrides</h3><pre id="overrides">{esc(attrs["overrides"])}</pre>')
    out.append(f'<h3>Spec</h3><pre id="spec-text">{esc(attrs.get("spec", "(not stored)"))}</pre>')
    if attrs.get("sessions", "").strip():
        out.append(f'<h3>Sessions (jobs that ended cleanly)</h3><pre id="sessions">{esc(attrs["sessions"])}</pre>')
    out.append("</section>")
    return "".join(out)


def run_columns(runs):
    keys = [c for c in runs.columns if is_config(c)]
    return keys, ["id"] + keys + ["status", "attempts", "wall", "progress", "epochs_done", "rank", "host", "error"]


def progress_text(r):
    tot = r.get("steps_total", 0)
    if r["status"] in ("done", "diverged"):
        return "100%" if r["status"] == "done" else "stopped"
    if tot and tot > 0 and r.get("steps", 0) > 0:
        return f"{100.0 * min(r['steps'], tot) / tot:.0f}%"
    return ""


def section_runs(runs):
    keys, header = run_columns(runs)
    rows, attrs = [], []
    for _, r in runs.iterrows():
        prov = text(r.get("provenance", "")).strip()
        cells = [r["id"]] + [fmt(r[k]) for k in keys]
        wall = r.get("wall", float("nan"))
        cells += [r["status"], fmt(r.get("attempts", "")),
                  "" if not np.isfinite(wall) or (wall == 0 and r["status"] in ("pending", "running")) else f"{wall:.2f}",
                  progress_text(r), fmt(r.get("epochs_done", "")),
                  fmt(r.get("rank", "")) if r["status"] != "pending" else "", r.get("host", "unknown"),
                  text(r.get("error", ""))]
        rows.append(cells)
        tip = prov if prov else "provenance: unknown (not stored yet)"
        plan = "" if r.get("in_plan", 1) else ' data-in-plan="0"'
        attrs.append(f' data-run="{esc(r["id"])}" data-status="{esc(r["status"])}" title="{esc(tip)}"{plan}')

    def cls(col, c):
        if col == "status":
            return "st state-" + c
        if col == "error":
            return "err"
        return "num" if col != "id" and is_number(c) else ""
    out = ['<section id="runs"><h2>Runs</h2><p class="note">One row per run in file order; hover a row for '
           "where and how it ran (its provenance). wall: seconds of training; progress: optimiser steps "
           "done of the run's total.</p>", table_html(header, rows, "run-table", None, attrs, cls), "</section>"]
    return "".join(out)


def section_failures(runs):
    keys, _ = run_columns(runs)
    bad = runs[runs.status.isin(["failed", "diverged"])]
    out = ['<section id="failures"><h2>Failed and diverged runs</h2>']
    if not len(bad):
        out.append('<p class="note" id="no-failures">None.</p></section>')
        return "".join(out)
    rows = []
    for _, r in bad.iterrows():
        config = ", ".join(f"{k}={fmt(r[k])}" for k in keys)
        rows.append([r["id"], r["status"], fmt(r.get("attempts", "")), config,
                     text(r.get("error", "")) or ("non-finite loss" if r["status"] == "diverged" else "")])
    out.append(table_html(["id", "status", "attempts", "config", "error"], rows, "failure-table",
                          cell_cls=lambda col, c: "err" if col == "error" else ""))
    out.append("</section>")
    return "".join(out)


def section_provenance(runs):
    if "host" not in runs:
        return ""
    shown = PROV_SHOWN + [k for k in PROVENANCE if k.startswith("slurm") and (runs[k] != "unknown").any()]
    stored = runs[runs.provenance.astype(str).str.strip() != ""] if "provenance" in runs else runs.iloc[0:0]
    out = ['<section id="provenance"><h2>Where the runs ran</h2>']
    if not len(stored):
        out.append('<p class="note">No run has stored its provenance yet.</p></section>')
        return "".join(out)
    groups = stored.groupby(shown, sort=False)
    rows = [list(k) + [str(len(g)), " ".join(g["id"].tolist())] for k, g in groups]
    out.append(f'<p class="note">{len(stored)} runs stored with their provenance, in {len(rows)} distinct '
               "setting(s) (hosts, kernels, builds).</p>")
    out.append(table_html(shown + ["runs", "run ids"], rows, "provenance-table",
                          cell_cls=lambda col, c: "num" if col == "runs" else ""))
    out.append("</section>")
    return "".join(out)


def section_tables(path):
    kinds = table_kinds(path)
    out = ['<section id="tables"><h2>Analysis tables</h2>']
    if not kinds:
        out.append('<p class="note" id="no-tables">No analysis table is stored in the file: run '
                   "<code>hsweep analyze</code> on it (tables beside files analysed by older versions "
                   "are not read).</p></section>")
        return "".join(out)
    for kind in kinds:
        rows = list(csv.reader(io.StringIO(read_table_csv(path, kind))))
        out.append(f'<h3 id="table-{esc(kind)}">{esc(kind)}</h3>')
        if rows:
            out.append(table_html(rows[0], rows[1:], None, "analysis").replace(
                '<table class="analysis"', f'<table class="analysis" data-kind="{esc(kind)}"', 1))
        md = read_table_md(path, kind)
        if md:
            out.append(f"<details><summary>as printed by <code>hsweep analyze</code> (Markdown)</summary>"
                       f"<pre>{esc(md)}</pre></details>")
    out.append("</section>")
    return "".join(out)


def section_figures(figs, analyses, skipped):
    out = ['<section id="figures"><h2>Figures</h2>']
    if skipped:
        out.append(f'<p class="note">{esc(skipped)}</p></section>')
        return "".join(out)
    if not analyses:
        out.append('<p class="note">No analysis stored in the file (run <code>hsweep analyze</code>): only the '
                   "learning curves.</p>")
    for item in figs:
        out.append(f'<h3>{esc(item["script"])} <span class="note">({esc(item["analysis"])})</span></h3>')
        if item["error"]:
            out.append(f'<div class="script-failed" data-script="{esc(item["script"])}"><p class="warn">'
                       f'{esc(item["script"])} failed:</p><pre>{esc(item["error"])}</pre></div>')
        if item["declined"]:
            out.append(f'<div class="script-declined" data-script="{esc(item["script"])}"><p class="note">'
                       f'nothing for it to draw in this file:</p><pre>{esc(item["declined"])}</pre></div>')
        for name, data, caption in item["figures"]:
            b64 = base64.b64encode(data).decode("ascii")
            out.append(f'<figure data-script="{esc(item["script"])}" data-name="{esc(name)}">'
                       f'<img alt="{esc(name)}" src="data:image/png;base64,{b64}">'
                       f'<figcaption>{esc(caption) if caption else esc(name)}</figcaption></figure>')
    out.append("</section>")
    return "".join(out)


def build(path, scripts_dir, figures=True, log=lambda s: None):
    """The page's HTML text for the results file at path."""
    attrs, analyses = read_meta(path)
    runs = read_runs(path)
    lock = path + ".lock"
    lock_text = None
    if os.path.exists(lock):
        try:
            with open(lock, encoding="utf-8", errors="replace") as fh:
                lock_text = fh.read()
        except OSError:
            lock_text = "(unreadable)"
    skipped = None
    if not figures:
        skipped = "Figures left out (--no-figures)."
        figs = []
    elif not scripts_dir or not os.path.isdir(scripts_dir):
        skipped = f"No figure scripts found (looked in {scripts_dir})."
        figs = []
    else:
        figs = run_figures(path, scripts_dir, analyses, log)
    name = spec_name(attrs.get("spec", ""), path)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',  # else a browser asks file:// for favicon.ico
        f'<meta name="generator" content="hsweep.report {esc(os.path.abspath(__file__))}; figure scripts '
        f'{esc(os.path.abspath(scripts_dir) if scripts_dir else "none")}">',
        f"<title>hsweep report: {esc(name)}</title><style>{CSS}</style></head><body>",
        f'<header><h1>hsweep report: {esc(name)}</h1><p>{esc(path)} &middot; '
        f"made {esc(now)} from the file alone (read-only)</p></header>",
        '<nav><a href="#overview">runs by state</a><a href="#spec">sweep</a><a href="#runs">runs</a>'
        '<a href="#failures">failures</a><a href="#tables">tables</a><a href="#figures">figures</a>'
        '<a href="#provenance">provenance</a></nav><main>',
        section_overview(path, attrs, runs, lock_text),
        section_spec(path, attrs),
        section_runs(runs),
        section_failures(runs),
        section_tables(path),
        section_figures(figs, analyses, skipped),
        section_provenance(runs),
        "</main></body></html>\n",
    ]
    return "".join(parts)


def default_scripts_dir():
    """The figure scripts: python/../analysis in the source tree; in an install (the package in
    P/lib/python3.X/site-packages) P/share/hsweep/analysis."""
    site = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tree = os.path.join(os.path.dirname(site), "analysis")
    prefix = os.path.dirname(os.path.dirname(os.path.dirname(site)))
    for d in (tree, os.path.join(prefix, "share", "hsweep", "analysis")):
        if os.path.isfile(os.path.join(d, "README.md")):
            return d
    return tree


def main(argv):
    ap = argparse.ArgumentParser(prog="python3 -m hsweep.report", description=__doc__.splitlines()[0])
    ap.add_argument("results", help="the results file (hsweep run -o)")
    ap.add_argument("-o", "--output", required=True, help="the HTML page to write")
    ap.add_argument("--scripts", help="the figure scripts' directory (default: analysis/ beside the package)")
    ap.add_argument("--no-figures", action="store_true", help="leave the figures out (faster)")
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    a = ap.parse_args(argv)
    if not os.path.isfile(a.results):
        print(f"{a.results}: no such file", file=sys.stderr)
        return 1
    if os.path.exists(a.output) and os.path.samefile(a.output, a.results):
        print(f"{a.output}: that is the results file; the page goes elsewhere", file=sys.stderr)
        return 1
    if os.path.isdir(a.output):
        print(f"{a.output}: is a directory; give the page's file name", file=sys.stderr)
        return 1
    out_dir = os.path.dirname(os.path.abspath(a.output))
    if not os.path.isdir(out_dir):
        print(f"{a.output}: no such directory {out_dir}", file=sys.stderr)
        return 1
    log = (lambda s: None) if a.quiet else (lambda s: print(f"hsweep report: {s}", file=sys.stderr))
    try:
        page = build(a.results, a.scripts or default_scripts_dir(), not a.no_figures, log)
    except (OSError, KeyError) as e:
        print(f"{a.results}: cannot read as a results file: {e}", file=sys.stderr)
        return 1
    if os.path.lexists(a.output) and not stat.S_ISREG(os.lstat(a.output).st_mode):
        # a device, a pipe or a link (/dev/stdout, a FIFO): written into, never renamed over, which
        # would put a regular file where the device or the link was
        try:
            with open(a.output, "w", encoding="utf-8") as fh:
                fh.write(page)
        except OSError as e:
            print(f"{a.output}: cannot write: {e}", file=sys.stderr)
            return 1
        return 0
    # written aside and renamed: a reader of the page never sees half of it
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=out_dir)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.chmod(tmp, 0o644)
        os.replace(tmp, a.output)
    except OSError as e:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        print(f"{a.output}: cannot write: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
