"""Evidence for the estimators' defaults: beta, warm-up, epochs, and when AFT's kernel term helps.

Student: an MLP on TF-IDF of the raw texts. Teacher: all-MiniLM-L6-v2 sentence embeddings (384-d).
For each real text dataset in ``benchmarks/data``, each label budget (100, 500, all) with and without
the remaining training rows as unlabeled rows (label -1), each method and seed, one fit is run.

Two studies:

``--study epochs`` (the reference code's AFT: no warm-up, a fixed epoch count) runs each fit for the
largest epoch count and records test accuracy at several epochs on the way (the learning rate is
constant, so the state at epoch k is the state a k-epoch fit would end in). Results:
``benchmarks/results/defaults_epochs.{md,json}``.

``--study final`` compares the chosen defaults (``max_epochs="auto"``, beta, warm-up) with the plain
student and the reference schedule. Results: ``benchmarks/results/defaults.{md,json}``.

``--study hyper`` varies the student's learning rate, batch size and hidden width one at a time around
the defaults, for the default method. Results: ``benchmarks/results/defaults_hyper.{md,json}``.

Run: ``python benchmarks/defaults.py --study final`` (about 25 minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _data import DATASETS, load_text_dataset, teacher_features  # noqa: I001
from _student import student_outputs  # noqa: I001
from joblib import Parallel, delayed
from skorch.callbacks import Callback

RESULTS = Path(__file__).parent / "results"

METHODS = {
    "none": {"transfer": "none"},
    "aft b=1": {"transfer": "aft", "transfer__beta": 1.0},
    "aft b=3": {"transfer": "aft", "transfer__beta": 3.0},
    "aft b=10": {"transfer": "aft", "transfer__beta": 10.0},
    "aft b=3 fixed w": {"transfer": "aft", "transfer__beta": 3.0, "transfer__learn_weights": False},
}
METHODS_FINAL = {
    "none": {"transfer": "none"},
    "aft b=1 no warm-up (reference)": {"transfer": "aft", "transfer__beta": 1.0, "transfer__warmup": 0.0},
    "aft b=1 warm-up 0.5": {"transfer": "aft", "transfer__beta": 1.0, "transfer__warmup": 0.5},
    "aft b=3 warm-up 0.5": {"transfer": "aft", "transfer__beta": 3.0, "transfer__warmup": 0.5},
    "aft_feature b=1 warm-up 0.5": {"transfer": "aft_feature", "transfer__beta": 1.0, "transfer__warmup": 0.5},
    "aft_feature b=1 no warm-up": {"transfer": "aft_feature", "transfer__beta": 1.0, "transfer__warmup": 0.0},
    "aft_feature b=0.3 warm-up 0.5": {"transfer": "aft_feature", "transfer__beta": 0.3, "transfer__warmup": 0.5},
    "aft_feature b=3 warm-up 0.5": {"transfer": "aft_feature", "transfer__beta": 3.0, "transfer__warmup": 0.5},
}
_DEFAULT = {"transfer": "aft_feature"}
METHODS_HYPER = {
    "defaults (lr 1e-3, batch 128, hidden 256)": _DEFAULT,
    "lr 3e-4": {**_DEFAULT, "lr": 3e-4},
    "lr 3e-3": {**_DEFAULT, "lr": 3e-3},
    "batch 64": {**_DEFAULT, "batch_size": 64},
    "batch 256": {**_DEFAULT, "batch_size": 256},
    "hidden 128": {**_DEFAULT, "module__hidden_sizes": (128,)},
    "hidden 512": {**_DEFAULT, "module__hidden_sizes": (512,)},
}
SETTINGS_HYPER = [(100, True, ()), (500, True, ()), ("all", False, ())]
# (labels, use the other rows as unlabeled, epochs at which test accuracy is recorded)
SETTINGS = [
    (100, False, (10, 20, 40, 80, 160)),
    (100, True, (10, 20, 40, 80, 160)),
    (500, False, (5, 10, 20, 40, 80)),
    (500, True, (5, 10, 20, 40, 80)),
    ("all", False, (5, 10, 20, 30)),
]


class AccuracyAt(Callback):
    """Record held-out accuracy at chosen epochs (the run continues unchanged)."""

    def __init__(self, epochs, X, y, classes):
        self.epochs, self.X, self.y, self.classes = set(epochs), X, y, classes

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history)
        if epoch in self.epochs:
            scores = student_outputs(net, self.X)
            net.history.record("test_acc", float((self.classes[scores.argmax(1)] == self.y).mean()))


def make_split(y, n_labels, seed):
    """Stratified-as-possible choice of labeled rows: at least one per class."""
    rng = np.random.default_rng(seed)
    if n_labels == "all" or n_labels >= len(y):
        return np.ones(len(y), dtype=bool)
    chosen = [rng.choice(np.flatnonzero(y == c)) for c in np.unique(y)]
    rest = rng.permutation(np.setdiff1d(np.arange(len(y)), chosen))[: n_labels - len(chosen)]
    mask = np.zeros(len(y), dtype=bool)
    mask[np.concatenate([chosen, rest])] = True
    return mask


def one_run(dataset, n_labels, unlabeled, epochs, method, seed, params=None):
    import torch
    from sklearn.feature_extraction.text import TfidfVectorizer

    from sklearn_aft import AFTClassifier

    torch.set_num_threads(1)
    data, feats = load_text_dataset(dataset), teacher_features(dataset)
    (x_tr, y_tr), (x_te, y_te) = data["train"], data["test"]
    labeled = make_split(y_tr, n_labels, seed)
    keep = labeled | unlabeled
    vec = TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2), max_features=5000)
    X = vec.fit_transform(x_tr)[keep]
    X_te = vec.transform(x_te)
    y = y_tr.astype(object)  # string labels and the -1 marker of unlabeled rows side by side
    y[~labeled] = -1
    y = y[keep]
    classes = np.unique(y_tr[labeled])
    params = METHODS_FINAL[method] if params is None else params
    if epochs:
        cb = [("acc", AccuracyAt(epochs, X_te, y_te, classes))]
        clf = AFTClassifier(max_epochs=max(epochs), random_state=seed, callbacks=cb, **params)
    else:
        clf = AFTClassifier(random_state=seed, **params)  # max_epochs="auto"
    t = time.time()
    clf.fit(X, y, teacher_features=feats["train"][keep])
    hist = clf.history_
    curve = {int(h["epoch"]): h["test_acc"] for h in hist if "test_acc" in h}
    if not epochs:
        curve = {len(hist): float(clf.score(X_te, y_te))}
    last = hist[-1]
    return {
        "dataset": dataset,
        "labels": n_labels,
        "unlabeled": unlabeled,
        "method": method,
        "seed": seed,
        "acc_at_epoch": curve,
        "fit_seconds": time.time() - t,
        "final_task_loss": last["task_loss"],
        "final_transfer_loss": last.get("transfer_loss"),
        "weights_std": float(np.std(clf.transfer_.feature_weights_))
        if hasattr(clf.transfer_, "feature_weights_")
        else None,
    }


def references(dataset, n_labels, seed):
    """Teacher probe (logistic regression on teacher features) and a TF-IDF logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    data, feats = load_text_dataset(dataset), teacher_features(dataset)
    (x_tr, y_tr), (x_te, y_te) = data["train"], data["test"]
    labeled = make_split(y_tr, n_labels, seed)
    probe = LogisticRegression(max_iter=2000, C=10.0).fit(feats["train"][labeled], y_tr[labeled])
    vec = TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2), max_features=5000).fit(x_tr)
    lr = LogisticRegression(max_iter=2000, C=10.0).fit(vec.transform(x_tr)[labeled], y_tr[labeled])
    return {
        "dataset": dataset,
        "labels": n_labels,
        "seed": seed,
        "teacher_probe": float(probe.score(feats["test"], y_te)),
        "tfidf_logreg": float(lr.score(vec.transform(x_te), y_te)),
    }


