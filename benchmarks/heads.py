"""The teacher head of logit distillation: which default classifier on a frozen embedder's features?

``kd``, ``hybrid``, ``combined`` and ``task_oriented`` distil the predictions of a *head*, a classifier
fitted on the labeled rows' teacher features. Sentence embedders return L2-normalised vectors (every
coordinate about 0.05 in size), on which ``LogisticRegression(C=1)`` is heavily regularised: on SMS spam
with 100 labels (13 spam) it predicted no spam at all, and the students distilled "always ham".

Part 1 (``--part heads``): each candidate head on SST-2, TREC and SMS spam (MiniLM features), 100 and
500 labels, 3 seeds: test accuracy, balanced accuracy and log-loss (the head's probabilities are what
the student learns, so their calibration matters, not only their argmax).
Part 2 (``--part students``): ``kd`` and ``task_oriented`` students (TF-IDF MLP, the other training rows
unlabeled) with the old and the candidate default heads.

Run: ``python benchmarks/heads.py`` (about 7 minutes on 2 CPU cores; ``--part summary`` rewrites the tables). Results:
``benchmarks/results/heads.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
from _data import DATASETS, load_text_dataset, teacher_features  # noqa: I001
from defaults import make_split, one_run
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import balanced_accuracy_score, log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

RESULTS = Path(__file__).parent / "results"
LABELS = (100, 500)


def candidate_heads() -> dict:
    return {
        "LR C=1 (old default)": LogisticRegression(C=1.0, max_iter=1000),
        "LR C=10": LogisticRegression(C=10.0, max_iter=2000),
        "LR C=100": LogisticRegression(C=100.0, max_iter=2000),
        "LR C=1 balanced": LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000),
        "scaler + LR C=1": make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000)),
        "scaler + LR C=0.1": make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000)),
        "LR-CV (log-loss)": LogisticRegressionCV(Cs=np.logspace(-1, 3, 9), cv=3, scoring="neg_log_loss", max_iter=2000),
    }


def head_run(dataset: str, n_labels: int, seed: int) -> list[dict]:
    data, feats = load_text_dataset(dataset), teacher_features(dataset)
    y_tr, y_te = data["train"][1], data["test"][1]
    labeled = make_split(y_tr, n_labels, seed)
    rows = []
    for name, head in candidate_heads().items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", (ConvergenceWarning, UserWarning, FutureWarning))
            head.fit(feats["train"][labeled], y_tr[labeled])
        proba = head.predict_proba(feats["test"])
        pred = head.classes_[proba.argmax(1)]
        known = np.isin(y_te, head.classes_)  # a class missing from 100 labels cannot be scored by log-loss
        rows.append(
            {
                "dataset": dataset,
                "labels": n_labels,
                "seed": seed,
                "head": name,
                "accuracy": float(np.mean(pred == y_te)),
                "balanced_accuracy": float(balanced_accuracy_score(y_te, pred)),
                "log_loss": float(log_loss(y_te[known], proba[known], labels=head.classes_)),
            }
        )
    return rows


def summarise_heads(rows: list[dict]) -> str:
    names = list(candidate_heads())
    lines = ["## Heads alone: test accuracy / balanced accuracy / log-loss, mean over 3 seeds\n"]
    lines += ["| dataset | labels | " + " | ".join(names) + " |", "|---" * (2 + len(names)) + "|"]
    for ds in DATASETS:
        for n in LABELS:
            cells = []
            for name in names:
                sel = [r for r in rows if (r["dataset"], r["labels"], r["head"]) == (ds, n, name)]
                acc, bal, ll = (np.mean([r[k] for r in sel]) for k in ("accuracy", "balanced_accuracy", "log_loss"))
                cells.append(f"{acc:.3f} / {bal:.3f} / {ll:.2f}")
            lines.append(f"| {ds} | {n} | " + " | ".join(cells) + " |")
    lines += ["", "Mean rank over the 6 settings (1 = best; accuracy, balanced accuracy, log-loss):", ""]
    for key, sign in (("accuracy", -1), ("balanced_accuracy", -1), ("log_loss", 1)):
        ranks = {name: [] for name in names}
        for ds in DATASETS:
            for n in LABELS:
                means = {
                    name: np.mean([r[key] for r in rows if (r["dataset"], r["labels"], r["head"]) == (ds, n, name)])
                    for name in names
                }
                for rank, name in enumerate(sorted(names, key=lambda m: sign * means[m]), 1):
                    ranks[name].append(rank)
        lines.append(f"- {key}: " + ", ".join(f"{m} {np.mean(ranks[m]):.1f}" for m in names))
    return "\n".join(lines)


STUDENT_HEADS = {
    "LR C=1 (old default)": LogisticRegression(C=1.0, max_iter=1000),
    "LR C=10": LogisticRegression(C=10.0, max_iter=2000),
    "LR C=1 balanced": LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000),
    "LR-CV (log-loss)": LogisticRegressionCV(Cs=np.logspace(-1, 3, 9), cv=3, scoring="neg_log_loss", max_iter=2000),
}


def student_run(dataset, n_labels, method, head_name, seed) -> dict:
    warnings.simplefilter("ignore", (ConvergenceWarning, UserWarning, FutureWarning))
    params = {"transfer": method, "transfer__head": STUDENT_HEADS[head_name]}
    run = one_run(dataset, n_labels, True, (), method, seed, params=params)
    run["head"] = head_name
    run["accuracy"] = next(iter(run.pop("acc_at_epoch").values()))
    return run


def summarise_students(runs: list[dict]) -> str:
    lines = ["## Students with the other training rows unlabeled: test accuracy, mean over seeds\n"]
    heads = list(STUDENT_HEADS)
    lines += ["| dataset | labels | method | " + " | ".join(heads) + " |", "|---" * (3 + len(heads)) + "|"]
    for ds in DATASETS:
        for n in LABELS:
            for method in ("kd", "task_oriented"):
                cells = [
                    np.mean(
                        [
                            r["accuracy"]
                            for r in runs
                            if (r["dataset"], r["labels"], r["method"], r["head"]) == (ds, n, method, h)
                        ]
                    )
                    for h in heads
                ]
                lines.append(f"| {ds} | {n} | {method} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["heads", "students", "both", "summary"], default="both")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--student-seeds", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "heads.json"
    saved = json.loads(out.read_text()) if out.exists() else {}
    for ds in DATASETS:
        teacher_features(ds)  # embed once, before the workers start
    if args.part in ("heads", "both"):
        jobs = [(ds, n, s) for ds in DATASETS for n in LABELS for s in range(args.seeds)]
        saved["heads"] = [r for rows in Parallel(n_jobs=args.jobs)(delayed(head_run)(*j) for j in jobs) for r in rows]
    if args.part in ("students", "both"):
        jobs = [
            (ds, n, m, h, s)
            for ds in DATASETS
            for n in LABELS
            for m in ("kd", "task_oriented")
            for h in STUDENT_HEADS
            for s in range(args.student_seeds)
        ]
        saved["students"] = Parallel(n_jobs=args.jobs)(delayed(student_run)(*j) for j in jobs)
    out.write_text(json.dumps(saved, indent=1, default=float))
    parts = [summarise_heads(saved["heads"])] if "heads" in saved else []
    parts += [summarise_students(saved["students"])] if "students" in saved else []
    text = (
        "# Teacher heads for logit distillation (`python benchmarks/heads.py`)\n\n"
        "MiniLM features, TF-IDF MLP students. Since this study the default head of `kd`, `hybrid`, `combined`\n"
        "and `task_oriented` is `LogisticRegression(C=10)` (was `C=1`): as good as the log-loss-tuned\n"
        "`LogisticRegressionCV` for the students, and one fit instead of 28.\n\n" + "\n\n".join(parts) + "\n"
    )
    (RESULTS / "heads.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
