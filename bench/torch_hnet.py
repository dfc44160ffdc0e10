"""torch_hnet.py - the PyTorch side of bench_hnet: the SRHM's CNN, LCN and FCN in the mean-field
parametrisation of nn.h (shared/reference/srhm.md), one thread, the same data shape and step.

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 bench/torch_hnet.py --kind cnn \
        --v 8 --filter 6 --depth 2 --width 512 --batch 32 [--s0 2] [--seconds 3] [--opt momentum] [--lr 0.01]
    ... --serve        (bench_hnet's way: "ready", then one "run key=value ..." line per run on stdin)

Each run prints "torch steps_per_s=X cpu_per_wall=Y loss=Z" (cpu_per_wall < 1: the core was shared;
loss: the last step's). Without torch it prints "torch not available" and exits 0.

The nets, as a PyTorch user would write them: layer l maps [C_in channels x P_in positions] to
[H x P_in / S] with filter size = stride = S and ReLU,
    z = (1/sqrt(C_in)) sum_{c,k} W[c', c, k] h[c, i S + k] + 0.1 b[c', i]
CNN: F.conv1d on channel-major activations [B, C, P]. LCN: position-major [B, P, C], so that a
layer's patches are a view [B, P/S, S C] (k before c, as hsweep stores them), and one weight per
position through einsum (a batched matmul over positions). FCN: dense layers with the LCN's unit
counts, scale 1/sqrt(fan_in). Readout f = h W_r^T / H, no bias. Every parameter N(0, 1); SGD (or
momentum 0.9) at lr x H; cross-entropy; zero_grad(set_to_none=True).
"""
import argparse
import math
import os
import sys
import time

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")  # before torch loads its BLAS / OpenMP runtimes

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError:
    print("torch not available", flush=True)
    sys.exit(0)

N_SAMPLES, BIAS_SCALE = 4096, 0.1


class HNet(nn.Module):
    def __init__(self, kind, v, S, L, H, K):
        super().__init__()
        self.kind, self.S, self.H = kind, S, H
        self.W, self.b, self.scale = nn.ParameterList(), nn.ParameterList(), []
        P, cin, n_in = S ** L, v, v * S ** L
        for _ in range(L):
            P //= S
            if kind == "cnn":
                self.W.append(nn.Parameter(torch.randn(H, cin, S)))
                self.b.append(nn.Parameter(torch.randn(H, P)))  # a bias per position, [c', i]
                self.scale.append(1 / math.sqrt(cin))
            elif kind == "lcn":
                self.W.append(nn.Parameter(torch.randn(P, H, S * cin)))
                self.b.append(nn.Parameter(torch.randn(P, H)))
                self.scale.append(1 / math.sqrt(cin))
            else:
                self.W.append(nn.Parameter(torch.randn(H * P, n_in)))
                self.b.append(nn.Parameter(torch.randn(H * P)))
                self.scale.append(1 / math.sqrt(n_in))
                n_in = H * P
            cin = H
        self.Wr = nn.Parameter(torch.randn(K, H))

    def forward(self, x):  # x [B, v, d]
        B = x.shape[0]
        if self.kind == "cnn":
            h = x
            for W, b, a in zip(self.W, self.b, self.scale):
                h = F.relu(F.conv1d(h, W, stride=self.S) * a + BIAS_SCALE * b)
        elif self.kind == "lcn":
            h = x.transpose(1, 2)  # [B, d, v]
            for W, b, a in zip(self.W, self.b, self.scale):
                patches = h.reshape(B, W.shape[0], -1)  # [B, P, S C_in]
                h = F.relu(torch.einsum("bpk,phk->bph", patches, W) * a + BIAS_SCALE * b)
        else:
            h = x.reshape(B, -1)
            for W, b, a in zip(self.W, self.b, self.scale):
                h = F.relu((h @ W.t()) * a + BIAS_SCALE * b)
        return h.reshape(B, self.H) @ self.Wr.t() / self.H


def make_data(v, d, s0, L, g):
    """SRHM-shaped: each position one-hot with probability (s0+1)^-L, else empty; whitened."""
    on = torch.rand(N_SAMPLES, d, generator=g) < (s0 + 1) ** -L
    sym = torch.randint(0, v, (N_SAMPLES, d), generator=g)
    x = torch.zeros(N_SAMPLES, v, d)
    x.scatter_(1, sym.unsqueeze(1), on.unsqueeze(1).float())
    a = 1 / math.sqrt(v - 1)
    return x * (1 + a) - a, torch.randint(0, v, (N_SAMPLES,), generator=g)


def bench(kind, v, S, L, H, batch, s0, seconds, opt_name, lr, warmup=5):
    g = torch.Generator().manual_seed(1)
    X, Y = make_data(v, S ** L, s0, L, g)
    torch.manual_seed(1)
    model = HNet(kind, v, S, L, H, v)
    opt = torch.optim.SGD(model.parameters(), lr=lr * H, momentum=0.9 if opt_name == "momentum" else 0)
    loss_fn = nn.CrossEntropyLoss()
    per_epoch, steps, train_time = N_SAMPLES // batch, 0, 0.0
    while True:
        perm = torch.randperm(N_SAMPLES, generator=g)
        for s in range(per_epoch):
            if steps == warmup:
                cpu0, wall0 = time.process_time(), time.perf_counter()
            if steps > warmup and train_time >= seconds:
                wall = time.perf_counter() - wall0
                return (steps - warmup) / train_time, (time.process_time() - cpu0) / wall, loss.item()
            t0 = time.perf_counter()
            idx = perm[s * batch:(s + 1) * batch]
            xb, yb = X[idx], Y[idx]  # gather, as the C side does
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            if steps >= warmup:
                train_time += time.perf_counter() - t0
            steps += 1


def run(a):
    sps, cpu, loss = bench(a["kind"], int(a["v"]), int(a["filter"]), int(a["depth"]), int(a["width"]),
                           int(a["batch"]), int(a.get("s0", 0)), float(a["seconds"]), a["opt"], float(a["lr"]))
    print(f"torch steps_per_s={sps:.4f} cpu_per_wall={cpu:.3f} loss={loss:.6g}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", action="store_true")
    ap.add_argument("--kind", default="cnn", choices=["cnn", "lcn", "fcn"])
    for name, default in (("v", 8), ("filter", 6), ("depth", 2), ("width", 512), ("batch", 32), ("s0", 2)):
        ap.add_argument("--" + name, type=int, default=default)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--opt", default="momentum", choices=["sgd", "momentum"])
    ap.add_argument("--lr", type=float, default=0.01)
    args = ap.parse_args()
    torch.set_num_threads(1)
    if not args.serve:
        run(vars(args))
        return
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if words and words[0] == "run":
            run(dict(w.split("=", 1) for w in words[1:]))


if __name__ == "__main__":
    main()
