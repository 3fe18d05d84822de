"""The package's methods next to what a user writes by hand, on the same splits in the same run.

For SST-2, TREC (6 coarse classes), TREC fine (50 classes) and SMS spam, the first ``--pool`` training rows
(3,000) are the training pool. A label budget (100 and 500 rows; for TREC fine about 5 and 10 per class)
is drawn per seed (at least one row per class); the rest of the pool is the unlabeled transfer set
(label -1) or is left out ("labeled rows only"). Every model sees the same TF-IDF (sublinear, 1-2 grams,
min_df 2, 20k features) of the raw texts; the teacher is all-MiniLM-L6-v2 (384-d, offline).

References, written as a user would:

- ``tfidf_lrcv``: ``LogisticRegressionCV`` on the labeled rows' TF-IDF.
- ``pseudo_labels``: ``LogisticRegressionCV`` on the labeled rows' teacher features (the probe) labels the
  unlabeled rows, then ``LogisticRegression(C=10)`` on the TF-IDF of labeled + pseudo-labeled rows.
- ``self_training``: scikit-learn's ``SelfTrainingClassifier(LogisticRegression(C=10))`` on the TF-IDF.
- ``teacher_probe``: the probe itself (C by cross-validation on the labeled rows), scored on the test
  rows' teacher features: what the teacher knows, not a cheap model.

Methods: ``AFTClassifier(random_state=seed)`` with no other argument (``default``: the linear student
with ``transfer="stacked_kd"``), ``transfer="none"`` (the plain linear student), and the MLP student
(``module="mlp"``, the earlier default) plain and with the other methods at their defaults. Fit times
are wall-clock seconds of ``fit`` alone (TF-IDF and teacher features are computed once, outside);
``default / pseudo`` is the ratio of the default's fit time to the pseudo-label pipeline's, same data, same run.

Run: ``python benchmarks/baselines.py`` (references, the default, the plain students, kd, task_oriented and
aft_feature on the MLP; 3 seeds, about 40 minutes on 2 CPU cores), ``--methods all`` for every method. Results:
``benchmarks/results/baselines.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from _data import FINE, load_text_dataset, teacher_features  # noqa: I001
from joblib import Parallel, delayed

RESULTS = Path(__file__).parent / "results"
#: A table with a rare class (18% of rows): the clothing reviews' "recommended" flag.
RARE_TABLE = "clothing_rec"
SETS = ("sst2", "trec", FINE, "sms_spam", RARE_TABLE)
BUDGETS = {
    "sst2": (100, 500),
    "trec": (100, 500),
    FINE: ("5/class", "10/class"),
    "sms_spam": (100, 500),
    RARE_TABLE: (200, 500),
}
REFERENCES = ("tfidf_lrcv", "pseudo_labels", "self_training", "teacher_probe")
METHODS = {
    "default": {},
    "none": {"transfer": "none"},
    "none (mlp)": {"transfer": "none", "module": "mlp"},
    "stacked_kd (mlp)": {"module": "mlp"},
    "aft_feature": {"transfer": "aft_feature", "module": "mlp"},
    "aft": {"transfer": "aft", "module": "mlp"},
    "fitnet": {"transfer": "fitnet", "module": "mlp"},
    "rkd": {"transfer": "rkd", "module": "mlp"},
    "kd": {"transfer": "kd", "module": "mlp"},
    "hybrid": {"transfer": "hybrid", "module": "mlp"},
    "task_oriented": {"transfer": "task_oriented", "module": "mlp"},
    "talking": {"transfer": "talking", "module": "mlp"},
    "kd (linear)": {"transfer": "kd"},
}
#: Macro-F1 noise allowed when the default with unlabeled rows is compared with its labeled-only fit.
F1_NOISE = 0.01
QUICK = ("default", "none", "none (mlp)", "kd", "task_oriented", "aft_feature")


def _pool(name: str, pool: int):
    """TF-IDF and teacher features of the first ``pool`` training rows, and of the test rows."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if name == RARE_TABLE:
        return _rare_table(pool)

    data, feats = load_text_dataset(name), teacher_features(name)
    (x_tr, y_tr), (x_te, y_te) = data["train"], data["test"]
    n = min(pool, len(x_tr))
    vec = TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2), max_features=20000)
    X = vec.fit_transform(x_tr[:n]).astype(np.float32)
    return (
        X,
        np.asarray(y_tr[:n]),
        feats["train"][:n],
        vec.transform(x_te).astype(np.float32),
        np.asarray(y_te),
        feats["test"],
    )


