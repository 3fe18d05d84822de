"""Scale: time per epoch and peak memory of AFTClassifier at 10k, 100k and 1M rows, teacher features on disk.

Each size runs in a fresh process. The student input X (n x 128 float32) is in memory; the teacher features
(n x 384 float32, 1.5 GB at 1M rows) are a ``.npy`` file read as a memory map, never loaded whole. Synthetic
data with structure: F is Gaussian, X a noisy linear view of F, y one of 10 classes read off F. Every row is
labeled, so an epoch is one pass over all n rows; two epochs of the default method (``aft_feature``), batch 128.

Reported per size: seconds per epoch (from skorch's history), microseconds per row, peak anonymous memory of
the process (RssAnon, sampled every 20 ms: the heap, not the page cache of the memory-mapped file) before and
during ``fit``, peak RSS including mapped file pages, and the size of X and F. With ``--in-memory``, sizes up
to 100k rows are also fitted with F loaded into memory, for the cost of reading batches from the map.

Run: ``python benchmarks/scale.py`` (about 4 minutes on 2 CPU cores; needs 2 GB of free disk in the
temporary folder). Results: ``benchmarks/results/scale.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"
D_TEACHER, D_STUDENT, N_CLASSES, CHUNK = 384, 128, 10, 50_000


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class PeakSampler:
    """The largest RssAnon seen while running, sampled in a background thread."""

    def __init__(self, every: float = 0.02) -> None:
        self.every, self.peak, self._stop = every, _status_kb("RssAnon"), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, _status_kb("RssAnon"))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _status_kb("RssAnon"))


def make_data(n: int, folder: Path) -> tuple[np.ndarray, np.ndarray, Path]:
    """X in memory, y, and the path of F on disk, written chunk by chunk (never whole in memory)."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((D_TEACHER, D_STUDENT), dtype=np.float32) / np.sqrt(D_TEACHER)
    V = rng.standard_normal((D_TEACHER, N_CLASSES), dtype=np.float32)
    path = folder / f"teacher_{n}.npy"
    F = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, D_TEACHER))
    X = np.empty((n, D_STUDENT), dtype=np.float32)
    y = np.empty(n, dtype=np.int64)
    for start in range(0, n, CHUNK):
        block = rng.standard_normal((min(CHUNK, n - start), D_TEACHER), dtype=np.float32)
        F[start : start + len(block)] = block
        X[start : start + len(block)] = block @ W + 0.5 * rng.standard_normal((len(block), D_STUDENT), dtype=np.float32)
        y[start : start + len(block)] = (block @ V).argmax(1)
    F.flush()
    del F
    return X, y, path


def one_size(n: int, epochs: int, in_memory: bool) -> dict:
    """Runs in its own process: fit once, report time per epoch and memory."""
    import torch

    from sklearn_aft import AFTClassifier

    torch.set_num_threads(os.cpu_count() or 1)
    with tempfile.TemporaryDirectory() as tmp:
        X, y, path = make_data(n, Path(tmp))
        F = np.load(path) if in_memory else np.load(path, mmap_mode="r")
        AFTClassifier(max_epochs=1, random_state=0).fit(X[:1000], y[:1000], teacher_features=F[:1000])  # warm-up
        before = _status_kb("RssAnon")
        clf = AFTClassifier(max_epochs=epochs, batch_size=128, random_state=0)
        with PeakSampler() as sampler:
            start = time.perf_counter()
            clf.fit(X, y, teacher_features=F)
            seconds = time.perf_counter() - start
        per_epoch = [float(h["dur"]) for h in clf.history_]
        accuracy = float(clf.score(X[:20_000], y[:20_000]))
    return {
        "n": n,
        "teacher": "in memory" if in_memory else "memory map",
        "epochs": epochs,
        "fit_seconds": seconds,
        "seconds_per_epoch": float(np.mean(per_epoch)),
        "us_per_row": float(np.mean(per_epoch)) / n * 1e6,
        "rss_anon_before_mb": before / 1024,
        "rss_anon_peak_mb": sampler.peak / 1024,
        "fit_added_mb": (sampler.peak - before) / 1024,
        "peak_rss_mb": _status_kb("VmHWM") / 1024,
        "X_mb": X.nbytes / 2**20,
        "F_mb": n * D_TEACHER * 4 / 2**20,
        "train_accuracy_20k": accuracy,
    }


def summarise(rows: list[dict]) -> str:
    lines = [
        "| rows | teacher features | s / epoch | us / row | RssAnon before fit (MB) | peak during fit (MB) | "
        "added by fit (MB) | peak RSS incl. mapped pages (MB) | X (MB) | F (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']:,} | {r['teacher']} | {r['seconds_per_epoch']:.1f} | {r['us_per_row']:.1f} | "
            f"{r['rss_anon_before_mb']:.0f} | {r['rss_anon_peak_mb']:.0f} | {r['fit_added_mb']:.0f} | "
            f"{r['peak_rss_mb']:.0f} | {r['X_mb']:.0f} | {r['F_mb']:.0f} |"
        )
    mapped = sorted((r for r in rows if r["teacher"] == "memory map"), key=lambda r: r["n"])
    if len(mapped) > 1:
        first = mapped[0]
        ratios = ", ".join(
            f"{r['n']:,} rows: {r['seconds_per_epoch'] / first['seconds_per_epoch']:.1f}x the time for "
            f"{r['n'] / first['n']:.0f}x the rows"
            for r in mapped[1:]
        )
        lines += ["", f"Growth against {first['n']:,} rows: {ratios}."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--in-memory", action="store_true", help="also fit sizes <= 100k with F in memory")
    parser.add_argument("--one", nargs=3, metavar=("N", "EPOCHS", "IN_MEMORY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # the child process
        n, epochs, in_memory = int(args.one[0]), int(args.one[1]), args.one[2] == "1"
        print(json.dumps(one_size(n, epochs, in_memory)))
        return
    runs = [(n, False) for n in args.sizes]
    if args.in_memory:
        runs += [(n, True) for n in args.sizes if n <= 100_000]
    rows = []
    for n, in_memory in runs:
        cmd = [sys.executable, __file__, "--one", str(n), str(args.epochs), "1" if in_memory else "0"]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(rows, indent=1))
    flags = " --in-memory" if args.in_memory else ""
    text = f"# Scale (`python benchmarks/scale.py{flags}`), {os.cpu_count()} CPU cores\n\n"
    (RESULTS / "scale.md").write_text(text + summarise(rows) + "\n")
    print(summarise(rows))


if __name__ == "__main__":
    main()
