#!/usr/bin/env bash
# test_train.sh HSWEEP PYTHON - `hsweep train`: choosing a run, progress lines, the HDF5 file it
# writes (read back with h5py), bit-identical reruns, and clean errors for bad choices and data.
# Run from the source tree root (ctest sets the working directory).
set -u
HS=$1 PY=$2
. "$(dirname "$0")/lib.sh"
S=tests/specs/train/gaussian.yaml
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

check "train without --run on a 2-run spec" 2 "$HS" train $S
contains "names the run count" "$ERR" "has 2 runs; choose one with --run ID"
contains "hint points at plan" "$ERR" "hsweep plan $S"
check "train with an unknown id" 2 "$HS" train $S --run ffff
contains "unknown id message" "$ERR" "no run of $S has an id starting with 'ffff'"
check "train with a non-hex id" 2 "$HS" train $S --run xyz
check "train with an unknown option" 2 "$HS" train $S --fast

check "plan lists the ids" 0 "$HS" plan $S --format tsv
id1=$(printf '%s\n' "$OUT" | awk 'NR==2 {print $1}')
id2=$(printf '%s\n' "$OUT" | awk 'NR==3 {print $1}')
[ ${#id1} = 16 ] && ok "id $id1" || bad "no id in plan output" "$OUT"

check "train run 1 by id prefix" 0 "$HS" train $S --run "${id1:0:6}" -o "$T/a.h5"
contains "header line" "$OUT" "run $id1: 200 training / 200 test samples of 8 dims, 4 classes; 2 hidden layers"
n=$(printf '%s\n' "$OUT" | grep -c '^epoch ')
[ "$n" = 5 ] && ok "5 progress lines (epochs 0, 5, 10, 15, 20)" || bad "$n progress lines" "$OUT"
contains "last progress line" "$OUT" "epoch  20/20"
contains "summary line" "$OUT" "done after 20 epochs (140 steps"
check "same run again" 0 "$HS" train $S --run "$id1" -o "$T/b.h5" --quiet
[ -z "$OUT" ] && ok "--quiet prints nothing" || bad "--quiet printed" "$OUT"
check "the other seed" 0 "$HS" train $S --run "$id2" -o "$T/c.h5" --quiet
check "--run ID --set k=v trains a variant of that run" 0 "$HS" train $S --run "$id1" --set train.epochs=5 -o "$T/d.h5"
contains "variant ran 5 epochs" "$OUT" "epoch   5/5"
case "$OUT" in *"run $id1:"*) bad "variant kept the original id";; *) ok "the variant has its own id";; esac
check "--set alone still needs --run on a 2-run spec" 2 "$HS" train $S --set seed=3
# --set wins over a key a block sets: the corrupt-data block of fail.yaml points data.path at
# broken files (plan and run refuse such a --set; train's changes the chosen run)
F=tests/specs/train/fail.yaml
check "plan of fail.yaml" 0 "$HS" plan $F --format tsv
idm=$(printf '%s\n' "$OUT" | awk '$2 == "corrupt-data" {print $1; exit}')
check "a block-level key is overridden by --set" 0 "$HS" train $F --run "$idm" --set data.path=/usr/share/datasets/fashion-mnist --set train.epochs=1 -o "$T/m.h5" --quiet
check "--set seed moves a derived data.seed along" 0 "$HS" train $S --run "$id1" --set seed=7 --set train.epochs=1 -o "$T/s7.h5" --quiet
res=$("$PY" -c "import h5py; c = h5py.File('$T/s7.h5').attrs['config']; print('seed=7' in c.split(), 'data.seed=7' in c.split(), 'data.seed=1' in c.split())")
[ "$res" = "True True False" ] && ok "config has seed=7 and data.seed=7" || bad "seed override" "$res"

res=$("$PY" - "$T" "$id1" <<'PYEOF'
import sys, h5py, numpy as np
d, id1 = sys.argv[1], sys.argv[2]
a, b, c = (h5py.File(f"{d}/{x}.h5", "r") for x in "abc")
assert a.attrs["run_id"] == id1, a.attrs["run_id"]
assert a.attrs["status"] == "done"
assert "data.kind=\"gaussian\"" in a.attrs["config"], a.attrs["config"]
assert list(a["records/epoch"][:]) == [0, 5, 10, 15, 20]
assert list(a["records/step"][:]) == [0, 35, 70, 105, 140]
names = sorted(a["records"].keys())
assert names == sorted(["epoch", "step", "lr", "epoch_loss", "train_loss", "train_acc", "test_loss",
                        "test_acc", "seconds"]), names
assert np.isnan(a["records/epoch_loss"][0])
assert a["records/train_acc"][-1] > 0.95, a["records/train_acc"][:]
assert a["records/train_loss"][-1] < a["records/train_loss"][0]
for k in names:
    if k == "seconds": continue
    assert np.array_equal(a["records/" + k][:], b["records/" + k][:], equal_nan=True), k
assert not np.array_equal(a["records/train_loss"][:], c["records/train_loss"][:])
print("ok")
PYEOF
)
[ "$res" = ok ] && ok "h5py reads the file; a rerun is bit-identical; another seed differs" || bad "h5py check" "$res"

