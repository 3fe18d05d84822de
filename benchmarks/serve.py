"""Serving cost: the teacher pipeline against the student pickled for torch and exported to ONNX.

On the bundled SMS spam data (3,902 training and 1,672 test messages; 200 labels, the rest unlabeled, as in
the demo), three ways to serve a spam filter:

- ``teacher pipeline``: all-MiniLM-L6-v2 embeddings (sentence-transformers, torch) and a logistic
  regression probe on them;
- ``torch student``: TF-IDF + the fitted ``AFTClassifier``, unpickled after ``trim_for_prediction()``;
- ``onnx student``: the same pipeline as one ONNX graph (``sklearn_aft.export.to_onnx``) in onnxruntime;
- ``scikit-learn pickle``: what a user writes by hand instead, the pseudo-label pipeline (a
  ``LogisticRegressionCV`` probe on the teacher features labels the unlabeled rows, then TF-IDF +
  ``LogisticRegression(C=10)``), served by scikit-learn alone.

Two students: the default (linear, ``stacked_kd``) and the MLP (``module="mlp"``, ``transfer="kd"``), each
behind the demo's TF-IDF (sublinear, 1-2 grams, min_df 2, 5,000 columns) and the benchmarks' (20,000).
Measured in one run, on this machine's CPU cores:

- throughput: rows per second on batches of 1,000 test messages, the median of at least 5 timed calls
  after a warm-up call (3 for the teacher, which is slow);
- single-row latency: p50 and p99 over 1,000 calls of one message each (200 for the teacher), after 20
  warm-up calls;
- size on disk of each artefact (ONNX file, trimmed and untrimmed pickle, the teacher's weights);
- peak resident memory of a fresh process that loads the artefact and predicts 1,000 rows in batches of
  100 (``VmHWM`` of a child process, Linux: imports included, which is what a server pays).

Run: ``python benchmarks/serve.py`` (about 5 minutes on 2 CPU cores). Results:
``benchmarks/results/serve.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"
LATENCY_CALLS = 1000


def _throughput(predict, X, repeats: int = 5, min_seconds: float = 1.0) -> float:
    """Rows per second of ``predict(X)``, the demo's measure: one untimed call (lazy set-up, cold caches),
    then the median of timed calls, at least ``repeats`` of them and until ``min_seconds`` have passed."""
    predict(X)
    times: list[float] = []
    while len(times) < repeats or sum(times) < min_seconds:
        start = time.perf_counter()
        predict(X)
        times.append(time.perf_counter() - start)
    return len(X) / float(np.median(times))


def _labeled_rows(y: np.ndarray, n_labels: int, seed: int) -> np.ndarray:
    """The demo's choice of labeled rows: ``n_labels`` of them, stratified (as ``sklearn-aft demo --labels``)."""
    from sklearn.model_selection import train_test_split

    mask = np.zeros(len(y), dtype=bool)
    idx, _ = train_test_split(np.arange(len(y)), train_size=n_labels, stratify=y, random_state=seed)
    mask[idx] = True
    return mask


def _latency(predict, rows, calls: int) -> tuple[float, float]:
    for row in rows[:20]:
        predict(row)
    times = []
    for i in range(calls):
        row = rows[i % len(rows)]
        start = time.perf_counter()
        predict(row)
        times.append(time.perf_counter() - start)
    return float(np.percentile(times, 50) * 1e3), float(np.percentile(times, 99) * 1e3)


# The child's own high-water mark (VmHWM, kB). Not ru_maxrss: Linux carries the parent's peak across
# fork and exec into it, which showed the benchmark's own 1.5 GB for every artefact.
_PEAK = (
    "def peak():\n"
    "    line = next(l for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
    "    return int(line.split()[1])\n"
)

_CHILD = {
    "onnx": (
        "import sys, numpy as np, onnxruntime as ort\n"
        "s = ort.InferenceSession(sys.argv[1], providers=['CPUExecutionProvider'])\n"
        "x = np.array(open(sys.argv[2], encoding='utf-8').read().split('\\n'), dtype=object)\n"
        "i = s.get_inputs()[0]\n"
        "for k in range(0, len(x), 100):\n"
        "    s.run(None, {i.name: x[k : k + 100].reshape(-1, 1) if len(i.shape) == 2 else x[k : k + 100]})\n"
        "print(peak())\n"
    ),
    "pickle": (
        "import sys, pickle, numpy as np\n"
        "m = pickle.load(open(sys.argv[1], 'rb'))\n"
        "x = np.array(open(sys.argv[2], encoding='utf-8').read().split('\\n'), dtype=object)\n"
        "for k in range(0, len(x), 100):\n"
        "    m.predict(x[k : k + 100])\n"
        "print(peak())\n"
    ),
}


