"""The demo (``python -m sklearn_aft demo``): cheap students against the teacher on real, bundled data.

A few hundred labeled texts and the rest of the training set unlabeled. The teacher (all-MiniLM-L6-v2,
offline) embeds every training text once; its embeddings are cached on disk between runs. Then, on the
same split:

- the teacher probe: logistic regression on the teacher's embeddings of the labeled texts. It is the
  accuracy to aim for, but predicting with it runs the teacher;
- the hand-written pseudo-label pipeline: the probe (C by cross-validation) labels the unlabeled texts,
  then a TF-IDF logistic regression learns labeled + pseudo-labeled texts. It is what a user writes
  without this package, and what the package's students must beat;
- the static student on the raw texts: ``AFTClassifier(teacher=...).fit(texts, y)``, no vectoriser; its token
  table is distilled from the teacher's own model (model2vec), so it starts from the teacher's words;
- the plain student: a TF-IDF logistic regression trained on the labeled texts (``transfer="none"``);
- students trained with transfer methods (the default ``stacked_kd`` on the linear student, the
  feature and distillation methods on the MLP), which also learn from the teacher's view of the
  unlabeled texts during ``fit`` and predict without it.

The table reports accuracy, macro-F1, fit time, prediction throughput, speed-up over the teacher
pipeline and the share of the teacher-to-plain-student accuracy gap each student closes.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

# Nothing here imports torch or skorch at import time: ``sklearn-aft demo --help`` reads this module's constants.

DEMO_METHODS = ("none", "stacked_kd", "aft_feature", "aft", "kd", "task_oriented")
BUNDLED_DATASETS = ("sms_spam",)
PLAIN, PROBE, PSEUDO = "plain student (none)", "teacher probe", "pseudo-labels (by hand)"
STATIC = "static student on raw texts (stacked_kd)"
DEFAULT_METHOD = "stacked_kd"


def _tfidf():
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2), max_features=5000)


def default_cache_dir() -> Path:
    """Where the demo keeps teacher embeddings: ``$SKLEARN_AFT_CACHE`` or ``~/.cache/sklearn-aft``."""
    return Path(os.environ.get("SKLEARN_AFT_CACHE", Path.home() / ".cache" / "sklearn-aft")).expanduser()


def _epoch_progress_class() -> type:
    """``EpochProgress``, built on first use: it subclasses skorch's ``Callback``, and skorch imports torch."""
    from skorch.callbacks import Callback
    from tqdm.auto import tqdm

    class EpochProgress(Callback):
        """A tqdm bar over the epochs of one fit (skorch's ``ProgressBar`` counts batches of one epoch)."""

        def __init__(self, desc: str):
            self.desc = desc

        def on_train_begin(self, net, **kwargs):
            # disable=None: no bar when stderr is not a terminal (a log would get one line per redraw)
            self.bar_ = tqdm(
                total=net.max_epochs, desc=self.desc, unit="epoch", leave=False, disable=None, mininterval=0.5
            )

        def on_epoch_end(self, net, **kwargs):
            self.bar_.update(1)
            self.bar_.set_postfix(loss=f"{net.history[-1, 'train_loss']:.3f}", refresh=False)

        def on_train_end(self, net, **kwargs):
            self.bar_.close()

    EpochProgress.__module__, EpochProgress.__qualname__ = __name__, "EpochProgress"  # pickled by this name
    return EpochProgress


def __getattr__(name: str):
    # ``sklearn_aft.demo.EpochProgress`` made on first access and kept (pickles of the demo's students find it here)
    if name == "EpochProgress":
        cls = globals()["EpochProgress"] = _epoch_progress_class()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _epoch_progress(desc: str):
    """An ``EpochProgress`` callback (the class made on first use)."""
    cls = globals().get("EpochProgress") or __getattr__("EpochProgress")
    return cls(desc)


