"""Cost of the AFT term: time per training step of AFT divided by plain training.

Same student (the default MLP), same data, batch 128, teacher width 384 and 1536, in one run. Two
students: TF-IDF input (5000 sparse columns of the real SST-2 texts, the package's main use) and a
small dense input (300 columns, where the student step is cheap and the AFT term weighs most).

Each configuration is fitted several times, interleaved with the plain fit so that machine noise
hits both alike; a step time is the median epoch duration (skorch's ``dur``, first epoch dropped as
warm-up) divided by the number of steps. Run: ``python benchmarks/overhead.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))

from sklearn_aft import AFTClassifier  # noqa: E402


def step_time(X, y, F, transfer: str, epochs: int) -> float:
    clf = AFTClassifier(transfer=transfer, max_epochs=epochs, batch_size=128, device="cpu", random_state=0)
    clf.fit(X, y, teacher_features=F)
    durations = [h["dur"] / len(h["batches"]) for h in clf.history_[1:]]
    return float(np.median(durations))


def students(n_rows: int):
    from _data import load_text_dataset
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts, y = load_text_dataset("sst2")["train"]
    vec = TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2), max_features=5000)
    yield "tfidf 5000 (sparse)", vec.fit_transform(texts[:n_rows]), y[:n_rows]
    rng = np.random.default_rng(0)
    yield "dense 300", rng.normal(size=(n_rows, 300)).astype(np.float32), y[:n_rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=128 * 20)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(f"torch {torch.__version__}, {args.threads} threads, batch 128, {args.rows} rows, CPU")
    print("| student | teacher width | method | plain ms/step | AFT ms/step | AFT / plain |")
    print("|---|---|---|---|---|---|")
    for name, X, y in students(args.rows):
        for width in (384, 1536):
            F = rng.normal(size=(args.rows, width)).astype(np.float32)
            times: dict[str, list[float]] = {"none": [], "aft": [], "aft_feature": []}
            for _ in range(args.repeats):
                for method, values in times.items():
                    values.append(step_time(X, y, F, method, args.epochs))
            p = np.median(times["none"])
            for method in ("aft", "aft_feature"):
                a = np.median(times[method])
                print(f"| {name} | {width} | {method} | {1e3 * p:.2f} | {1e3 * a:.2f} | {a / p:.3f} |", flush=True)


if __name__ == "__main__":
    main()