def _rare_table(pool: int):
    """The clothing reviews table (``_tables.py``) with its rare-class target: whether the reviewer recommends
    the item (82% yes). The student sees the table's ``make_column_transformer`` features (TF-IDF of the
    review, one-hot categories, scaled numbers), the teacher the review's MiniLM embedding joined by them."""
    import scipy.sparse as sp
    from _tables import SPECS, _clothing_rows, _embeddings, _shuffle, table_columns

    rows = _clothing_rows()
    df = _shuffle(rows, 0)
    emb = _embeddings("clothing", rows, np.arange(len(rows)), df["_row"].to_numpy())
    n_test = SPECS["clothing"][4]
    train, test, emb_train, emb_test = df.iloc[n_test:][:pool], df.iloc[:n_test], emb[n_test:][:pool], emb[:n_test]
    columns = table_columns("clothing").fit(train)
    X, X_te = (sp.csr_matrix(columns.transform(part), dtype=np.float32) for part in (train, test))
    n_text = len(columns.named_transformers_["tfidfvectorizer"].vocabulary_)
    F = np.hstack([emb_train, X[:, n_text:].toarray()]).astype(np.float32)
    F_te = np.hstack([emb_test, X_te[:, n_text:].toarray()]).astype(np.float32)
    target = "recommended"
    return X, train[target].to_numpy(), F, X_te, test[target].to_numpy(), F_te


