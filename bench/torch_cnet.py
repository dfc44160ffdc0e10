"""torch_cnet.py - the PyTorch side of bench_cnet: the deep conv nets of include/hsweep/nets.h
built from torch.nn modules, trained on the same workloads, one thread.

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 bench/torch_cnet.py \
        [--nets vgg11,resnet18_2d] [--widths 1,0.25] [--seconds S] [--min-steps N]
    /usr/bin/python3 bench/torch_cnet.py --serve        # what bench_cnet runs: commands on stdin

Workloads (as bench_cnet.c): vgg11, vgg16, resnet18, resnet34, effnet_b0 on 1-D SRHM inputs
(10 channels x 36 positions, one-hot per position, 10 classes, batch 40 = 4 per class; Conv1d,
BatchNorm1d, MaxPool1d), and resnet18_2d on 1 x 28 x 28 images (10 classes, batch 128). One step:
gather a random minibatch from a synthetic set, forward, cross-entropy, backward, SGD with
momentum 0.9 (lr 0.01), zero_grad(set_to_none=True).

The architectures follow src/nn/cnet_archs.c layer by layer: every channel count c of a table
becomes max(1, floor(c w + 1/2)); VGG convs have biases, ResNet and EfficientNet convs none; VGG
pools k2 s2 unless the pooled size is already 1; EfficientNet-B0 is the CIFAR variant (stride 1
stem) with squeeze-excite to max(1, floor(C_in / 4)) channels and dropout 0.2 before the readout.
Where the reference code leaves a choice, the faster torch form is taken (nn.SiLU rather than
x * sigmoid(x), in-place ReLU in VGG), so the comparison does not flatter hsweep.

--serve protocol, one line each way:
    params NET WIDTH              -> "params=N"
    run NET WIDTH SECONDS MINSTEPS -> "steps_per_s=X cpu_per_wall=C median_step_ms=M steps=K"
    quit
Models and data persist between commands, so bench_cnet can alternate measurements without
paying for python's start or torch's import each time.
"""
import argparse
import math
import os
import statistics
import sys
import time

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")  # before torch loads its BLAS / OpenMP runtimes

try:
    import torch
    from torch import nn
except ImportError:
    print("torch not available: PyTorch comparison skipped", flush=True)
    sys.exit(0)

NETS_1D = ("vgg11", "vgg16", "resnet18", "resnet34", "effnet_b0")
VGG_CFG = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
}
RESNET_BLOCKS = {"resnet18": [2, 2, 2, 2], "resnet34": [3, 4, 6, 3]}
B0_STAGES = [(1, 16, 1, 3, 1), (6, 24, 2, 3, 2), (6, 40, 2, 5, 2), (6, 80, 3, 3, 2), (6, 112, 3, 5, 1),
             (6, 192, 4, 5, 2), (6, 320, 1, 3, 1)]


def ch(c, w):
    """nets.h's rounding: nearest, halves up, at least 1."""
    return max(1, int(math.floor(c * w + 0.5)))


def out_len(n, k, s, p):
    return (n + 2 * p - (k - 1) - 1) // s + 1


class Ops:
    """Conv/BN/pool factories for 1-D ([C x L]) or 2-D ([C x H x W]) inputs."""

    def __init__(self, two_d):
        self.two_d = two_d
        self.Conv = nn.Conv2d if two_d else nn.Conv1d
        self.BN = nn.BatchNorm2d if two_d else nn.BatchNorm1d
        self.MaxPool = nn.MaxPool2d if two_d else nn.MaxPool1d
        self.GAP = (lambda: nn.AdaptiveAvgPool2d(1)) if two_d else (lambda: nn.AdaptiveAvgPool1d(1))


# ---------------------------------------------------------------- VGG