def _demo_teacher(teacher, device: str, progress: bool):
    """The demo's teacher: a clone on ``device``, its own progress bar only when ``progress`` and stderr is a terminal.

    The teacher's bar (sentence-transformers' "Batches") draws whatever stderr is, so a log file would get one line
    per redraw: it is asked for only when a person can see it.
    """
    from sklearn.base import clone

    if teacher is None:
        from .teachers import SentenceEmbedder

        teacher = SentenceEmbedder(batch_size=64)
    verbose = int(progress and _stderr_is_terminal())
    params = teacher.get_params()
    return clone(teacher).set_params(**{k: v for k, v in (("device", device), ("verbose", verbose)) if k in params})


def _stderr_is_terminal() -> bool:
    """Whether progress bars would reach a person (not a log file or a pipe)."""
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


def load_demo_data(dataset: str, seed: int = 0, max_samples: int | None = None):
    """``(train_texts, train_labels, test_texts, test_labels)`` of a bundled dataset or a labelled text file.

    ``dataset`` is a bundled name (``"sms_spam"``) or the path of a UTF-8 file with one
    ``label<TAB>text`` pair per line (an optional first line ``label<TAB>text`` is skipped); a file is
    split 70/30, stratified. ``max_samples`` caps each split, stratified, for quick runs.
    """
    from sklearn.model_selection import train_test_split

    if dataset == "sms_spam":
        from .datasets import load_sms_spam

        x_tr, y_tr = load_sms_spam(subset="train", return_X_y=True)
        x_te, y_te = load_sms_spam(subset="test", return_X_y=True)
        names = np.asarray(["ham", "spam"])
        y_tr, y_te = names[y_tr], names[y_te]
    elif Path(dataset).is_file():
        rows = [line.rstrip("\n").split("\t", 1) for line in Path(dataset).read_text("utf-8").splitlines()]
        rows = [r for r in rows if len(r) == 2 and r[1].strip()]
        if rows and [c.strip().lower() for c in rows[0]] == ["label", "text"]:
            rows = rows[1:]
        if len(rows) < 10:
            raise ValueError(f"{dataset}: expected label<TAB>text lines, found {len(rows)} usable ones")
        labels, texts = np.asarray([r[0] for r in rows]), [r[1] for r in rows]
        x_tr, x_te, y_tr, y_te = train_test_split(texts, labels, test_size=0.3, stratify=labels, random_state=seed)
    else:
        raise ValueError(f"dataset must be one of {BUNDLED_DATASETS} or an existing file, got {dataset!r}")
    splits = []
    for x, y in ((x_tr, y_tr), (x_te, y_te)):
        y = np.asarray(y)
        if max_samples is not None and max_samples < len(y):
            x, _, y, _ = train_test_split(x, y, train_size=max_samples, stratify=y, random_state=seed)
        splits += [list(x), np.asarray(y)]
    return tuple(splits)


def _pick_labeled_rows(y: np.ndarray, n_labels: int, seed: int) -> np.ndarray:
    """A stratified choice of ``n_labels`` rows, with at least two per class (the KD head is cross-fitted)."""
    from sklearn.model_selection import train_test_split

    classes = np.unique(y)
    if n_labels < 2 * len(classes):
        raise ValueError(f"labels={n_labels} is too few: use at least 2 per class ({2 * len(classes)})")
    mask = np.zeros(len(y), dtype=bool)
    if n_labels >= len(y):
        mask[:] = True
        return mask
    idx, _ = train_test_split(np.arange(len(y)), train_size=n_labels, stratify=y, random_state=seed)
    mask[idx] = True
    return mask


