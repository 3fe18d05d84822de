"""Serving the static text student without torch: a model2vec pipeline folder (table, tokenizer, head).

The static student is a tokenizer, a table and a head; model2vec's ``StaticModelPipeline`` is exactly that, and
loads from a folder with numpy, ``tokenizers`` and ``safetensors`` alone (no torch, no ONNX runtime), with the
tokenisation inside. So the fitted student is written in that format rather than as an ONNX graph, which would
need a tokenizer operator (onnxruntime-extensions) that a deployment would have to install and keep in step.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted
from torch import nn

from sklearn_aft.students.static import StaticStudent


def is_static(model) -> bool:
    """Whether a fitted estimator's student is the static text student."""
    return isinstance(getattr(getattr(model, "net_", None), "module_", None), StaticStudent)


def to_static_pipeline(model, path=None, *, X_sample=None, check: bool = True):
    """The fitted static student as a model2vec ``StaticModelPipeline``, written to ``path`` when given.

    Load it where it serves with ``model2vec.inference.StaticModelPipeline.from_pretrained(path)`` and call
    ``predict`` / ``predict_proba`` on raw texts: numpy, ``tokenizers`` and ``safetensors`` only
    (``pip install model2vec``). The fine-tuned table, the tokenizer and the head are all in the folder.

    Parameters
    ----------
    model : AFTClassifier or AFTRegressor
        Fitted with ``module="static"`` (or ``"auto"`` on raw texts).
    path : str or Path, default=None
        Folder to write; None returns the pipeline only.
    X_sample : sequence of str, default=None
        Texts on which the pipeline is compared with the model (labels equal, probabilities or predictions
        within 1e-4); None checks on a few built-in texts.
    check : bool, default=True
        Run that comparison (on the written folder when ``path`` is given).

    Returns
    -------
    model2vec.inference.StaticModelPipeline

    Examples
    --------
    >>> from sklearn_aft.export import to_static_pipeline
    >>> served = to_static_pipeline(clf, "spam-model")  # doctest: +SKIP
    >>> served.predict(["WIN a free prize now"])  # doctest: +SKIP
    array(['spam'], dtype=object)
    """
    from model2vec import StaticModel
    from model2vec.inference import StaticModelPipeline
    from model2vec.inference.mlp import Activation, Layer, MLPHead

    check_is_fitted(model, "net_")
    if not is_static(model):
        raise TypeError(
            f"to_static_pipeline exports the static text student; this {type(model).__name__} has "
            f"{type(model.net_.module_).__name__}: use sklearn_aft.export.to_onnx"
        )
    student: StaticStudent = model.net_.module_
    if student.ngrams is not None:
        raise TypeError(
            "the hybrid static student (module__ngram_buckets > 0) has an n-gram part that a model2vec folder cannot "
            "hold: serve its pickle (trim_for_prediction() first), or fit with module__ngram_buckets=0"
        )
    table = student.embedding.weight.detach().cpu().numpy()[: student.pad_id].astype(np.float32)
    static = StaticModel(
        vectors=table,
        tokenizer=student.tokenizer,
        config={"model_type": "model2vec", "architectures": ["StaticModel"], "hidden_dim": table.shape[1]},
        normalize=True,
        base_model_name=Path(student.source).name,
        max_length=student.max_tokens,
    )
    linears = [m for m in (*student.body, student.head) if isinstance(m, nn.Linear)]
    layers = [Layer(m.weight.detach().cpu().numpy().astype(np.float32), m.bias.detach().cpu().numpy()) for m in linears]
    if hasattr(model, "classes_"):
        head = MLPHead(layers, Activation.SOFTMAX, classes=np.asarray(model.classes_))
    else:  # the student learns standardised targets: the last layer answers in the user's units
        scale, mean = model.target_scale_.astype(np.float32), model.target_mean_.astype(np.float32)
        last = layers[-1]
        layers[-1] = Layer(last.weight * scale[:, None], last.bias * scale + mean)
        head = MLPHead(layers, Activation.IDENTITY)
    served = StaticModelPipeline(static, head)
    if path is not None:
        served.save_pretrained(str(path))
        if check:
            served = StaticModelPipeline.from_pretrained(str(path))
    if check:
        _check_parity(model, served, X_sample)
    return served


_CHECK_TEXTS = ["a fine film", "WIN a free prize now, call 0800 123", "what is the capital of France?", ""]


def _check_parity(model, served, X_sample) -> None:
    texts = list(X_sample) if X_sample is not None else _CHECK_TEXTS
    kwargs = {"use_multiprocessing": False}
    if hasattr(model, "classes_"):
        expected, got = model.predict_proba(texts), served.predict_proba(texts, **kwargs)
        same_labels = np.array_equal(np.asarray(model.predict(texts)), np.asarray(served.predict(texts, **kwargs)))
    else:
        expected, got = model.predict(texts), served.predict(texts, **kwargs)
        same_labels = True
    gap = float(
        np.max(
            np.abs(
                np.asarray(expected, dtype=np.float64).reshape(len(texts), -1) - np.asarray(got).reshape(len(texts), -1)
            )
        )
    )
    if not same_labels or gap > 1e-4:
        raise RuntimeError(
            f"the exported static pipeline differs from the model on the sample texts (largest gap {gap:.2e}, "
            f"labels {'equal' if same_labels else 'differ'}); please report it with the texts"
        )
