"""report_browser.py - `hsweep report`'s page in a real browser (headless Chromium via selenium).

    report_browser.py check PAGE.html RESULTS.h5 STATUS.txt   # assertions; exit 0 when all hold
    report_browser.py screenshot PAGE.html OUT.png [WIDTH]     # the page's top, WIDTH px wide (1200)

check opens file://PAGE and compares what the browser shows with the file, read here with h5py
alone (not through the package the page was made with): run states and counts (and `hsweep
status`'s counts, saved in STATUS.txt), every cell of the run table (ids, varying keys, state,
attempts, wall time at its printed precision, error) and its provenance tooltip, the failed
runs, every cell of every analysis table against /tables/<kind>/csv, equisep's statistics
against /analysis/equisep at the printed precision, the spec, every figure decoded by the
browser (naturalWidth > 0, each from a data: URI), nothing fetched from elsewhere, and no error
in the browser's console. Prints one line per check; exit 1 on the first failure.
"""
import csv
import io
import math
import os
import re
import shutil
import sys

import h5py
import numpy as np

STATES = ["pending", "running", "done", "failed", "diverged"]  # hs_run_state's order


def browser(width=1200, height=900):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              f"--window-size={width},{height}", "--hide-scrollbars", "--force-device-scale-factor=1"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    return webdriver.Chrome(service=Service(drv), options=opts)


def text(v):
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def same_at_printed(shown, value):
    """True when the text shown is value written to the digits shown: |shown - value| is at most
    half a unit of the last digit printed. An empty cell stands for NaN."""
    shown = shown.strip()
    if shown == "":
        return value is None or (isinstance(value, float) and math.isnan(value))
    try:
        x = float(shown)
    except ValueError:
        return False
    v = float(value)
    if math.isinf(x) or math.isnan(x):
        return x == v or (math.isnan(x) and math.isnan(v))
    mant, _, exp = shown.lower().partition("e")
    decimals = len(mant.split(".")[1]) if "." in mant else 0
    unit = 10.0 ** ((int(exp) if exp else 0) - decimals)
    return abs(x - v) <= 0.5 * unit * (1 + 1e-9) + 1e-300


class Checker:
    def __init__(self):
        self.n = 0

    def ok(self, cond, what, detail=""):
        if not cond:
            print(f"  FAIL {what}" + (f"\n       {detail}" if detail else ""))
            sys.exit(1)
        self.n += 1
        print(f"  ok   {what}")


def read_file(path):
    with h5py.File(path, "r") as f:
        runs = {k: f["runs"][k][()] for k in f["runs"]}
        tables = {k: text(f[f"tables/{k}/csv"][()]) for k in f["tables"]} if "tables" in f else {}
        eq = {k: f["analysis/equisep"][k][()] for k in f["analysis/equisep"]} if "analysis/equisep" in f else {}
        spec = text(f.attrs["spec"])
    return runs, tables, eq, spec


def status_counts(status_text):
    m = re.search(r"(\d+) runs: (\d+) done, (\d+) diverged, (\d+) failed, (\d+) running, (\d+) pending",
                  status_text)
    assert m, f"no counts line in hsweep status' output:\n{status_text}"
    n = [int(x) for x in m.groups()]
    return n[0], dict(zip(["done", "diverged", "failed", "running", "pending"], n[1:]))


