"""test_reader.py HSWEEP MPIEXEC - the Python package hsweep (python/hsweep) on real files.

  - A live file: a tiny equi-separation sweep runs on 2 ranks while the reader reads it over and
    over; every read returns the 8 runs with states that only move forward (pending, running,
    done), at least one read sees the sweep unfinished, and the sweep still ends with a file
    `hsweep status` calls complete. While the reader holds the file open, a serial writer can
    open it (the reader takes no HDF5 lock).
  - read_analysis against what the C analyses wrote: equisep's per-run rho and r against numpy's
    fit of the stored D (read_layers), its per-configuration statistics against the runs' and
    against results.equisep.csv; finals' against results.finals.csv and the runs' last test
    accuracy (read_records).
  - dynamics on the tiny gated sweep (one run per configuration: the sizes cannot tell runs from
    configurations, the names do) against results.dynamics*.csv and the runs' records.
  - read_searches on a tiny P* search against `hsweep status` (bracket, rounds, points,
    crossing) and against the runs' own final errors (the per-seed values); the srhm analysis'
    searched P* and its curves.
Run by ctest (label mpi) from the source tree root.
"""
import csv
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
import unittest.mock

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import hsweep  # noqa: E402
from hsweep import results  # noqa: E402

HS, MPI = None, None
EQ_SPEC = "tests/specs/train/equisep-tiny.yaml"
SEARCH_SPEC = "tests/specs/train/srhm-search-tiny.yaml"
GATED_SPEC = "tests/specs/train/gated-tiny.yaml"
T = tempfile.TemporaryDirectory()
LIVE = os.path.join(T.name, "live.h5")
Q = os.path.join(T.name, "q.h5")
G = os.path.join(T.name, "g.h5")
seen = []  # (statuses) of every read of the live file


def run(*args, ok=(0,)):
    p = subprocess.run(list(args), capture_output=True, text=True)
    assert p.returncode in ok, (args, p.returncode, p.stdout, p.stderr)
    return p.stdout