def labeled_rows(y: np.ndarray, budget, seed: int) -> np.ndarray:
    """At least one row per class, then random rows up to ``budget`` (or ``"k/class"``: k per class)."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(y), dtype=bool)
    if isinstance(budget, str):  # k per class
        per = int(budget.split("/")[0])
        for c in np.unique(y):
            rows = np.flatnonzero(y == c)
            mask[rng.choice(rows, min(per, len(rows)), replace=False)] = True
        return mask
    mask[[rng.choice(np.flatnonzero(y == c)) for c in np.unique(y)]] = True
    mask[rng.permutation(np.flatnonzero(~mask))[: budget - mask.sum()]] = True
    return mask


def _split(name, budget, seed, unlabeled, pool):
    X, y, F, X_te, y_te, F_te = _pool(name, pool)
    labeled = labeled_rows(y, budget, seed)
    keep = np.ones(len(y), dtype=bool) if unlabeled else labeled
    return X[keep], y[keep], F[keep], labeled[keep], X_te, y_te, F_te


def reference(name, budget, seed, unlabeled, which, pool):
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.semi_supervised import SelfTrainingClassifier

    X, y, F, labeled, X_te, y_te, F_te = _split(name, budget, seed, unlabeled, pool)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence and least-populated-class warnings of tiny budgets
        if which == "tfidf_lrcv":
            pred = LogisticRegressionCV(max_iter=1000).fit(X[labeled], y[labeled]).predict(X_te)
        elif which == "teacher_probe":
            pred = LogisticRegressionCV(max_iter=1000).fit(F[labeled], y[labeled]).predict(F_te)
        elif which == "pseudo_labels":
            probe = LogisticRegressionCV(max_iter=1000).fit(F[labeled], y[labeled])
            pseudo = np.where(labeled, y, probe.predict(F))
            pred = LogisticRegression(C=10.0, max_iter=1000).fit(X, pseudo).predict(X_te)
        else:
            codes = np.where(labeled, np.searchsorted(np.unique(y[labeled]), y), -1)
            classes = np.unique(y[labeled])
            model = SelfTrainingClassifier(LogisticRegression(C=10.0, max_iter=1000)).fit(X, codes)
            pred = classes[model.predict(X_te)]
    return _row(name, budget, seed, unlabeled, which, y_te, pred, time.perf_counter() - start)


def method(name, budget, seed, unlabeled, which, pool):
    import torch

    from sklearn_aft import AFTClassifier

    torch.set_num_threads(1)
    # The first torch optimizer of a process imports torch's compiler (about 1.4 s here, once per process,
    # whatever the model): outside the timed fit, or every fresh worker's first fit would carry it.
    torch.optim.LBFGS([torch.zeros(1, requires_grad=True)])
    X, y, F, labeled, X_te, y_te, _ = _split(name, budget, seed, unlabeled, pool)
    y = y.astype(object)
    y[~labeled] = -1
    clf = AFTClassifier(random_state=seed, **METHODS[which])
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y, teacher_features=F)
    seconds = time.perf_counter() - start
    row = _row(name, budget, seed, unlabeled, which, y_te, clf.predict(X_te), seconds)
    row["teacher_share"] = getattr(clf.transfer_, "teacher_share_", None)
    return row


def _row(name, budget, seed, unlabeled, which, y_true, y_pred, seconds):
    from sklearn.metrics import f1_score

    return {
        "dataset": name,
        "labels": budget,
        "seed": seed,
        "unlabeled": unlabeled,
        "model": which,
        "accuracy": float(np.mean(np.asarray(y_pred) == np.asarray(y_true))),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro")),
        "predicted_classes": int(len(np.unique(y_pred))),
        "fit_seconds": float(seconds),
    }


def summarise(rows, models) -> str:
    def cell(sel):
        accs, f1s = [r["accuracy"] for r in sel], [r["macro_f1"] for r in sel if "macro_f1" in r]
        if not accs:
            return "-"
        f1 = f" (F1 {np.mean(f1s):.3f})" if f1s else ""
        return f"{np.mean(accs):.3f} ± {np.std(accs):.3f}{f1}"

    def pick(ds, n, unl, m):
        return [r for r in rows if (r["dataset"], r["labels"], r["unlabeled"], r["model"]) == (ds, n, unl, m)]

    lines = ["| set | labels | unlabeled rows | " + " | ".join(models) + " | default / pseudo fit time |"]
    lines.append("|---" * (4 + len(models)) + "|")
    checks = []
    for ds in SETS:
        for n in BUDGETS[ds]:
            for unl in (True, False):
                if not pick(ds, n, unl, "default"):
                    continue
                cells = [cell(pick(ds, n, unl, m)) for m in models]
                ratio = "-"
                if unl and pick(ds, n, unl, "pseudo_labels"):
                    t_def = np.mean([r["fit_seconds"] for r in pick(ds, n, unl, "default")])
                    t_pl = np.mean([r["fit_seconds"] for r in pick(ds, n, unl, "pseudo_labels")])
                    ratio = f"{t_def / t_pl:.2f} ({t_def:.1f} s / {t_pl:.1f} s)"
                lines.append(f"| {ds} | {n} | {'yes' if unl else 'no'} | " + " | ".join(cells) + f" | {ratio} |")
                mean = {m: np.mean([r["accuracy"] for r in pick(ds, n, unl, m)] or [np.nan]) for m in models}
                f1 = {m: np.mean([r.get("macro_f1", np.nan) for r in pick(ds, n, False, m)] or [np.nan])
                      for m in models}  # fmt: skip
                if unl and pick(ds, n, False, "default"):  # no collapse: macro-F1 of the labeled-only fit
                    got = np.mean([r.get("macro_f1", np.nan) for r in pick(ds, n, True, "default")])
                    checks.append((ds, n, "macro-F1 with unlabeled rows", got, f1["default"] - F1_NOISE,
                                   f"macro-F1 of the default on labeled rows only - {F1_NOISE}"))  # fmt: skip
                if unl:
                    bar = max(mean.get("pseudo_labels", np.nan), mean.get("tfidf_lrcv", np.nan))
                    checks.append(
                        (ds, n, "with unlabeled rows", mean["default"], bar, "max(pseudo_labels, tfidf_lrcv)")
                    )
                else:
                    plain = [mean[m] for m in ("tfidf_lrcv", "none", "none (mlp)") if m in mean]
                    bar = max(plain) - 0.005
                    checks.append(
                        (ds, n, "labeled rows only", mean["default"], bar, "best of tfidf_lrcv, plain students - 0.005")
                    )
    lines += [
        "",
        "| set | labels | setting | default | bar | bar is | default >= bar |",
        "|---|---|---|---|---|---|---|",
    ]
    for ds, n, what, got, bar, desc in checks:
        lines.append(
            f"| {ds} | {n} | {what} | {got:.3f} | {bar:.3f} | {desc} | {'yes' if got >= bar - 1e-12 else 'NO'} |"
        )
    gains = [
        np.mean([r["accuracy"] for r in pick(ds, n, True, "default")])
        - np.mean([r["accuracy"] for r in pick(ds, n, True, "pseudo_labels")])
        for ds in SETS
        for n in BUDGETS[ds]
        if pick(ds, n, True, "default") and pick(ds, n, True, "pseudo_labels")
    ]
    if gains:
        lines += [
            "",
            f"Default minus pseudo-labels, with unlabeled rows, mean over sets and budgets: {np.mean(gains):+.4f}",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--pool", type=int, default=3000)
    parser.add_argument("--methods", nargs="+", default=list(QUICK), help="method names, or 'all'")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output", default="baselines")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the rows of the models not run now from the output's existing .json (e.g. rerun the "
        "default and the references without the slow MLP methods); the table names them",
    )
    args = parser.parse_args()
    methods = list(METHODS) if args.methods == ["all"] else args.methods
    for ds in args.sets:  # embed before the workers start
        _pool(ds, args.pool) if ds == RARE_TABLE else teacher_features(ds)
    jobs = [
        (fn, ds, n, s, unl, m)
        for ds in args.sets
        for n in BUDGETS[ds]
        for s in range(args.seeds)
        for unl in (True, False)
        for fn, names in ((reference, REFERENCES), (method, methods))
        for m in names
        if unl or m not in ("pseudo_labels", "self_training")
    ]
    rows = Parallel(n_jobs=args.n_jobs, verbose=5)(
        delayed(fn)(ds, n, s, unl, m, args.pool) for fn, ds, n, s, unl, m in jobs
    )
    RESULTS.mkdir(exist_ok=True)
    kept: list[str] = []
    if args.keep and (RESULTS / f"{args.output}.json").exists():
        run_now = {*REFERENCES, *methods}
        old = [r for r in json.loads((RESULTS / f"{args.output}.json").read_text()) if r["model"] not in run_now]
        kept = list(dict.fromkeys(r["model"] for r in old))
        rows += old
    (RESULTS / f"{args.output}.json").write_text(json.dumps(rows, indent=1))
    table = summarise(rows, [*REFERENCES, *methods, *kept])
    command = f"python benchmarks/baselines.py --seeds {args.seeds} --methods {' '.join(args.methods)}"
    title = f"# Baselines: `{command}{' --keep' if args.keep else ''}`\n\n"
    note = "Test accuracy, mean ± std over seeds; fit seconds on 2 CPU cores, one torch thread per worker.\n\n"
    if kept:
        note += f"Columns kept from an earlier run of the same splits (not rerun with this code): {', '.join(kept)}."
        note += "\n\n"
    (RESULTS / f"{args.output}.md").write_text(title + note + table + "\n")
    print(table)


if __name__ == "__main__":
    main()