def check(page, results, status_file):
    from selenium.webdriver.common.by import By
    c = Checker()
    runs, tables, eq, spec = read_file(results)
    with open(status_file, encoding="utf-8") as fh:
        total, counts = status_counts(fh.read())
    d = browser()
    try:
        d.get("file://" + os.path.abspath(page))
        c.ok(d.execute_script("return document.readyState") == "complete", "the page loads")
        c.ok(d.title.startswith("hsweep report: "), f"title '{d.title}'")

        # ---- states: the badges against hsweep status and against the file
        badges = {b.get_attribute("data-state"): b.text for b in d.find_elements(By.CSS_SELECTOR, "#run-counts .badge")}
        c.ok(set(badges) == set(STATES), "a badge per state", str(badges))
        for s in STATES:
            c.ok(badges[s] == f"{counts[s]} {s}", f"badge '{badges[s]}' is hsweep status' count of {s}")
        st = [STATES[int(x)] for x in runs["status"]]
        for s in STATES:
            c.ok(counts[s] == st.count(s), f"status' {s} count is the file's ({st.count(s)})")
        head = d.find_element(By.CSS_SELECTOR, "#run-counts b").text
        c.ok(head == f"{total} runs:", f"total '{head}'")

        # ---- the run table, cell by cell against /runs
        table = d.find_element(By.ID, "run-table")
        header = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
        keys = sorted(k for k in runs if k == "seed" or "." in k)
        c.ok(header == ["id"] + keys + ["status", "attempts", "wall", "progress", "epochs_done", "rank", "host",
                                        "error"], "run table columns: id, the varying keys, state, ...", str(header))
        rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
        ids = [text(x) for x in runs["id"]]
        c.ok(len(rows) == len(ids), f"{len(ids)} rows, one per run")
        cells = d.execute_script(
            "return Array.from(document.querySelectorAll('#run-table tbody tr')).map("
            "r => [r.title, Array.from(r.cells).map(td => td.textContent)])")
        bad = []
        for i, (tip, row) in enumerate(cells):
            cell = dict(zip(header, row))
            if cell["id"] != ids[i]:
                bad.append(f"row {i}: id {cell['id']} != {ids[i]}")
            if cell["status"] != st[i]:
                bad.append(f"row {i}: status {cell['status']} != {st[i]}")
            if cell["attempts"] != str(int(runs["attempts"][i])):
                bad.append(f"row {i}: attempts {cell['attempts']} != {runs['attempts'][i]}")
            if not same_at_printed(cell["wall"], float(runs["wall"][i])):
                bad.append(f"row {i}: wall {cell['wall']} != {runs['wall'][i]}")
            if cell["epochs_done"] != str(int(runs["epochs_done"][i])):
                bad.append(f"row {i}: epochs {cell['epochs_done']} != {runs['epochs_done'][i]}")
            if cell["error"] != text(runs["error"][i]).strip():
                bad.append(f"row {i}: error {cell['error']!r} != {text(runs['error'][i])!r}")
            for k in keys:
                v = runs[k][i]
                ok = (cell[k] == text(v)) if runs[k].dtype.kind in "SO" else \
                    (cell[k] == str(int(v))) if runs[k].dtype.kind in "iu" else same_at_printed(cell[k], float(v))
                if not ok:
                    bad.append(f"row {i}: {k} {cell[k]!r} != {v!r}")
            prov = text(runs["provenance"][i]).strip()
            if prov and tip.strip() != prov:
                bad.append(f"row {i}: tooltip {tip[:60]!r} is not the run's provenance")
        c.ok(not bad, f"every run table cell ({len(cells)} x {len(header)}) is the file's value", "\n".join(bad[:8]))
        c.ok(any("host=" in t for t, _ in cells), "rows carry their provenance (host=...) on hover")

        # ---- failures
        failed = [i for i, s in enumerate(st) if s in ("failed", "diverged")]
        frows = d.execute_script(
            "const t = document.getElementById('failure-table'); return t ? Array.from(t.tBodies[0].rows)"
            ".map(r => Array.from(r.cells).map(td => td.textContent)) : []")
        c.ok([r[0] for r in frows] == [ids[i] for i in failed], f"failure table lists the {len(failed)} failed runs")
        for r, i in zip(frows, failed):
            c.ok(r[4] == text(runs["error"][i]).strip() and r[4], f"failure {r[0]}: its error '{r[4][:50]}...'")

        # ---- analysis tables against /tables/<kind>/csv, cell by cell
        shown = d.execute_script(
            "return Array.from(document.querySelectorAll('table.analysis')).map(t => [t.dataset.kind,"
            " Array.from(t.rows).map(r => Array.from(r.cells).map(td => td.textContent))])")
        c.ok(sorted(k for k, _ in shown) == sorted(tables), f"one table per stored kind {sorted(tables)}",
             str([k for k, _ in shown]))
        for kind, page_rows in shown:
            want = list(csv.reader(io.StringIO(tables[kind])))
            c.ok(page_rows == want, f"table {kind}: every cell ({len(want)} rows x {len(want[0])}) is the file's",
                 f"page {page_rows[:2]}\nfile {want[:2]}")
        if "equisep" in tables:
            hdr, body = shown[[k for k, _ in shown].index("equisep")][1][0], shown[[k for k, _ in shown].index("equisep")][1][1:]
            for col in ("rho_mean", "r_mean", "n_runs", "d_last_mean"):
                page_vals = sorted(float(r[hdr.index(col)]) for r in body)
                file_vals = sorted(float(x) for x in eq[col])
                c.ok(len(page_vals) == len(file_vals) and all(
                    same_at_printed(r[hdr.index(col)], fv) for r, fv in
                    zip(sorted(body, key=lambda r: float(r[hdr.index(col)])), file_vals)),
                    f"equisep {col} on the page = /analysis/equisep/{col} at the printed precision",
                    f"{page_vals} vs {file_vals}")

        # ---- spec, figures, self-containment, console
        c.ok(d.execute_script("return document.getElementById('spec-text').textContent") == spec,
             "the spec shown is the file's, verbatim")
        # the browser decodes the data URIs after the load event: wait for every image (10 s at most)
        from selenium.webdriver.support.ui import WebDriverWait
        WebDriverWait(d, 10).until(lambda drv: drv.execute_script(
            "return Array.from(document.images).every(i => i.complete)"))
        imgs = d.execute_script(
            "return Array.from(document.querySelectorAll('figure img')).map(i => [i.complete, i.naturalWidth,"
            " i.naturalHeight, i.getAttribute('src').slice(0, 22), i.closest('figure').dataset.name,"
            " i.closest('figure').querySelector('figcaption').textContent])")
        names = [x[4] for x in imgs]
        c.ok("curves" in names and "equisep" in names, f"figures: {names}")
        for done, w, h, src, name, cap in imgs:
            c.ok(done and w > 0 and h > 0 and src == "data:image/png;base64,", f"figure {name}: {w}x{h} from a data URI",
                 f"complete {done}, {w}x{h}, src {src!r}")
            c.ok(cap.strip() != "", f"figure {name} captioned '{cap[:60]}'")
        failed_scripts = d.find_elements(By.CSS_SELECTOR, ".script-failed")
        c.ok(not failed_scripts, "no figure script failed", "\n".join(e.text for e in failed_scripts))
        external = d.execute_script(
            "return Array.from(document.querySelectorAll('[src],[href],link,script')).map("
            "e => e.getAttribute('src') || e.getAttribute('href') || e.tagName).filter("
            "u => !(u.startsWith('data:') || u.startsWith('#')))")
        c.ok(not external, "nothing referenced outside the page", str(external[:5]))
        resources = d.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        c.ok(all(r.startswith("data:") for r in resources), "no request left the page", str(resources[:5]))
        logs = d.get_log("browser")
        errors = [e for e in logs if e.get("level") in ("SEVERE", "ERROR")]
        c.ok(not errors, f"no error in the browser console ({len(logs)} entries)", str(errors[:3]))
    finally:
        d.quit()
    print(f"report_browser: {c.n} checks passed")
    return 0


def screenshot(page, out, width=1200):
    d = browser(width, 900)
    try:
        d.get("file://" + os.path.abspath(page))
        h = d.execute_script("return Math.min(document.body.scrollHeight, 2400)")
        d.set_window_size(width, h)
        d.save_screenshot(out)
    finally:
        d.quit()
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) == 4 and a[0] == "check":
        sys.exit(check(*a[1:]))
    if len(a) in (3, 4) and a[0] == "screenshot":
        sys.exit(screenshot(a[1], a[2], int(a[3]) if len(a) == 4 else 1200))
    print(__doc__, file=sys.stderr)
    sys.exit(2)