def _throughput(predict, X, min_seconds: float = 0.5, min_repeats: int = 5) -> float:
    """Rows per second of ``predict(X)``: the median over timed calls (at least ``min_repeats``, and until
    ``min_seconds`` have passed), after one untimed call on the same rows, so that lazy set-up and a cold
    cache are not counted and one slow call (another process, the garbage collector) does not move it."""
    predict(X)
    times: list[float] = []
    spent = 0.0
    while len(times) < min_repeats or spent < min_seconds:
        start = time.perf_counter()
        predict(X)
        times.append(time.perf_counter() - start)
        spent += times[-1]
    return len(X) / float(np.median(times))


def run_demo(
    dataset: str = "sms_spam",
    *,
    labels: int = 200,
    methods: Sequence[str] = DEMO_METHODS,
    device: str = "auto",
    output_dir: str | os.PathLike = "aft-demo",
    seed: int = 0,
    max_samples: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    teacher=None,
    static: bool = True,
    plot: bool = True,
    progress: bool = True,
    echo=print,
) -> list[dict]:
    """Run the demo; return one dict per model (the rows of the printed table).

    Parameters
    ----------
    dataset : str, default="sms_spam"
        A bundled dataset name or a ``label<TAB>text`` file (see :func:`load_demo_data`).
    labels : int, default=200
        How many training texts keep their label; the others are unlabeled rows for the transfer term.
    methods : sequence of str, default=("none", "stacked_kd", "aft_feature", "aft", "kd", "task_oriented")
        Transfer methods to train students with (names from :func:`sklearn_aft.available_transfers`).
    device : str, default="auto"
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ... for the teacher and the students.
    output_dir : path, default="aft-demo"
        Where the plot (``demo_<dataset>.png``) and the results (``.csv``, ``.json``) go.
    seed : int, default=0
        Seed of the labeled subset and of the students.
    max_samples : int, default=None
        Use at most this many training and test texts (quick runs, tests).
    cache_dir : path or False, default=None
        Teacher-embedding cache (``None``: :func:`default_cache_dir`; ``False``: no cache).
    teacher : transformer, default=None
        The teacher; ``None`` is :class:`~sklearn_aft.teachers.SentenceEmbedder` (all-MiniLM-L6-v2).
    static : bool, default=True
        Also train the static student on the raw texts (its table distilled from a text teacher's model; about
        20 s the first time, then cached). Skipped for a teacher without a model to distil.
    plot : bool, default=True
        Write the PNG plot (needs matplotlib).
    progress : bool, default=True
        Show progress bars while the teacher embeds and the students train.
    echo : callable, default=print
        Where the table and messages go.

    Returns
    -------
    rows : list of dict
        ``model, method, accuracy, macro_f1, fit_seconds, predict_per_second, speedup, gap_closed``.

    Examples
    --------
    >>> from sklearn_aft.demo import run_demo
    >>> rows = run_demo(max_samples=300, labels=40, methods=["none"], plot=False,
    ...                 progress=False, echo=lambda *a: None)  # doctest: +SKIP
    """
    import sklearn
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import make_pipeline

    from . import AFTClassifier
    from ._device import resolve_device
    from .registry import get_transfer
    from .teachers.cache import embed

    for method in methods:
        get_transfer(method)  # unknown names fail before any work
    device = resolve_device(device)
    teacher = _demo_teacher(teacher, device, progress)
    memory = None if cache_dir is False else str(cache_dir or default_cache_dir())
    x_tr, y_tr, x_te, y_te = load_demo_data(dataset, seed=seed, max_samples=max_samples)
    labeled = _pick_labeled_rows(y_tr, labels, seed)
    y_semi = y_tr.astype(object)
    y_semi[~labeled] = -1  # unlabeled rows: they enter the transfer term only
    echo(
        f"{dataset}: {len(x_tr)} training texts ({labeled.sum()} labeled, {(~labeled).sum()} unlabeled), "
        f"{len(x_te)} test texts, classes {sorted(map(str, set(y_tr)))}; device {device}"
    )

    start = time.perf_counter()
    f_tr, f_te = embed(teacher, x_tr, memory=memory), embed(teacher, x_te, memory=memory)
    echo(
        f"teacher embeddings ({type(teacher).__name__}, {f_tr.shape[1]}-d): {time.perf_counter() - start:.1f} s"
        + (f" (cache: {memory})" if memory else "")
    )

    results = []
    probe = LogisticRegression(max_iter=2000, C=10.0)
    start = time.perf_counter()
    probe.fit(f_tr[labeled], y_tr[labeled])
    probe_fit = time.perf_counter() - start
    pred = probe.predict(f_te)
    sample = x_te[: min(len(x_te), 256)]  # the teacher is slow: time it on a sample, uncached

    def teacher_pipeline(texts):
        return probe.predict(teacher.transform(texts))

    def row(model: str, method: str, pred, fit_seconds: float, predict_per_second: float) -> dict:
        return dict(
            model=model,
            method=method,
            accuracy=accuracy_score(y_te, pred),
            macro_f1=f1_score(y_te, pred, average="macro"),
            fit_seconds=fit_seconds,
            predict_per_second=predict_per_second,
        )

    results.append(row(PROBE, "-", pred, probe_fit, _throughput(teacher_pipeline, sample, min_repeats=3)))

    # The hand-written alternative, same split and TF-IDF: the probe labels the unlabeled rows.
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a class with fewer labeled rows than folds
        cv_probe = LogisticRegressionCV(max_iter=1000, **_lrcv_settings()).fit(f_tr[labeled], y_tr[labeled])
    pseudo = make_pipeline(_tfidf(), LogisticRegression(C=10.0, max_iter=1000))
    pseudo.fit(x_tr, np.where(labeled, y_tr, cv_probe.predict(f_tr)))
    pseudo_fit = time.perf_counter() - start
    pred = pseudo.predict(x_te)
    results.append(row(PSEUDO, "-", pred, pseudo_fit, _throughput(pseudo.predict, x_te)))

    if static and hasattr(teacher, "static_source"):
        # The shortest path: raw texts and the teacher, no vectoriser. module="auto" takes the static student, whose
        # token table is distilled from the teacher's own model (once; kept in the cache folder).
        start = time.perf_counter()
        student = AFTClassifier(
            teacher=teacher,
            memory=memory,
            device=device,
            random_state=seed,
            callbacks=[("progress", _epoch_progress("static"))] if progress else None,
        ).fit(list(x_tr), y_semi)
        fit_seconds = time.perf_counter() - start
        texts_te = list(x_te)
        results.append(
            row(STATIC, "stacked_kd", student.predict(texts_te), fit_seconds, _throughput(student.predict, texts_te))
        )

    for method in methods:
        start = time.perf_counter()
        if method == "none":
            # The plain student: the same TF-IDF (its vocabulary from every training text, as for the other
            # students), the logistic regression on the labeled rows only. Given the unlabeled rows it would drop
            # them, and say so; the demo knows, so it gives it the rows it learns from.
            vectoriser = _tfidf().fit(x_tr)
            student = AFTClassifier(
                transfer="none",
                device=device,
                random_state=seed,
                callbacks=[("progress", _epoch_progress(method))] if progress else None,
            )
            student.fit(vectoriser.transform([t for t, keep in zip(x_tr, labeled) if keep]), y_tr[labeled])
            pipe = make_pipeline(vectoriser, student)
        else:
            with sklearn.config_context(enable_metadata_routing=True):  # routes teacher_input to the student
                student = AFTClassifier(
                    transfer=method,
                    teacher=teacher,
                    memory=memory,
                    device=device,
                    random_state=seed,
                    callbacks=[("progress", _epoch_progress(method))] if progress else None,
                ).set_fit_request(teacher_input=True)
                pipe = make_pipeline(_tfidf(), student)
                pipe.fit(x_tr, y_semi, teacher_input=x_tr)  # the teacher sees raw texts, the student TF-IDF
        fit_seconds = time.perf_counter() - start
        pred = pipe.predict(x_te)
        name = PLAIN if method == "none" else f"student + {method}" + (" (default)" if method == DEFAULT_METHOD else "")
        results.append(row(name, method, pred, fit_seconds, _throughput(pipe.predict, x_te)))
        if method == DEFAULT_METHOD:
            served = pipe

    _add_relative_columns(results)
    echo(format_table(results))
    if DEFAULT_METHOD in methods:
        echo(serving_report(served, x_te, next(r for r in results if r["model"] == PROBE)["predict_per_second"]))
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"demo_{Path(dataset).stem}"
    _write_results(results, stem)
    if plot:
        try:
            write_plot(results, stem.with_suffix(".png"), title=f"{Path(dataset).stem}: {labeled.sum()} labels")
            echo(f"plot written to {stem.with_suffix('.png')}")
        except ImportError:
            echo("matplotlib is not installed: no plot (pip install 'sklearn-aft[demo]')")
    echo(f"results written to {stem.with_suffix('.csv')} and {stem.with_suffix('.json')}")
    return results