def summarise_final(runs, refs, methods, settings) -> str:
    lines = [
        "| dataset | labels | unlabeled rows | teacher probe | tfidf logreg | " + " | ".join(methods) + " |",
        "|---" * (5 + len(methods)) + "|",
    ]
    for ds in sorted({r["dataset"] for r in runs}):
        for n, unl, _ in settings:
            ref = [r for r in refs if r["dataset"] == ds and r["labels"] == n]
            cells = [
                ds,
                str(n),
                "yes" if unl else "no",
                f"{np.mean([r['teacher_probe'] for r in ref]):.3f}",
                f"{np.mean([r['tfidf_logreg'] for r in ref]):.3f}",
            ]
            for m in methods:
                acc = [
                    next(iter(r["acc_at_epoch"].values()))
                    for r in runs
                    if r["dataset"] == ds and r["labels"] == n and r["unlabeled"] == unl and r["method"] == m
                ]
                cells.append(f"{np.mean(acc):.3f} ± {np.std(acc):.3f}" if acc else "-")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# study -> (its methods, its settings, whether one fit is recorded per epoch list, results file stem)
STUDIES = {
    "final": (METHODS_FINAL, SETTINGS, False, "defaults"),
    "epochs": (METHODS, SETTINGS, True, "defaults_epochs"),
    "hyper": (METHODS_HYPER, SETTINGS_HYPER, False, "defaults_hyper"),
}


