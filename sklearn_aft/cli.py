"""The ``sklearn-aft`` command (also ``python -m sklearn_aft``): ``demo``, ``export`` and ``info``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .demo import BUNDLED_DATASETS, DEMO_METHODS, default_cache_dir


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sklearn-aft",
        description="Transfer the knowledge of large pretrained models into small task models.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="train cheap students against the teacher on bundled real data; print a table, write a plot",
        description="Train a plain TF-IDF student, the teacher probe and transfer-method students on a real "
        "text dataset with few labels and the rest unlabeled; print accuracy, fit time, prediction "
        "throughput, speed-up over the teacher and share of the teacher gap closed; write a PNG plot. "
        "The teacher is all-MiniLM-L6-v2, offline; its embeddings are cached between runs.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    demo.add_argument(
        "--dataset",
        default="sms_spam",
        help=f"bundled dataset ({', '.join(BUNDLED_DATASETS)}) or a file of label<TAB>text lines",
    )
    demo.add_argument(
        "--labels",
        type=_positive_int,
        default=200,
        help="training texts that keep their label (the rest are unlabeled)",
    )
    demo.add_argument(
        "--methods",
        nargs="+",
        default=list(DEMO_METHODS),
        help="transfer methods to train students with ('none' is the plain student; see 'sklearn-aft info')",
    )
    demo.add_argument("--device", default="auto", help="'auto' (CUDA when available), 'cpu', 'cuda', 'cuda:1', ...")
    demo.add_argument("--output", default="aft-demo", help="folder for the plot and the results files")
    demo.add_argument("--seed", type=int, default=0, help="seed of the labeled subset and the students")
    demo.add_argument(
        "--max-samples",
        type=_positive_int,
        default=None,
        help="use at most this many training and test texts (a quick run)",
    )
    demo.add_argument(
        "--cache-dir",
        default=None,
        help=f"teacher-embedding cache; None is $SKLEARN_AFT_CACHE or {default_cache_dir()}",
    )
    demo.add_argument("--no-cache", action="store_true", help="embed without the cache")
    demo.add_argument("--no-plot", action="store_true", help="do not write the plot")
    demo.add_argument(
        "--no-static", action="store_true", help="skip the static student on raw texts (distilled from the teacher)"
    )
    demo.add_argument("--quiet", action="store_true", help="no progress bars")

    export = commands.add_parser(
        "export",
        help="write a fitted estimator or pipeline (a pickle or joblib file) as an ONNX graph for onnxruntime",
        description="Load a fitted AFTClassifier, AFTRegressor or a pipeline ending in one (pickle or joblib: "
        "loading runs code, so only load files you trust), trim it for prediction and write it as one ONNX "
        "graph that onnxruntime serves without torch, skorch or the teacher. The input is guessed (a text "
        "column for a pipeline that starts with a text vectoriser, n_features_in_ floats otherwise) unless "
        "--sample gives rows of it; with --sample the graph is checked against the model on them.",
    )
    export.add_argument("model", help="the fitted model file (.pkl, .joblib)")
    export.add_argument(
        "output", help="the .onnx file to write (a folder for the static text student: a model2vec pipeline)"
    )
    export.add_argument(
        "--sample",
        default=None,
        help="rows of the input: a .npy array, a .csv table (for a pipeline on DataFrame columns), or a text file "
        "of one text per line",
    )
    export.add_argument("--zipmap", action="store_true", help="classifier probabilities as {class: p} maps")

    commands.add_parser("info", help="versions, device, and the registered teachers, students and transfer methods")
    return parser


def _export(model_path: str, output: str, sample: str | None, zipmap: bool) -> None:
    from pathlib import Path

    import joblib
    import numpy as np

    from .export import _final_step, to_onnx

    model = _load_model(model_path, joblib)
    final = _final_step(model)
    if not hasattr(final, "trim_for_prediction"):
        raise ValueError(
            f"{model_path} holds a {type(model).__name__}, not an sklearn-aft estimator or a pipeline ending in one"
        )
    final.trim_for_prediction()
    from .export import is_static, to_static_pipeline

    if is_static(final):  # raw texts in: a model2vec folder with the tokenizer, served with numpy
        sample_texts = Path(sample).read_text(encoding="utf-8").splitlines() if sample is not None else None
        to_static_pipeline(final, output, X_sample=sample_texts)
        size = sum(f.stat().st_size for f in Path(output).rglob("*") if f.is_file())
        print(
            f"wrote the folder {output} ({size / 1e6:.2f} MB; model2vec StaticModelPipeline: load it with "
            "model2vec.inference.StaticModelPipeline.from_pretrained, numpy and tokenizers only), checked on "
            f"{len(sample_texts) if sample_texts else 4} texts"
        )
        return
    X_sample = None
    if sample is not None:
        if sample.endswith(".npy"):
            X_sample = np.load(sample, allow_pickle=False)
        elif sample.endswith((".csv", ".csv.gz")):  # the rows of a table pipeline: one graph input per column
            import pandas as pd

            X_sample = pd.read_csv(sample)
        else:
            X_sample = np.array(Path(sample).read_text(encoding="utf-8").splitlines(), dtype=object)
    options = {} if not hasattr(final, "classes_") else {id(final): {"zipmap": zipmap}}
    onx = to_onnx(model, X_sample, output, options=options)
    size = Path(output).stat().st_size
    checked = f", checked on {len(X_sample)} sample rows" if X_sample is not None else " (no --sample: not checked)"
    inputs = ", ".join(i.name for i in onx.graph.input)
    outputs = ", ".join(o.name for o in onx.graph.output)
    print(f"wrote {output} ({size / 1e6:.2f} MB; inputs: {inputs}; outputs: {outputs}){checked}")


def _load_model(model_path: str, joblib):
    """The unpickled model; a file that is not a readable pickle or joblib dump raises ``ValueError``."""
    from pathlib import Path

    if not Path(model_path).is_file():
        raise FileNotFoundError(f"no model file {model_path}")
    try:
        return joblib.load(model_path)
    except ImportError as exc:  # pickled with a package this environment lacks
        raise ImportError(f"cannot load {model_path}: {exc}") from exc
    except Exception as exc:  # a damaged file fails anywhere in pickle (KeyError, EOFError, UnpicklingError...)
        raise ValueError(
            f"cannot read {model_path}: not a pickle or joblib file, or a truncated or damaged one "
            f"({type(exc).__name__}: {' '.join(str(exc).split())})"
        ) from exc


def _version() -> str:
    from . import __version__

    return __version__


def _info() -> None:
    import sklearn
    import skorch
    import torch

    from ._device import resolve_device
    from .registry import available_students, available_teachers, available_transfers

    print(
        f"sklearn-aft {_version()}  (scikit-learn {sklearn.__version__}, skorch {skorch.__version__}, "
        f"torch {torch.__version__})"
    )
    print(f"device 'auto' resolves to: {resolve_device('auto')}")
    print(f"transfer methods: {', '.join(available_transfers())}")
    print(f"students:         {', '.join(available_students())}")
    print(f"teachers:         {', '.join(available_teachers())}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "info":
        _info()
        return 0
    if args.command == "export":
        try:
            _export(args.model, args.output, args.sample, args.zipmap)
        except (ValueError, ImportError, FileNotFoundError) as exc:
            print(f"sklearn-aft export: error: {exc}", file=sys.stderr)
            return 2
        return 0
    from .demo import run_demo

    try:
        run_demo(
            args.dataset,
            labels=args.labels,
            methods=args.methods,
            device=args.device,
            output_dir=args.output,
            seed=args.seed,
            max_samples=args.max_samples,
            cache_dir=False if args.no_cache else args.cache_dir,
            plot=not args.no_plot,
            static=not args.no_static,
            progress=not args.quiet,
        )
    except (ValueError, ImportError, FileNotFoundError) as exc:  # user errors: one line, no traceback
        print(f"sklearn-aft demo: error: {exc}", file=sys.stderr)
        return 2
    return 0
