"""The main job until the demo command lands: students vs teacher on real questions (TREC).

Loads the bundled TREC subset (2,000 training questions, 500 test questions, 6 classes) with its
precomputed all-MiniLM-L6-v2 teacher features, then fits, for a few label budgets:

- the teacher probe: logistic regression on the teacher features (needs the teacher at predict time);
- the plain student: TF-IDF + MLP, task loss only (``transfer="none"``);
- the AFT students: the same, with Adaptive Feature Transfer from the teacher features during fit,
  in its feature form (the default) and its kernel form (``transfer="aft"``).

Prints a results table and writes ``examples/output/trec_transfer.png``.
Run: ``python examples/trec_transfer.py [--labels 200 2000] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_aft import AFTClassifier

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"


def load_trec():
    with gzip.open(DATA / "trec_texts.json.gz", "rt", encoding="utf-8") as fh:
        texts = json.load(fh)
    with np.load(DATA / "trec_minilm.npz") as z:
        feats = {k: z[k].astype(np.float32) for k in z.files}
    return {s: (texts[s]["texts"], np.asarray(texts[s]["labels"]), feats[s]) for s in ("train", "test")}


def student(transfer: str, seed: int):
    return make_pipeline(
        TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2), max_features=5000),
        AFTClassifier(transfer=transfer, random_state=seed),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "examples" / "output")
    args = parser.parse_args()
    data = load_trec()
    (x_tr, y_tr, f_tr), (x_te, y_te, f_te) = data["train"], data["test"]
    rng = np.random.default_rng(args.seed)
    rows = []
    for n in args.labels:
        labeled = np.zeros(len(y_tr), dtype=bool)
        labeled[rng.permutation(len(y_tr))[:n]] = True
        y_semi = y_tr.astype(object)
        y_semi[~labeled] = -1  # the rest of the questions are unlabeled rows
        probe = LogisticRegression(max_iter=2000, C=10.0).fit(f_tr[labeled], y_tr[labeled])
        rows.append((n, "teacher probe (needs the teacher)", probe.score(f_te, y_te), float("nan")))
        for name, transfer in (
            ("plain student", "none"),
            ("AFT student (aft_feature, default)", "aft_feature"),
            ("AFT student (aft, kernel)", "aft"),
        ):
            model = student(transfer, args.seed)
            t = time.perf_counter()
            model.fit(x_tr, y_semi, aftclassifier__teacher_features=f_tr)
            rows.append((n, name, model.score(x_te, y_te), time.perf_counter() - t))
    print(f"\nTREC, {len(y_tr)} training questions ({len(np.unique(y_tr))} classes), {len(y_te)} test questions")
    print(f"{'labels':>6} | {'model':<34} | {'test acc':>8} | {'fit s':>6}")
    print("-" * 64)
    for n, name, acc, sec in rows:
        print(f"{n:>6} | {name:<34} | {acc:8.3f} | {sec:6.1f}")
    plot(rows, args.out / "trec_transfer.png")


def plot(rows, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = sorted({r[0] for r in rows})
    names = list(dict.fromkeys(r[1] for r in rows))
    fig, ax = plt.subplots(figsize=(8, 5))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        accs = [next(r[2] for r in rows if r[0] == n and r[1] == name) for n in labels]
        ax.bar(np.arange(len(labels)) + i * width, accs, width, label=name)
    ax.set_xticks(np.arange(len(labels)) + width * (len(names) - 1) / 2, [f"{n} labels" for n in labels])
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.set_title("TREC question type: students vs the teacher probe")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"plot written to {path}")


if __name__ == "__main__":
    main()