def summarise(runs, refs) -> str:
    lines = []
    for ds in sorted({r["dataset"] for r in runs}):
        lines.append(f"\n### {ds}\n")
        lines.append("| labels | unlabeled | method | " + " | ".join(["acc@epochs (mean over seeds)"]) + " |")
        lines.append("|---|---|---|---|")
        for n, unl, _ in SETTINGS:
            ref = [r for r in refs if r["dataset"] == ds and r["labels"] == n]
            if ref and not unl:
                tp = np.mean([r["teacher_probe"] for r in ref])
                lr = np.mean([r["tfidf_logreg"] for r in ref])
                lines.append(f"| {n} | - | teacher probe / tfidf logreg | {tp:.3f} / {lr:.3f} |")
            for m in METHODS:
                rs = [
                    r
                    for r in runs
                    if r["dataset"] == ds and r["labels"] == n and r["unlabeled"] == unl and r["method"] == m
                ]
                if not rs:
                    continue
                eps = sorted(rs[0]["acc_at_epoch"], key=int)
                accs = {e: [r["acc_at_epoch"][e] for r in rs] for e in eps}
                cells = ", ".join(f"{e}: {np.mean(a):.3f}±{np.std(a):.3f}" for e, a in accs.items())
                lines.append(f"| {n} | {'yes' if unl else 'no'} | {m} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--study", choices=list(STUDIES), default="final")
    parser.add_argument("--methods", nargs="+", default=None)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--merge", action="store_true", help="add these runs to the saved results of the study")
    args = parser.parse_args()
    for ds in args.datasets:  # compute and cache teacher features before the workers start
        teacher_features(ds)
    all_methods, settings, along_epochs, stem = STUDIES[args.study]
    methods = args.methods or list(all_methods)
    jobs = [  # without an epoch list a fit runs with max_epochs="auto" and records its final accuracy
        (ds, n, unl, eps if along_epochs else None, m, s, all_methods[m])
        for ds in args.datasets
        for (n, unl, eps) in settings
        for m in methods
        for s in range(args.seeds)
    ]
    jobs.sort(key=lambda j: j[1] == "all")  # long runs last so the workers stay balanced
    runs = Parallel(n_jobs=args.n_jobs, verbose=5)(delayed(one_run)(*j) for j in jobs)
    if args.merge and (RESULTS / f"{stem}.json").exists():
        runs = json.loads((RESULTS / f"{stem}.json").read_text())["runs"] + runs
    refs = [references(ds, n, s) for ds in args.datasets for n in (100, 500, "all") for s in range(args.seeds)]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps({"runs": runs, "references": refs}, indent=1))
    table = summarise(runs, refs) if along_epochs else summarise_final(runs, refs, all_methods, settings)
    title = f"# Defaults study: `python benchmarks/defaults.py --study {args.study} --seeds {args.seeds}`\n\n"
    (RESULTS / f"{stem}.md").write_text(title + "Test accuracy, mean ± std over seeds.\n\n" + table + "\n")
    print(table)


if __name__ == "__main__":
    main()