def make_vgg(cfg, ops, C, H, W, classes, w, dropout):
    layers = []
    for v in cfg:
        if v == "M":
            if W >= 2 and (not ops.two_d or H >= 2):
                layers.append(ops.MaxPool(2, 2))
                W = W // 2
                if ops.two_d:
                    H = H // 2
            continue
        c = ch(v, w)
        layers += [ops.Conv(C, c, 3, padding=1, bias=True), ops.BN(c), nn.ReLU(inplace=True)]
        C = c
    layers.append(nn.Flatten())
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(C * H * W, classes))
    return nn.Sequential(*layers)


# ---------------------------------------------------------------- ResNet

class BasicBlock(nn.Module):
    def __init__(self, ops, cin, planes, stride):
        super().__init__()
        self.conv1 = ops.Conv(cin, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = ops.BN(planes)
        self.conv2 = ops.Conv(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = ops.BN(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != planes:
            self.shortcut = nn.Sequential(ops.Conv(cin, planes, 1, stride=stride, bias=False), ops.BN(planes))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


def make_resnet(blocks, ops, C, classes, w, dropout):
    c0 = ch(64, w)
    layers = [ops.Conv(C, c0, 3, stride=1, padding=1, bias=False), ops.BN(c0), nn.ReLU()]
    cin = c0
    for planes, stride, n in zip((64, 128, 256, 512), (1, 2, 2, 2), blocks):
        p = ch(planes, w)
        for k in range(n):
            layers.append(BasicBlock(ops, cin, p, stride if k == 0 else 1))
            cin = p
    layers += [ops.GAP(), nn.Flatten()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(cin, classes))
    return nn.Sequential(*layers)


# ---------------------------------------------------------------- EfficientNet-B0

class SqueezeExcite(nn.Module):
    def __init__(self, ops, C, se):
        super().__init__()
        self.pool = ops.GAP()
        self.reduce = ops.Conv(C, se, 1, bias=True)
        self.act = nn.SiLU()
        self.expand = ops.Conv(se, C, 1, bias=True)

    def forward(self, x):
        return x * torch.sigmoid(self.expand(self.act(self.reduce(self.pool(x)))))


class MBConv(nn.Module):
    def __init__(self, ops, cin, e, cout, k, stride):
        super().__init__()
        C, se = e * cin, max(1, cin // 4)
        layers = []
        if e != 1:
            layers += [ops.Conv(cin, C, 1, bias=False), ops.BN(C), nn.SiLU()]
        layers += [ops.Conv(C, C, k, stride=stride, padding=k // 2, groups=C, bias=False), ops.BN(C), nn.SiLU(),
                   SqueezeExcite(ops, C, se), ops.Conv(C, cout, 1, bias=False), ops.BN(cout)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        h = self.body(x)
        return h + x if self.residual else h


def make_effnet_b0(ops, C, classes, w, dropout):
    c0 = ch(32, w)
    layers = [ops.Conv(C, c0, 3, stride=1, padding=1, bias=False), ops.BN(c0), nn.SiLU()]
    cin = c0
    for e, c, n, k, s in B0_STAGES:
        cout = ch(c, w)
        for r in range(n):
            layers.append(MBConv(ops, cin, e, cout, k, s if r == 0 else 1))
            cin = cout
    layers += [ops.GAP(), nn.Flatten()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(cin, classes))
    return nn.Sequential(*layers)


# ---------------------------------------------------------------- workloads

class Workload:
    """The net, its synthetic set and minibatch rule."""

    def __init__(self, net, width):
        two_d = net.endswith("_2d")
        arch = net[:-3] if two_d else net
        ops = Ops(two_d)
        g = torch.Generator().manual_seed(1)
        self.classes = 10
        if two_d:
            self.batch, n = 128, 10000
            C, H, W = 1, 28, 28
            self.X = torch.rand(n, C, H, W, generator=g)
            self.Y = torch.randint(0, self.classes, (n,), generator=g)
            self.per_class = None
        else:
            # one-hot symbols per position; the set sorted by class, n / 10 of each, so a batch of
            # 4 per class is 4 draws from each class's block
            self.batch, n = 40, 4000
            C, H, W = 10, 1, 36
            sym = torch.randint(0, C, (n, W), generator=g)
            self.X = torch.nn.functional.one_hot(sym, C).permute(0, 2, 1).contiguous().float()
            self.Y = torch.arange(n) // (n // self.classes)
            self.per_class = n // self.classes
        torch.manual_seed(1)
        if arch in VGG_CFG:
            self.model = make_vgg(VGG_CFG[arch], ops, C, H, W, self.classes, width, 0.0)
        elif arch in RESNET_BLOCKS:
            self.model = make_resnet(RESNET_BLOCKS[arch], ops, C, self.classes, width, 0.0)
        elif arch == "effnet_b0":
            self.model = make_effnet_b0(ops, C, self.classes, width, 0.2)
        else:
            raise ValueError(f"unknown net {net}")
        self.model.train()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.loss_fn = nn.CrossEntropyLoss()
        self.gen = torch.Generator().manual_seed(2)

    def params(self):
        return sum(p.numel() for p in self.model.parameters())

    def indices(self):
        if self.per_class is None:
            return torch.randint(0, self.X.shape[0], (self.batch,), generator=self.gen)
        k = self.batch // self.classes
        r = torch.randint(0, self.per_class, (self.classes, k), generator=self.gen)
        return (r + torch.arange(self.classes).unsqueeze(1) * self.per_class).reshape(-1)

    def step(self):
        idx = self.indices()
        xb, yb = self.X[idx], self.Y[idx]  # gather, as the C side does
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.model(xb), yb)
        loss.backward()
        self.opt.step()

    def run(self, seconds, min_steps, warmup=1):
        for _ in range(warmup):
            self.step()
        times = []
        t_start, cpu_start = time.perf_counter(), time.process_time()
        while len(times) < min_steps or time.perf_counter() - t_start < seconds:
            t0 = time.perf_counter()
            self.step()
            times.append(time.perf_counter() - t0)
        wall = time.perf_counter() - t_start
        return len(times) / wall, (time.process_time() - cpu_start) / wall, statistics.median(times), len(times)


def result_line(r):
    sps, cpu, med, k = r
    return f"steps_per_s={sps:.4f} cpu_per_wall={cpu:.3f} median_step_ms={1e3 * med:.3f} steps={k}"


def serve():
    cache = {}

    def get(net, w):
        key = (net, w)
        if key not in cache:
            cache.clear()  # one model at a time: bench_cnet walks the configurations in order
            cache[key] = Workload(net, float(w))
        return cache[key]

    print("ready", flush=True)
    for line in sys.stdin:
        f = line.split()
        if not f:
            continue
        try:
            if f[0] == "quit":
                break
            if f[0] == "params":
                print(f"params={get(f[1], f[2]).params()}", flush=True)
            elif f[0] == "run":
                print(result_line(get(f[1], f[2]).run(float(f[3]), int(f[4]))), flush=True)
            else:
                print(f"error unknown command {f[0]}", flush=True)
        except Exception as e:  # report, keep serving: the C side prints it
            print(f"error {type(e).__name__}: {e}".replace("\n", " "), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--serve", action="store_true")
    ap.add_argument("--nets", default=",".join(NETS_1D) + ",resnet18_2d")
    ap.add_argument("--widths", default=None, help="default: 1,0.25 (1-D), 1,0.5 (2-D)")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--min-steps", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.serve:
        serve()
        return
    for net in args.nets.split(","):
        widths = args.widths or ("1,0.5" if net.endswith("_2d") else "1,0.25")
        for w in widths.split(","):
            wl = Workload(net, float(w))
            print(f"torch net={net} width={w} params={wl.params()} " + result_line(wl.run(args.seconds, args.min_steps)),
                  flush=True)


if __name__ == "__main__":
    main()