def _peak_memory_mb(kind: str, artefact: Path, texts_file: Path) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _PEAK + _CHILD[kind], str(artefact), str(texts_file)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    ).stdout
    return int(out.split()[-1]) / 1024  # kB


def _teacher_memory_mb(probe_file: Path, texts_file: Path) -> float:
    code = (
        "import sys, pickle, numpy as np\n"
        "from sklearn_aft.teachers import SentenceEmbedder\n"
        "probe = pickle.load(open(sys.argv[1], 'rb'))\n"
        "texts = open(sys.argv[2], encoding='utf-8').read().split('\\n')\n"
        "teacher = SentenceEmbedder(batch_size=64, device='cpu').fit(texts)\n"
        "for k in range(0, len(texts), 100):\n"
        "    probe.predict(teacher.transform(texts[k : k + 100]))\n"
        "print(peak())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", _PEAK + code, str(probe_file), str(texts_file)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    ).stdout
    return int(out.split()[-1]) / 1024


def _folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 1e6


def main() -> None:
    import onnxruntime as ort
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.pipeline import make_pipeline

    from sklearn_aft import AFTClassifier
    from sklearn_aft.datasets import load_sms_spam
    from sklearn_aft.export import input_feed, to_onnx
    from sklearn_aft.teachers import SentenceEmbedder
    from sklearn_aft.teachers.sentence import default_text_model_path

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=200)
    parser.add_argument("--output", default="serve")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    x_tr, y_tr = load_sms_spam(subset="train", return_X_y=True)
    x_te, y_te = load_sms_spam(subset="test", return_X_y=True)
    x_tr, x_te = np.asarray(x_tr, dtype=object), np.asarray(x_te, dtype=object)
    labeled = _labeled_rows(np.asarray(y_tr), args.labels, 0)
    y_semi = np.asarray(y_tr).astype(object)
    y_semi[~labeled] = -1
    teacher = SentenceEmbedder(batch_size=64, device="cpu").fit(x_tr)
    F = teacher.transform(x_tr)
    probe = LogisticRegression(C=10.0, max_iter=2000).fit(F[labeled], np.asarray(y_tr)[labeled])
    batch = x_te[:1000]
    rows = [x_te[i : i + 1] for i in range(200)]

    work = Path(tempfile.mkdtemp(prefix="aft-serve-"))
    texts_file = work / "texts.txt"
    texts_file.write_text("\n".join(t.replace("\n", " ") for t in batch), encoding="utf-8")
    (work / "probe.pkl").write_bytes(pickle.dumps(probe))

    def teacher_predict(texts):
        return probe.predict(teacher.transform(texts))

    teacher_rate = _throughput(teacher_predict, batch, repeats=3)
    t50, t99 = _latency(teacher_predict, rows, 200)
    results = [
        {
            "model": "teacher pipeline",
            "student": "-",
            "accuracy": float(np.mean(teacher_predict(x_te) == y_te)),
            "rows_per_second": teacher_rate,
            "p50_ms": t50,
            "p99_ms": t99,
            "size_mb": _folder_mb(default_text_model_path()),
            "size_is": "teacher weights (folder)",
            "peak_memory_mb": _teacher_memory_mb(work / "probe.pkl", texts_file),
        }
    ]
    # What a user writes by hand, served by the bare library: the probe labels the unlabeled rows, TF-IDF +
    # LogisticRegression learns them, and scikit-learn's pickle serves it (no torch).
    cv_probe = LogisticRegressionCV(max_iter=1000).fit(F[labeled], np.asarray(y_tr)[labeled])
    pseudo_labels = np.where(labeled, np.asarray(y_tr), cv_probe.predict(F))
    for width in (5000, 20000):
        pseudo = make_pipeline(
            TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2), max_features=width),
            LogisticRegression(C=10.0, max_iter=1000),
        ).fit(x_tr, pseudo_labels)
        (work / "pseudo.pkl").write_bytes(pickle.dumps(pseudo))
        p50, p99 = _latency(pseudo.predict, rows, LATENCY_CALLS)
        results.append(
            {
                "model": "scikit-learn pickle",
                "student": f"pseudo-labels by hand, tf-idf {width:,}",
                "accuracy": float(np.mean(pseudo.predict(x_te) == y_te)),
                "rows_per_second": _throughput(pseudo.predict, batch),
                "p50_ms": p50,
                "p99_ms": p99,
                "size_mb": (work / "pseudo.pkl").stat().st_size / 1e6,
                "size_is": "pickle",
                "peak_memory_mb": _peak_memory_mb("pickle", work / "pseudo.pkl", texts_file),
            }
        )
    students = {
        "default (linear, stacked_kd)": {},
        "mlp, kd": {"module": "mlp", "transfer": "kd"},
    }
    configs = [(width, name, params) for width in (5000, 20000) for name, params in students.items()]
    for width, name, params in configs:
        name = f"{name}, tf-idf {width:,}"
        pipe = make_pipeline(
            TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2), max_features=width),
            AFTClassifier(random_state=0, **params),
        )
        pipe.fit(x_tr, y_semi, aftclassifier__teacher_features=F)
        full_size = len(pickle.dumps(pipe)) / 1e6
        pipe[-1].trim_for_prediction()
        (work / "student.pkl").write_bytes(pickle.dumps(pipe))
        served = pickle.loads((work / "student.pkl").read_bytes())
        onx = to_onnx(pipe, batch, work / "student.onnx", options={id(pipe[-1]): {"zipmap": False}})
        session = ort.InferenceSession(str(work / "student.onnx"), providers=["CPUExecutionProvider"])

        def onnx_predict(texts, session=session, onx=onx):
            return session.run(["label"], input_feed(onx, texts))[0]

        accuracy = float(np.mean(served.predict(x_te) == y_te))
        same = bool(np.all(onnx_predict(x_te) == served.predict(x_te)))
        for kind, predict, artefact, size_is in (
            ("torch student", served.predict, work / "student.pkl", f"trimmed pickle (untrimmed {full_size:.2f} MB)"),
            ("onnx student", onnx_predict, work / "student.onnx", "ONNX file"),
        ):
            p50, p99 = _latency(predict, rows, LATENCY_CALLS)
            results.append(
                {
                    "model": kind,
                    "student": name,
                    "accuracy": accuracy,
                    "same_labels_as_torch": same,
                    "rows_per_second": _throughput(predict, batch),
                    "p50_ms": p50,
                    "p99_ms": p99,
                    "size_mb": artefact.stat().st_size / 1e6,
                    "size_is": size_is,
                    "peak_memory_mb": _peak_memory_mb(
                        "onnx" if kind == "onnx student" else "pickle", artefact, texts_file
                    ),
                }
            )
    for r in results:
        r["throughput_over_teacher"] = r["rows_per_second"] / teacher_rate
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(json.dumps(results, indent=1))
    table = summarise(results, os.cpu_count(), len(x_te))
    (RESULTS / f"{args.output}.md").write_text(table + "\n")
    print(table)


def summarise(results: list[dict], cores: int | None, n_test: int) -> str:
    lines = [
        f"Bundled SMS spam, {n_test:,} test messages; {cores} CPU cores; one run. Throughput on batches of 1,000 rows "
        "(median of >= 5 timed calls after a warm-up; 3 for the teacher); latency of one row per call "
        f"({LATENCY_CALLS} calls, 200 for the teacher, after 20 warm-up calls); peak memory of a fresh process "
        "that loads the artefact and predicts 1,000 rows in batches of 100.",
        "",
        "| served as | student | accuracy | rows/s | x teacher | p50 ms | p99 ms | size MB | size of | peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['model']} | {r['student']} | {r['accuracy']:.3f} | {r['rows_per_second']:,.0f} | "
            f"{r['throughput_over_teacher']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['size_mb']:.2f} | "
            f"{r['size_is']} | {r['peak_memory_mb']:.0f} |"
        )
    same = [r["same_labels_as_torch"] for r in results if "same_labels_as_torch" in r]
    lines += ["", f"ONNX labels equal to the torch student's on every test row: {all(same)}"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