def serving_report(pipe, texts, teacher_per_second: float) -> str:
    """Size and throughput of the fitted student pipeline served two ways: unpickled in torch after
    ``trim_for_prediction()``, and as one ONNX graph in onnxruntime (``sklearn_aft.export``), measured as
    the table's throughput is; the lines the demo prints under its table."""
    import pickle

    pipe = pickle.loads(pickle.dumps(pipe))  # a served copy: the fitted one keeps its history
    pipe[-1].trim_for_prediction()
    torch_size = len(pickle.dumps(pipe)) / 1e6
    torch_rate = _throughput(pipe.predict, texts)
    lines = [
        f"serving the default student: torch, trimmed pickle {torch_size:.2f} MB, {torch_rate:,.0f} rows/s "
        f"({torch_rate / teacher_per_second:.0f}x the teacher)"
    ]
    try:
        import onnxruntime as ort

        from .export import input_feed, to_onnx
    except ImportError:
        lines.append("  ONNX: not measured (pip install 'sklearn-aft[onnx]')")
        return "\n".join(lines)
    onx = to_onnx(pipe, texts[:200], options={id(pipe[-1]): {"zipmap": False}})
    graph = onx.SerializeToString()
    session = ort.InferenceSession(graph, providers=["CPUExecutionProvider"])

    def predict(rows):
        return session.run(["label"], input_feed(onx, rows))[0]

    rate = _throughput(predict, texts)
    n_one = min(200, len(texts))  # a quick run may have fewer test texts
    start = time.perf_counter()
    for i in range(n_one):
        predict(texts[i : i + 1])
    one_row_ms = (time.perf_counter() - start) / n_one * 1e3
    lines.append(
        f"  ONNX (onnxruntime, no torch): {len(graph) / 1e6:.2f} MB, {rate:,.0f} rows/s "
        f"({rate / teacher_per_second:.0f}x the teacher), {one_row_ms:.2f} ms a row one at a time; "
        f"labels and probabilities checked against the torch student on {min(200, len(texts))} test rows"
    )
    return "\n".join(lines)


