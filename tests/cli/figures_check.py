"""figures_check.py RESULTS.h5 STEM... - the checks of test_figures.sh that need Python: every STEM
has a PNG whose Description and a PDF whose Subject hold the caption; plot_curves' band is the
ddof-1 std over seeds computed here by hand from the file's records; figure_common.save refuses
an axes without labels under HSWEEP_FIGURE_CHECK=1. Prints "ok ..." or raises."""
import math
import os
import re
import sys
import zlib

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "analysis"))
import figure_common as fc  # noqa: E402
import hsweep_results as hr  # noqa: E402
import plot_curves  # noqa: E402


def png_text(path):
    """The tEXt/iTXt/zTXt chunks of a PNG, read with the standard library only."""
    out, data = {}, open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    i = 8
    while i < len(data):
        n = int.from_bytes(data[i:i + 4], "big")
        kind, body = data[i + 4:i + 8], data[i + 8:i + 8 + n]
        if kind == b"tEXt":
            k, _, v = body.partition(b"\0")
            out[k.decode("latin-1")] = v.decode("latin-1")
        elif kind == b"zTXt":
            k, _, v = body.partition(b"\0")
            out[k.decode("latin-1")] = zlib.decompress(v[1:]).decode("latin-1")
        elif kind == b"iTXt":
            k, _, rest = body.partition(b"\0")
            comp, rest = rest[0], rest[2:]
            _, _, rest = rest.partition(b"\0")
            _, _, v = rest.partition(b"\0")
            out[k.decode("latin-1")] = (zlib.decompress(v) if comp else v).decode("utf-8")
        i += 12 + n
    return out


def check_files(stems):
    for s in stems:
        desc = png_text(s + ".png").get("Description", "")
        assert len(desc) > 40, f"{s}.png: Description {desc!r}"
        pdf = open(s + ".pdf", "rb").read()
        assert pdf.startswith(b"%PDF") and re.search(rb"/Subject\s*\(", pdf), f"{s}.pdf: no Subject"
    return len(stems)


def check_band(path):
    """plot_curves.seed_band against sqrt(sum (x - mean)^2 / (n - 1)) from /records and /runs."""
    with h5py.File(path, "r") as f:
        depth = f["runs/model.depth"][()]
        epoch = f["records/epoch"][()]
        recs = {m: f["records/" + m][()] for m in ("train_loss", "train_acc", "test_acc")}
    long = hr.read_records(path, finished_only=True)
    n_checked, worst, gap0 = 0, 0.0, 0.0
    for dep in np.unique(depth):
        rows = np.nonzero(depth == dep)[0]
        assert len(rows) == 3, f"depth {dep}: {len(rows)} seeds, the spec has 3"
        g = long[long["model.depth"] == dep]
        for m, a in recs.items():
            mean, sd, count = plot_curves.seed_band(g, m)
            for e in np.unique(epoch[rows[0]][np.isfinite(epoch[rows[0]])]):
                x = [a[r][epoch[r] == e][0] for r in rows]
                mu = sum(x) / 3
                hand = math.sqrt(sum((v - mu) ** 2 for v in x) / (3 - 1))
                assert count[e] == 3 and abs(mean[e] - mu) <= 1e-12 * max(1, abs(mu)), (m, e, mean[e], mu)
                worst = max(worst, abs(sd[e] - hand))
                gap0 = max(gap0, abs(hand - math.sqrt(sum((v - mu) ** 2 for v in x) / 3)))
                n_checked += 1
    assert worst <= 1e-12, f"band half-width differs from the ddof-1 std by {worst:g}"
    assert gap0 > 1e-4, "ddof 0 and 1 agree on this file: the check could not tell them apart"
    return n_checked, worst


def check_refusal(tmp):
    os.environ["HSWEEP_FIGURE_CHECK"] = "1"
    fig, ax = fc.plt.subplots()
    ax.plot([0, 1], [0, 1], label="a")
    ax.set_xlabel("epoch")
    ax.legend(fontsize=6)
    try:
        fc.save(fig, os.path.join(tmp, "bad"), "fig", "a caption")
    except fc.FigureCheckError as e:
        assert "no y label" in str(e) and "legend font 6" in str(e), e
        assert not os.path.exists(os.path.join(tmp, "bad-fig.png"))
    else:
        raise AssertionError("save accepted an axes without a y label")
    fig, ax = fc.plt.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("x"), ax.set_ylabel("y")
    try:
        fc.save(fig, os.path.join(tmp, "bad"), "fig", "")
    except fc.FigureCheckError as e:
        assert "no caption" in str(e), e
    else:
        raise AssertionError("save accepted an empty caption")


def main(argv):
    path, stems = argv[1], argv[2:]
    n_files = check_files(stems)
    n_band, worst = check_band(path)
    check_refusal(os.path.dirname(path))
    print(f"ok {n_files} figures with PNG Description and PDF Subject; band = ddof-1 std at {n_band} "
          f"(config, metric, epoch) points (max diff {worst:.1e}); unlabelled axes and empty caption refused")


if __name__ == "__main__":
    main(sys.argv)
