"""torch_train.py - the PyTorch side of bench_train: the same MLP, data shape and step, one thread.

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 bench/torch_train.py [--seconds S] [--widths 100,1000]

Prints one line per width, "torch width=W samples_per_s=X steps_per_s=Y cpu_per_wall=Z
median_samples_per_s=M", which bench_train parses (cpu_per_wall < 1: the core was shared with
other jobs; M = BATCH / the median step time, which a shared core disturbs much less). Without torch it says so and exits 0, so the C side still prints its own numbers.
"""
import argparse
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
    print("torch not available: PyTorch comparison skipped")
    sys.exit(0)

IN_DIM, N_CLASSES, BATCH, N_HIDDEN, N_SAMPLES = 784, 10, 128, 7, 60000


def make_model(width):
    layers, d = [], IN_DIM
    for _ in range(N_HIDDEN):
        layers += [nn.Linear(d, width), nn.BatchNorm1d(width), nn.ReLU()]
        d = width
    layers.append(nn.Linear(d, N_CLASSES))
    return nn.Sequential(*layers)


def bench(width, X, Y, seconds, warmup=5):
    torch.manual_seed(1)
    model = make_model(width).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    steps_per_epoch = N_SAMPLES // BATCH
    steps, t_start, step_times = 0, None, []
    while True:
        perm = torch.randperm(N_SAMPLES)
        for s in range(steps_per_epoch):
            if steps == warmup:
                t_start, cpu_start = time.perf_counter(), time.process_time()
            if steps > warmup and time.perf_counter() - t_start >= seconds:
                wall = time.perf_counter() - t_start
                return ((steps - warmup) / wall, (time.process_time() - cpu_start) / wall,
                        statistics.median(step_times))
            t0 = time.perf_counter()
            idx = perm[s * BATCH:(s + 1) * BATCH]
            xb, yb = X[idx], Y[idx]  # gather, as the C side does
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            if steps >= warmup:
                step_times.append(time.perf_counter() - t0)
            steps += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--widths", default="100,1000")
    args = ap.parse_args()
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(1)
    X = torch.rand(N_SAMPLES, IN_DIM, generator=g)
    Y = torch.randint(0, N_CLASSES, (N_SAMPLES,), generator=g)
    for w in (int(v) for v in args.widths.split(",")):
        sps, cpu, median = bench(w, X, Y, args.seconds)
        print(f"torch width={w} samples_per_s={sps * BATCH:.1f} steps_per_s={sps:.3f} cpu_per_wall={cpu:.3f} "
              f"median_samples_per_s={BATCH / median:.1f}", flush=True)


if __name__ == "__main__":
    main()