def _lrcv_settings() -> dict:
    """``LogisticRegressionCV`` options that keep the demo's choice of C (by accuracy, L2 only) and silence the
    FutureWarnings of scikit-learn >= 1.9 about defaults that change: the values those warnings ask for, where the
    installed version has the parameters."""
    from sklearn.linear_model import LogisticRegressionCV

    settings: dict = {"scoring": "accuracy"}  # the old default, said explicitly (1.11 moves it to log-loss)
    if "use_legacy_attributes" in LogisticRegressionCV().get_params():  # 1.9+: l1_ratios' default changes too
        settings.update(l1_ratios=(0.0,), use_legacy_attributes=False)
    return settings


#: The smallest teacher-probe-over-plain-student accuracy gap whose closed share is reported.
MIN_GAP = 0.01


def _add_relative_columns(results: list[dict]) -> None:
    teacher = next(r for r in results if r["model"] == PROBE)
    plain = next((r for r in results if r["method"] == "none"), None)
    gap = teacher["accuracy"] - plain["accuracy"] if plain else float("nan")
    for r in results:
        r["speedup"] = r["predict_per_second"] / teacher["predict_per_second"]
        # Undefined when the teacher probe does not beat the plain student by a point: a gap of a few test
        # texts turned one text more or less into "+3.00" or "-6.00".
        r["gap_closed"] = (r["accuracy"] - plain["accuracy"]) / gap if plain and gap >= MIN_GAP else float("nan")


