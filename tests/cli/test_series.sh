#!/usr/bin/env bash
# test_series.sh TEST_SERIES MPIEXEC PYTHON - the Python reader of time series: tests/mpi/test_series
# writes a results file on 2 ranks (create, resume, grow, a shorter rewrite); analysis/hsweep_results
# must read every value, NaN padding and point index back as that program wrote them.
# Run from the source tree root (ctest sets the working directory).
set -u
PROG=$1 MPIEXEC=$2 PY=$3
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

check "test_series writes the file on 2 ranks" 0 "$MPIEXEC" -n 2 --oversubscribe "$PROG" "$T/s.h5"
res=$("$PY" - "$T/s.h5" 2>&1 <<'PYEOF'
import sys
sys.path.insert(0, "analysis")
import numpy as np
import hsweep_results as hr
path = sys.argv[1]
# what tests/mpi/test_series.c leaves: [run][series] = (points, own dims, shift); None = nothing
final = {
    "acc": [(4, (3,), 0), (1, (2,), 0.5), None, (6, (5,), 0)],
    "gram": [(2, (2, 3, 3), 0), (1, (1, 2, 2), 0), None, (2, (2, 3, 3), 0)],
    "svals": [None, None, None, (3, (), 0)],
}
every = {"acc": 1, "gram": 2, "svals": 1}
shape = {"acc": (4, 6, 5), "gram": (4, 2, 2, 3, 3), "svals": (4, 3)}
assert hr.series_names(path) == ["acc", "gram", "svals"], hr.series_names(path)
assert hr.series_axes(path, "gram") == ["rep", "class", "class"]
assert hr.series_axes(path, "svals") == []
for name, runs_final in final.items():
    runs, values, point = hr.read_series(path, name)
    assert list(runs.id) == ["00000000000000a1", "00000000000000b2", "00000000000000c3", "00000000000000d4"]
    assert list(runs.status) == ["done", "done", "failed", "done"], list(runs.status)
    assert values.shape == shape[name], (name, values.shape)
    assert point.shape == shape[name][:2] and point.dtype == np.int64
    want = np.full(values.shape, np.nan)
    want_pt = np.full(point.shape, -1)
    for r, fin in enumerate(runs_final):
        if fin is None:
            continue
        n, dims, shift = fin
        want_pt[r, :n] = np.arange(n) * every[name]
        grids = np.meshgrid(*[np.arange(d) for d in (dims + (1, 1, 1))[:3]], indexing="ij")
        a, b, c = grids
        for j in range(n):
            v = 10000 * (r + 1) + 1000 * j + 100 * a + 10 * b + c + shift
            sl = (r, j) + tuple(slice(0, d) for d in dims)
            want[sl] = v.reshape(dims) if dims else v.item()
    assert np.array_equal(point, want_pt), (name, point, want_pt)
    assert np.array_equal(np.isnan(values), np.isnan(want)), name
    assert np.array_equal(values[~np.isnan(values)], want[~np.isnan(want)]), name
# the long table: one row per value, axes as columns, the record point's epoch joined
tab = hr.read_series_long(path, "gram")
assert list(tab.columns[-4:]) == ["rep", "class", "class_2", "value"], list(tab.columns)
assert len(tab) == 2 * 18 + 4 + 2 * 18, len(tab)
row = tab[(tab.id == "00000000000000d4") & (tab.point == 1) & (tab.rep == 1) & (tab["class"] == 2) & (tab.class_2 == 0)]
assert len(row) == 1 and row.value.iloc[0] == 41000 + 100 + 20 and row.record.iloc[0] == 2, row
assert row.epoch.iloc[0] == 2, row  # test_series records epoch t at record point t
try:
    hr.read_series(path, "nope")
    raise SystemExit("no KeyError")
except KeyError as e:
    assert "nope" in str(e) and "acc" in str(e), e
# the file of one training: no run axis, runs is None
runs, values, point = hr.read_series(path + ".run.h5", "acc")
assert runs is None and values.shape == (3, 2) and list(point) == [0, 1, 2], (values, point)
assert np.allclose(values.ravel(), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
one = hr.read_series_long(path + ".run.h5", "svals")
assert list(one.value) == [7, 8] and list(one.epoch) == [0, 10], one
print("ok")
PYEOF
)
[ "$res" = ok ] && ok "read_series / read_series_long give back every value" || bad "python reader" "$res"
finish
