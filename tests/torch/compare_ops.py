"""Compare the ops of include/hsweep/ops.h with PyTorch on fixed inputs.

    compare_ops.py OPS_DUMP      runs OPS_DUMP (tests/torch/ops_dump.c) in a temporary folder and
                                 recomputes every case with torch (float64 from the same float32
                                 inputs): conv1d/conv2d, max/avg pooling (and max pooling's
                                 indices, ties included), batch_norm (train with running
                                 statistics, eval), gelu/silu/sigmoid, forward and backward.

Exits 77 (ctest's skip) with a message when torch cannot be imported.
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"SKIP: torch is not importable here ({e})")
    sys.exit(77)

BOUND = 2e-5  # max |hsweep - torch| / max |torch|, per array


def err(a, b):
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    m = np.abs(b).max() if b.size else 0.0
    e = np.abs(a - b).max() if b.size else 0.0
    return e / m if m > 0 else e


def t(x, shape, grad=False):
    return torch.tensor(np.asarray(x, dtype=np.float64).reshape(shape), requires_grad=grad)


def check_conv(c, A):
    one_d = c["H"] == 1 and c["KH"] == 1
    B, Ci, H, W, Co = c["B"], c["C_in"], c["H"], c["W"], c["C_out"]
    wshape = (Co, Ci // c["groups"], c["KH"], c["KW"])
    x = t(A["in"], (B, Ci, H, W), True)
    w = t(A["W"], wshape, True)
    b = t(A["b"], (Co,), True)
    if one_d:
        y = F.conv1d(x[:, :, 0, :], w[:, :, 0, :], b, stride=c["stride"], padding=c["pad"], dilation=c["dilation"],
                     groups=c["groups"]).unsqueeze(2)
    else:
        y = F.conv2d(x, w, b, stride=c["stride"], padding=c["pad"], dilation=c["dilation"], groups=c["groups"])
    dout = t(A["dout"], y.shape)
    y.backward(dout)
    return {"out": err(A["out"], y.detach()), "din": err(A["din"], x.grad), "dW": err(A["dW"], w.grad),
            "db": err(A["db"], b.grad)}


def check_pool(c, A):
    B, C, H, W, k, s, p = c["B"], c["C"], c["H"], c["W"], c["k"], c["stride"], c["pad"]
    x = t(A["in"], (B, C, H, W), True)
    one_d = H == 1
    xx = x[:, :, 0, :] if one_d else x
    res = {}
    if c["kind"] == "max":
        fn = F.max_pool1d if one_d else F.max_pool2d
        y, idx = fn(xx, k, s, p, return_indices=True)
        # hsweep's arg indexes the whole input; torch's the plane (h W + w)
        plane = np.arange(B * C).reshape(B, C, *([1] * (idx.dim() - 2))) * (H * W)
        mine = np.asarray(A["arg"]).reshape(idx.shape) - plane
        res["arg"] = float(np.abs(mine - idx.numpy()).max())
    else:
        fn = F.avg_pool1d if one_d else F.avg_pool2d
        y = fn(xx, k, s, p, count_include_pad=True)
    if one_d:
        y = y.unsqueeze(2)
    y.backward(t(A["dout"], y.shape))
    res["out"] = err(A["out"], y.detach())
    res["din"] = err(A["din"], x.grad)
    return res


def check_bn(c, A):
    B, C, H, W = c["B"], c["C"], c["H"], c["W"]
    x = t(A["in"], (B, C, H, W), True)
    g = t(A["gamma"], (C,), True)
    be = t(A["beta"], (C,), True)
    rm = t(A["run_mean0"], (C,))
    rv = t(A["run_var0"], (C,))
    y = F.batch_norm(x, rm, rv, g, be, training=True, momentum=c["momentum"], eps=c["eps"])
    y.backward(t(A["dout"], y.shape))
    ev = F.batch_norm(x.detach(), t(A["run_mean0"], (C,)), t(A["run_var0"], (C,)), g.detach(), be.detach(),
                      training=False, eps=c["eps"])
    return {"out": err(A["out"], y.detach()), "run_mean": err(A["run_mean"], rm), "run_var": err(A["run_var"], rv),
            "din": err(A["din"], x.grad), "dgamma": err(A["dgamma"], g.grad), "dbeta": err(A["dbeta"], be.grad),
            "eval": err(A["eval"], ev)}


def check_pact(c, A):
    x = t(A["in"], (-1,), True)
    fn = {"gelu": F.gelu, "silu": F.silu, "sigmoid": torch.sigmoid}[c["act"]]
    y = fn(x)
    y.backward(t(A["dout"], y.shape))
    return {"out": err(A["out"], y.detach()), "din": err(A["din"], x.grad)}


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.argv[1], d], check=True)
        cases = json.load(open(os.path.join(d, "ops.json")))
        blob = np.fromfile(os.path.join(d, "ops.f32"), dtype=np.float32)
    checks = {"conv": check_conv, "pool": check_pool, "bn2d": check_bn, "pact": check_pact}
    passed = failed = 0
    for c in cases:
        A = {k: blob[o:o + n] for k, (o, n) in c["arrays"].items()}
        res = checks[c["op"]](c, A)
        params = {k: v for k, v in c.items() if k not in ("op", "arrays")}
        bad = {k: v for k, v in res.items() if not v <= BOUND}
        worst = max(res.values())
        print(f"{'FAIL' if bad else 'ok  '} {c['op']:5s} {params}  worst {worst:.2e}" + (f"  {bad}" if bad else ""))
        if bad:
            failed += 1
        else:
            passed += 1
    print(f"torch_ops: {passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