def format_table(results: list[dict]) -> str:
    """The results as a fixed-width text table."""
    head = (
        f"{'model':<31} {'accuracy':>8} {'macro-F1':>8} {'fit s':>7} {'predict/s':>10} {'speed-up':>9} "
        f"{'gap closed':>10}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        gap = "-" if r["model"] == PROBE else "n/a" if np.isnan(r["gap_closed"]) else f"{r['gap_closed']:+.2f}"
        lines.append(
            f"{r['model']:<31} {r['accuracy']:8.3f} {r['macro_f1']:8.3f} {r['fit_seconds']:7.1f} "
            f"{r['predict_per_second']:10,.0f} {r['speedup']:8.1f}x {gap:>10}"
        )
    lines.append(
        "predict/s: median of timed calls on the test rows (at least 5; 3 for the slow teacher) after a warm-up call; "
        "speed-up: prediction throughput over the teacher pipeline (teacher + probe); gap closed: "
        f"(accuracy - plain) / (teacher probe - plain), n/a when the probe leads the plain student by under "
        f"{MIN_GAP:.0%}"
    )
    return "\n".join(lines)


def _write_results(results: list[dict], stem: Path) -> None:
    with open(stem.with_suffix(".csv"), "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2, default=float))


def write_plot(results: list[dict], path: Path, title: str = "") -> None:
    """Accuracy and prediction throughput of every model, side by side, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["model"] for r in results]
    palette = {PROBE: "#888888", PLAIN: "#4c72b0", PSEUDO: "#55a868", STATIC: "#dd8452"}
    colors = [palette.get(n, "#dd8452") for n in names]
    fig, (acc_ax, speed_ax) = plt.subplots(1, 2, figsize=(11, 0.6 * len(names) + 1.6), sharey=True)
    ypos = np.arange(len(names))[::-1]
    acc_ax.barh(ypos, [r["accuracy"] for r in results], color=colors)
    acc_ax.axvline(results[0]["accuracy"], color="#888888", linestyle="--", linewidth=1, label="teacher probe")
    acc_ax.legend(loc="lower right", fontsize="small")
    low = max(0.0, min(r["accuracy"] for r in results) - 0.1)
    acc_ax.set_xlim(low, 1.0)
    acc_ax.set_xlabel("test accuracy" + (f" (axis from {low:.2f}, not 0)" if low > 0 else ""))
    acc_ax.set_yticks(ypos, names)
    speeds = [r["predict_per_second"] for r in results]
    speed_ax.barh(ypos, speeds, color=colors)
    speed_ax.set_xscale("log")
    speed_ax.set_xlim(min(speeds) / 4, 4 * max(speeds))  # the teacher's bar visible, room for the labels
    speed_ax.set_xlabel("prediction throughput (texts/s, log scale)")
    for y, r in zip(ypos, results):
        acc_ax.text(r["accuracy"], y, f" {r['accuracy']:.3f}", va="center", fontsize="small")
        speed_ax.text(r["predict_per_second"], y, f" {r['speedup']:.0f}x", va="center", fontsize="small")
    fig.suptitle(title + "  (teacher probe grey, pseudo-labels green, plain student blue, transfer students orange)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