check "missing dataset folder" 1 "$HS" train $S --run "$id1" --set data.kind=cfm --set data.path=/nonexistent -o "$T/e.h5"
contains "names the path" "$ERR" "/nonexistent/"
[ ! -e "$T/e.h5" ] && ok "no file written for a failed run" || bad "a file was written"
check "unwritable output" 1 "$HS" train $S --run "$id1" -o /nonexistent/x.h5 --quiet
contains "output error names the path and the cause" "$ERR" "/nonexistent/x.h5: cannot create the HDF5 file: No such file or directory"
check "a directory as the output" 1 "$HS" train $S --run "$id1" -o "$T" --quiet
contains "  says so" "$ERR" "$T is a directory"
# a FIFO would block the open until someone read it (a hang), a device (as root) be written over
mkfifo "$T/fifo"
check "a FIFO as the output" 1 timeout 20 "$HS" train $S --run "$id1" -o "$T/fifo" --quiet
contains "  says what it is" "$ERR" "$T/fifo is a device, FIFO or socket: an HDF5 file must be a regular file"
check "a device as the output" 1 timeout 20 "$HS" train $S --run "$id1" -o /dev/null --quiet
check "a FIFO as the output of hsweep data" 1 timeout 20 "$HS" data $S --run "$id1" -o "$T/fifo"
mkfifo "$T/fifo.npz"
check "a FIFO as the .npz output of hsweep data" 1 timeout 20 "$HS" data $S --run "$id1" -o "$T/fifo.npz"
contains "  says an archive needs a file" "$ERR" "a .npz archive must be a regular file"
[ -p "$T/fifo" ] && [ -p "$T/fifo.npz" ] && ok "  the FIFOs are still there" || bad "  a FIFO was replaced" "$(ls -l "$T")"
check "batch of one with BatchNorm" 1 "$HS" train $S --run "$id1" --set train.batch=199 --quiet -o "$T/f.h5"
contains "batch-of-one message" "$ERR" "train.batch: 199 with 200 training samples leaves a batch of one sample"
check "a diverging run exits 1 but keeps its file" 1 "$HS" train $S --run "$id1" --set train.lr=1e6 \
  --set model.norm=none --set model.act=identity --set train.opt=sgd --quiet -o "$T/g.h5"
contains "divergence message" "$ERR" "diverged: loss became"
res=$("$PY" -c "import h5py; f = h5py.File('$T/g.h5'); print(f.attrs['status'])")
[ "$res" = diverged ] && ok "file records status diverged" || bad "status in file" "$res"


# the header describes the net by its model kind (a gated net is no fcn)
G=tests/specs/train/gated-tiny.yaml
check "plan of the gated spec" 0 "$HS" plan $G --format tsv
gid=$(printf '%s\n' "$OUT" | awk 'NR==2 {print $1}')
check "train a gated run for 2 epochs" 0 "$HS" train $G --run "$gid" --set train.epochs=2 -o "$T/gated.h5"
contains "gated header line" "$OUT" "; gated, width 16"

# a deep conv net (VGG-11 at width 1/8 on SRHM inputs as 1-D signals) trains: its loss falls
V=tests/specs/train/srhm-vgg-tiny.yaml
check "plan of the vgg spec shows the parameter count" 0 "$HS" plan $V --format tsv
[ "$(printf '%s\n' "$OUT" | awk -F'\t' 'NR==1 {print $NF} NR==2 {print $NF}' | tr '\n' ' ')" = "params 49922 " ] &&
  ok "params column: 49922" || bad "params column" "$OUT"