def setUpModule():
    t0 = time.time()
    # long enough (about 1 s on 2 quiet cores) for many reads to land mid-run
    proc = subprocess.Popen([MPI, "-n", "2", HS, "run", EQ_SPEC, "--set", "train.epochs=50", "-o", LIVE,
                             "--quiet", "--progress", "-1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    while proc.poll() is None:
        if os.path.exists(LIVE):
            runs = hsweep.read_runs(LIVE)
            if len(seen) % 4 == 0:  # the long table too, now and then (reads cost the ranks CPU)
                long = hsweep.read_records(LIVE)
                assert set(long.id) <= set(runs.id)
            seen.append(list(runs.status))
        time.sleep(0.1)
    out = proc.stdout.read()
    proc.stdout.close()
    assert proc.returncode == 0, out
    # the loop's last read may precede the sweep's end: one more read of the finished file
    seen.append(list(hsweep.read_runs(LIVE).status))
    t1 = time.time()
    run(HS, "analyze", LIVE)
    run(HS, "analyze", LIVE, "--kind", "finals")
    run(MPI, "-n", "2", HS, "run", SEARCH_SPEC, "-o", Q, "--quiet", "--progress", "-1")
    run(HS, "analyze", Q, "--threshold", "0.4")
    # 300 of its 1500 epochs: the reader is checked against the tables, not the theory
    run(MPI, "-n", "2", HS, "run", GATED_SPEC, "--set", "train.epochs=300", "-o", G, "--quiet", "--progress", "-1")
    run(HS, "analyze", G)
    print(f"live sweep {t1 - t0:.1f} s ({len(seen)} reads), analyses and the search {time.time() - t1:.1f} s",
          file=sys.stderr)


def read_csv(name):
    with open(os.path.join(T.name, name)) as f:
        return list(csv.DictReader(f))


def close(a, b, rel):
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-12)


class LiveFile(unittest.TestCase):
    def test_reads_mid_run(self):
        order = {s: k for k, s in enumerate(["pending", "running", "done"])}
        self.assertGreater(len(seen), 2)
        for st in seen:
            self.assertEqual(len(st), 8)
            self.assertTrue(set(st) <= set(order), st)
        for r in range(8):  # a run's state never goes back
            ks = [order[st[r]] for st in seen]
            self.assertEqual(ks, sorted(ks), r)
        unfinished = [st for st in seen if set(st) != {"done"}]
        self.assertTrue(unfinished, "no read saw the sweep running")
        self.assertTrue(any("running" in st or ("done" in st and "pending" in st) for st in unfinished))
        self.assertEqual(seen[-1], ["done"] * 8)

    def test_status_complete(self):
        out = run(HS, "status", LIVE)
        self.assertIn("8 runs: 8 done, 0 diverged, 0 failed, 0 running, 0 pending", out)
        self.assertIn("\ncomplete\n", out)

    def test_no_lock_taken(self):
        # a serial writer (as a searching stage storing its result) opens the file while our
        # reader holds it; the control: a reader that takes HDF5's lock makes it fail (unless the
        # environment turned HDF5's locking off for every process, which HDF5 reads only once)
        code = f"import h5py; h5py.File({LIVE!r}, 'r+').close(); print('opened')"
        env = dict(os.environ, HDF5_USE_FILE_LOCKING="TRUE")
        with results._open(LIVE) as f:
            self.assertEqual(len(f["runs/id"]), 8)
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
        self.assertEqual(out.stdout.strip(), "opened", out.stderr)
        if "HDF5_USE_FILE_LOCKING" not in os.environ:
            with results.h5py.File(LIVE, "r", locking=True):
                out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
            self.assertIn("unable to lock file", out.stderr)

    def test_beside_the_callers_own_handle(self):
        # a script that holds the file open itself (h5py's default: with the lock) and calls the
        # reader: HDF5 shares the open and refuses other locking flags, so the reader must follow
        with results.h5py.File(LIVE, "r") as f:
            t0 = time.time()
            runs = hsweep.read_runs(LIVE)
            tabs = hsweep.read_tables(LIVE)
            self.assertEqual(len(runs), len(f["runs/id"]))
            self.assertLess(time.time() - t0, 5)  # no retries spent on it
        self.assertIsInstance(tabs, dict)

    def test_retry_after_a_torn_read(self):
        real, calls = results.h5py.File, []

        def torn_once(*args, **kwargs):  # what a read racing the writer's metadata update raises
            calls.append(args)
            if len(calls) == 1:
                raise OSError("Unable to open object (wrong B-tree signature)")
            return real(*args, **kwargs)
        with unittest.mock.patch.object(results.h5py, "File", torn_once):
            runs = hsweep.read_runs(LIVE)
        self.assertEqual((len(runs), len(calls)), (8, 2))
        with open(os.path.join(T.name, "not.h5"), "w") as f:
            f.write("not HDF5")
        t0 = time.time()
        with self.assertRaisesRegex(OSError, "file signature not found"):
            hsweep.read_runs(f.name)
        self.assertLess(time.time() - t0, 0.1)  # not retried

    def test_no_results_file_paths(self):
        # a FIFO would block HDF5's open for ever; a directory is no file: both said at once
        fifo, folder = os.path.join(T.name, "fifo.h5"), os.path.join(T.name, "folder.h5")
        os.mkfifo(fifo)
        os.mkdir(folder)
        for p, what in ((fifo, "is a device, FIFO or socket"), (folder, "is a directory")):
            t0 = time.time()
            with self.assertRaisesRegex(OSError, what):
                hsweep.read_runs(p)
            self.assertLess(time.time() - t0, 0.1)  # not retried


class Analyses(unittest.TestCase):
    def test_names(self):
        self.assertEqual(hsweep.analysis_names(LIVE), ["equisep", "finals"])
        with self.assertRaisesRegex(KeyError, "analyses in the file: equisep, finals"):
            hsweep.read_analysis(LIVE, "srhm")

    def test_equisep_runs_against_numpy(self):
        a = hsweep.read_analysis(LIVE, "equisep")
        self.assertEqual(a.attrs, {"obey_r": -0.99})
        self.assertEqual(len(a.runs), 8)
        self.assertEqual(list(a.runs.id), list(hsweep.read_runs(LIVE).id))
        lay = hsweep.read_layers(LIVE)
        for r, row in a.runs.iterrows():
            d = lay[(lay.run == r) & lay.separation.notna()]
            d = d[d.record == d.record.max()].sort_values("layer").separation.to_numpy()
            self.assertEqual(len(d), row["model.depth"] + 2)
            slope = np.polyfit(np.arange(len(d)), np.log(d), 1)[0]
            self.assertTrue(close(row.rho, math.exp(slope), 1e-9), (row.rho, math.exp(slope)))
            self.assertTrue(close(row.r, np.corrcoef(np.arange(len(d)), np.log(d))[0, 1], 1e-9))
            self.assertEqual(row.flag, 0)
            self.assertEqual(row.n_layers, len(d))

    def test_equisep_configs_against_csv(self):
        a = hsweep.read_analysis(LIVE, "equisep")
        c = a.configs
        self.assertEqual(list(c.index), [0, 1, 2, 3])
        # the configuration's keys: constant over its runs; the seeds are not among them
        self.assertTrue({"model.depth", "train.opt", "train.lr"} <= set(c.columns))
        self.assertFalse({"seed", "data.seed"} & set(c.columns))
        for k, row in c.iterrows():
            mine = a.runs[a.runs.config == k]
            self.assertEqual(len(mine), 2)
            self.assertTrue((mine["model.depth"] == row["model.depth"]).all())
            self.assertTrue(close(row.rho_mean, mine.rho.mean(), 1e-12))
            self.assertTrue(close(row.rho_std, mine.rho.std(ddof=1), 1e-12))
            self.assertTrue(row.label.startswith(f"depth={row['model.depth']}, opt={row['train.opt']}"), row.label)
        rows = read_csv("live.equisep.csv")
        self.assertEqual(len(rows), len(c))
        for want in rows:
            got = c[(c["model.depth"] == int(want["model.depth"])) & (c["train.opt"] == want["train.opt"])
                    & np.isclose(c["train.lr"], float(want["train.lr"]))]
            self.assertEqual(len(got), 1, want)
            got = got.iloc[0]
            for q in ("n_runs", "n_fitted", "n_obey"):
                self.assertEqual(got[q], int(want[q]), q)
            for q in ("rho_mean", "rho_std", "r_mean", "r_std", "half_life_mean", "d_first_mean", "d_last_mean"):
                self.assertTrue(close(got[q], float(want[q]), 1e-5), (q, got[q], want[q]))

    def test_finals_against_csv_and_records(self):
        a = hsweep.read_analysis(LIVE, "finals")
        rec = hsweep.read_records(LIVE)
        last = rec.sort_values("record").groupby("run").last()
        rows = read_csv("live.finals.csv")
        self.assertEqual(len(rows), 4)
        for want in rows:
            c = a.configs
            got = c[(c["model.depth"] == int(want["model.depth"])) & (c["train.opt"] == want["train.opt"])]
            self.assertEqual(len(got), 1)
            k, got = got.index[0], got.iloc[0]
            for q in ("train_loss", "test_loss", "train_err", "test_err"):
                for s in ("mean", "std", "min", "max"):
                    self.assertTrue(close(got[f"{q}_{s}"], float(want[f"{q}_{s}"]), 1e-9), (q, s))
            runs = a.runs.index[a.runs.config == k]
            err = 1 - last.loc[runs, "test_acc"].to_numpy()
            self.assertTrue(close(got.test_err_mean, err.mean(), 1e-12), (got.test_err_mean, err))
            self.assertEqual(got.n_finished, 2)


class Dynamics(unittest.TestCase):
    def test_gated_runs_and_configs(self):
        a = hsweep.read_analysis(G, "dynamics")
        self.assertEqual((len(a.runs), len(a.configs)), (2, 2))
        for c in ("config", "flag", "final_test_loss", "gated/has", "gated/published", "gated/error_unit"):
            self.assertIn(c, a.runs.columns)
        self.assertEqual(list(a.configs.columns[:3]), ["label", "model.init", "model.init_scale"])
        self.assertIn("gated/n_runs", a.configs.columns)
        self.assertNotIn("gated/published", a.configs.columns)
        self.assertEqual(a.arrays["gated/final_h"].shape, (2, 4))
        self.assertEqual(list(a.arrays["gated/error_at"]), [0, 0.25, 0.5, 1])
        rec = hsweep.read_records(G)
        last = rec.sort_values("record").groupby("run").last()
        per_run = read_csv("g.dynamics.csv")
        per_mode = read_csv("g.dynamics-gated.csv")
        for r, row in a.runs.iterrows():
            self.assertEqual(row.final_test_loss, last.test_loss[r])
            self.assertTrue(close(row.final_test_loss, float(per_run[r]["final_test_loss"]), 1e-9))
            c = row.config
            self.assertEqual(a.configs["model.init"][c], row["model.init"])
            # one run per configuration: its mean over seeds is the run's own value
            self.assertTrue(np.allclose(a.arrays["gated/final_h_mean"][c], a.arrays["gated/final_h"][r], rtol=1e-12))
            modes = [m for m in per_mode if int(m["config"]) == c]
            self.assertEqual(len(modes), 4)
            for m in modes:
                k = int(m["mode"])
                self.assertTrue(close(a.arrays["gated/final_h_mean"][c][k], float(m["final_h_mean"]), 1e-9))
                self.assertEqual(a.configs.label[c], m["label"])


class Searches(unittest.TestCase):
    def test_against_status(self):
        s = hsweep.read_searches(Q)
        self.assertEqual(list(s.stage), ["pstar", "pstar"])
        self.assertEqual(list(s.group), ["data.s0=0", "data.s0=1"])
        self.assertEqual(set(s.key), {"data.n_train"})
        self.assertEqual(set(s.metric), {"test_err"})
        self.assertEqual(set(s.target), {0.4})
        out = run(HS, "status", Q)
        pat = re.compile(r"(\S+): (.+?) after (\d+) rounds?, (\d+) points; bracket \[(\S+), (\S+)\] "
                         r"\(test_err (\S+), (\S+)\); data.n_train\* = (\S+)")
        lines = pat.findall(out)
        self.assertEqual(len(lines), 2, out)
        for (group, status, rounds, points, lo, hi, elo, ehi, cross), (_, row) in zip(lines, s.iterrows()):
            self.assertEqual(row.group, group)
            self.assertEqual(row.status, status)
            self.assertEqual((row.rounds, row.points), (int(rounds), int(points)))
            self.assertEqual((row.lo, row.hi), (float(lo), float(hi)))
            self.assertTrue(close(row.err_lo, float(elo), 1e-3) and close(row.err_hi, float(ehi), 1e-3))
            self.assertTrue(close(row.crossing, float(cross), 1e-5), (row.crossing, cross))
            self.assertTrue(row.lo < row.crossing < row.hi)

    def test_seeds_are_the_runs_final_errors(self):
        s = hsweep.read_searches(Q)
        rec = hsweep.read_records(Q)
        last = rec.sort_values("record").groupby("id").last()
        for _, row in s.iterrows():
            s0 = int(row.group.split("=")[1])
            self.assertEqual(len(row.seeds_lo), 2)
            for end, vals in (("lo", row.seeds_lo), ("hi", row.seeds_hi)):
                for k, v in enumerate(vals):
                    m = last[(last["data.s0"] == s0) & (last["data.n_train"] == row[end]) & (last.seed == k + 1)]
                    self.assertEqual(len(m), 1, (row.group, end, k))
                    self.assertTrue(close(v, 1 - m.test_acc.iloc[0], 1e-12), (v, m.test_acc.iloc[0]))
            self.assertTrue(close(row.err_lo, np.mean(row.seeds_lo), 1e-12))

    def test_srhm_analysis_uses_the_search(self):
        a = hsweep.read_analysis(Q, "srhm")
        s = hsweep.read_searches(Q)
        self.assertEqual(a.attrs["threshold"], 0.4)
        self.assertEqual(list(a.configs.source), ["search", "search"])
        self.assertEqual(list(a.configs["data.s0"]), [0, 1])
        for k in range(2):
            self.assertTrue(close(a.configs.p_star[k], s.crossing[k], 1e-12))
            self.assertEqual((a.configs.p_star_lo[k], a.configs.p_star_hi[k]), (s.lo[k], s.hi[k]))
        curve = a.tables["curve"]
        self.assertEqual(set(curve.label), set(a.configs.label))
        rows = read_csv("q.srhm.csv")
        self.assertEqual(len(rows), 2)
        for r, p in zip(rows, a.configs.p_star):
            self.assertTrue(close(float(r["p_star"]), p, 1e-9), (r["p_star"], p))
        self.assertIn("s0_fit_exponent", a.tables["s0_fit"])


if __name__ == "__main__":
    HS, MPI = os.path.abspath(sys.argv[1]), sys.argv[2]
    os.environ.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                      OMPI_MCA_rmaps_base_oversubscribe="1")
    unittest.main(argv=sys.argv[:1], verbosity=2)