check "train the vgg run" 0 "$HS" train $V -o "$T/vgg.h5"
contains "vgg header line" "$OUT" "10 classes (srhm: 36 positions, P_max = 7.29e+06 distinct inputs); vgg11, width x0.125"
res=$("$PY" -c "
import h5py; r = h5py.File('$T/vgg.h5')['records']; l = r['train_loss'][:]
print('ok' if len(l) == 4 and l[-1] < 0.7 * l[0] and r['epoch'][-1] == 6 else l)")
[ "$res" = ok ] && ok "vgg11's training loss falls below 0.7 of its start" || bad "vgg training loss" "$res"

# ---------------------------------------------------------------- hsweep data: a run's exact sets
# cfm: the exported training set gives, through the note's formula D = tr(SS_w pinv(SS_b)), the
# layer-0 (input) D that training the same run stores; srhm: v one-hot channels per position
E=tests/specs/train/equisep-tiny.yaml
eid=$("$HS" plan $E --format tsv | awk 'NR == 2 {print $1}')
check "data of a cfm run" 0 "$HS" data $E --run "$eid" -o "$T/cfm-data.h5"
contains "data states the sizes" "$OUT" "200 training / 10000 test samples of 100 dims, 10 classes (cfm)"
check "train the same run" 0 "$HS" train $E --run "$eid" -o "$T/cfm-run.h5" --quiet
res=$("$PY" - "$T/cfm-data.h5" "$T/cfm-run.h5" "$eid" <<'PYEOF'
import sys, h5py, numpy as np
d, t = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
assert d.attrs["format"] == "hsweep-data/1" and d.attrs["run_id"] == sys.argv[3] == t.attrs["run_id"]
assert d.attrs["config"] == t.attrs["config"] and d.attrs["data_kind"] == "cfm" and d.attrs["classes"] == "10"
x, y = d["train/x"][()], d["train/y"][()]
assert x.shape == (200, 1, 10, 10) and x.dtype == np.float32 and d["test/x"].shape == (10000, 1, 10, 10)
assert list(np.bincount(y)) == [20] * 10 and d["test/y"].shape == (10000,)
x = x.reshape(len(y), -1).astype(np.float64)
K, n = 10, len(y)
means = np.stack([x[y == k].mean(0) for k in range(K)])
M = means - x.mean(0)
Xc = x - means[y]
D = np.trace((Xc.T @ Xc / n) @ np.linalg.pinv(M.T @ M / K))
sep = t["layers/separation"][()]
D0 = sep[~np.isnan(sep[:, 0]), 0][-1]
assert abs(D - D0) <= 1e-6 * D0, (D, D0)
print("ok")
PYEOF
)
[ "$res" = ok ] && ok "data: cfm shapes, 20 per class, D_0 from the export equals the trained run's" || bad "data of cfm" "$res"
check "data of the cfm run as .npz" 0 "$HS" data $E --run "$eid" -o "$T/cfm-data.npz"
res=$("$PY" - "$T/cfm-data.npz" "$T/cfm-data.h5" <<'PYEOF'
import sys, zipfile, h5py, numpy as np
assert zipfile.ZipFile(sys.argv[1]).testzip() is None          # every entry's CRC-32 holds
z, h = np.load(sys.argv[1]), h5py.File(sys.argv[2], "r")
for k in ["train/x", "train/y", "test/x", "test/y"]:
    a = z[k.replace("/", "_")]
    assert a.dtype == h[k].dtype and np.array_equal(a, h[k][()]), k
for k in ["run_id", "config", "data_kind", "classes", "format"]:
    assert str(z[k][()]) == h.attrs[k], k
print("ok")
PYEOF
)
[ "$res" = ok ] && ok "data as .npz: the same arrays and attributes as the HDF5 export" || bad "data as npz" "$res"
R=tests/specs/train/srhm-tiny.yaml
rid=$("$HS" plan $R --format tsv | awk 'NR == 2 {print $1}')
check "data of an srhm run" 0 "$HS" data $R --run "$rid" -o "$T/srhm-data.h5"
res=$("$PY" - "$T/srhm-data.h5" <<'PYEOF'
import sys, h5py, numpy as np
d = h5py.File(sys.argv[1], "r")
x, y = d["train/x"][()], d["train/y"][()]
assert x.shape == (100, 6, 1, 4) and d["test/x"].shape == (300, 6, 1, 4), (x.shape, d["test/x"].shape)
assert y.min() >= 0 and y.max() <= 5 and np.bincount(y, minlength=6).sum() == 100
hot = x == x.max(axis=1, keepdims=True)              # one of the v = 6 symbols at each position
assert (hot.sum(axis=1) == 1).all() and len(np.unique(x)) == 2, np.unique(x)
print("ok")
PYEOF
)
[ "$res" = ok ] && ok "data: srhm as v one-hot channels x positions, 100 / 300 samples" || bad "data of srhm" "$res"
check "data of a multi-run spec without --run" 2 "$HS" data $E
contains "data names the run count" "$ERR" "choose one with --run ID"

# -o naming a sweep's results file: train and data refuse it, and leave it byte for byte
check "a results file to overwrite" 0 "$HS" run $S -o "$T/res.h5" --quiet --progress -1
cp "$T/res.h5" "$T/res-before.h5"
rid=$("$HS" plan $S --format tsv | awk 'NR == 2 {print $1}')
check "train -o a results file is refused" 1 "$HS" train $S --run "$rid" -o "$T/res.h5" --quiet
contains "train says why" "$ERR" "is a sweep's results file"
check "data -o a results file is refused" 1 "$HS" data $S --run "$rid" -o "$T/res.h5"
cmp -s "$T/res.h5" "$T/res-before.h5" && ok "the results file is untouched" || bad "the results file changed"

finish
