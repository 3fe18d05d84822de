"""Serving the student without torch: ONNX graphs of fitted estimators and of whole pipelines.

Importing this module registers converters for :class:`~sklearn_aft.AFTClassifier` and
:class:`~sklearn_aft.AFTRegressor` with skl2onnx (``update_registered_converter``), so a fitted student joins
any pipeline that skl2onnx converts (``TfidfVectorizer``, scalers, ``ColumnTransformer``) and the whole
pipeline becomes one graph that onnxruntime runs with neither torch, skorch nor the teacher installed.

The built-in students are written as ONNX operators from their weights: the linear student is one ``Gemm``,
the MLP a ``Gemm`` and an activation per layer (dropout is the identity at prediction). Any other torch
student (timm, a user's module) is exported alone by :func:`to_onnx` through ``torch.onnx.export``; inside a
pipeline it is refused with a message that says so.

Outputs follow skl2onnx's conventions: a classifier gives ``label`` and ``probabilities`` (a list of
``{class: probability}`` maps unless ``options={id(model): {"zipmap": False}}``; ``nocl`` as for
scikit-learn's classifiers), a regressor gives ``variable`` of shape ``(n_samples, n_outputs)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

try:
    from onnx import TensorProto, helper
    from skl2onnx import to_onnx as _skl2onnx_to_onnx
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sklearn_aft.export needs onnx and skl2onnx (pip install 'sklearn-aft[onnx]'); serving needs only "
        "onnxruntime and numpy"
    ) from error

from sklearn_aft._classifier import AFTClassifier
from sklearn_aft._regressor import AFTRegressor
from sklearn_aft.export._converters import TARGET_OPSET, OnnxExportError, student_layers
from sklearn_aft.export._static import is_static, to_static_pipeline
from sklearn_aft.export._tables import column_feed, frame_types, is_frame, prune_unused_inputs
from sklearn_aft.export._text import (
    _VECTORIZERS,
    TEXT_LOCALE,
    UNICODE_TOKENS,
    _find_steps,
    _text_options,
    mend_text_graph,
    text_mismatch_hint,
)
from sklearn_aft.export._torch import _export_torch_student

__all__ = [
    "TARGET_OPSET",
    "TEXT_LOCALE",
    "UNICODE_TOKENS",
    "OnnxExportError",
    "guess_initial_types",
    "input_feed",
    "student_layers",
    "to_onnx",
    "to_static_pipeline",
]


def _final_step(model):
    """The estimator at the end of a pipeline, or the model itself."""
    return model.steps[-1][1] if isinstance(model, Pipeline) else model


def to_onnx(
    model,
    X_sample=None,
    path: str | Path | None = None,
    *,
    initial_types=None,
    options: dict | None = None,
    target_opset: int = TARGET_OPSET,
    check: bool = True,
):
    """Write a fitted estimator, or a pipeline that ends in one, as one ONNX graph.

    Parameters
    ----------
    model : AFTClassifier, AFTRegressor or Pipeline
        Fitted. A pipeline converts as a whole through skl2onnx: every step needs a skl2onnx converter, and
        the student must be a built-in one (``"linear"`` or ``"mlp"``). An estimator alone with any other torch
        student is exported with ``torch.onnx.export``.
    X_sample : array-like, sparse matrix or DataFrame, default=None
        A few rows of the model's input, from which the input types are guessed (strings for text, one input
        per column of a DataFrame), and on which the graph is checked. None: :func:`guess_initial_types`,
        and no check. Required for a torch student (the export traces it on these rows). A DataFrame gives
        one ``(n, 1)`` input per column that the model reads, named as the column: text and category columns
        (pandas ``str``, ``string``, ``category``, object) as strings, float and boolean columns as float32,
        integer columns as int64; :func:`input_feed` casts a frame so for onnxruntime.
    path : str or Path, default=None
        Where to write the ``.onnx`` file; None returns the model only.
    initial_types : list of (name, type), default=None
        skl2onnx's input declaration, e.g. ``[("text", StringTensorType([None, 1]))]``.
    options : dict, default=None
        skl2onnx's converter options, e.g. ``{id(clf): {"zipmap": False}}``.
    target_opset : int, default=17
        The ONNX opset.
    check : bool, default=True
        Run the graph with onnxruntime (when installed) on ``X_sample`` and compare it with the model's own
        predictions: labels equal, probabilities within 1e-4, regression within 1e-4 relative. A graph that
        differs (e.g. a tokenizer or a locale that does not lower-case some letters) raises.

    Returns
    -------
    onnx.ModelProto

    Raises
    ------
    OnnxExportError
        Naming the step that cannot be converted, or the student that torch cannot export.
    sklearn.exceptions.NotFittedError
        If the model is not fitted.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aft import AFTClassifier
    >>> from sklearn_aft.export import to_onnx
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 5)).astype(np.float32)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = AFTClassifier(transfer="none", random_state=0).fit(X, y)
    >>> onx = to_onnx(clf, X[:2], options={id(clf): {"zipmap": False}})
    >>> [o.name for o in onx.graph.output]
    ['label', 'probabilities']
    """
    final = _final_step(model)
    if isinstance(final, (AFTClassifier, AFTRegressor)):
        check_is_fitted(final, "net_")
        if is_static(final):
            raise OnnxExportError(
                "the static text student is served as a model2vec folder, not ONNX (its tokenizer is part of it): "
                "sklearn_aft.export.to_static_pipeline(model, folder), or `sklearn-aft export model.joblib folder`; "
                "load it with model2vec.inference.StaticModelPipeline.from_pretrained(folder), numpy only"
            )
    # The model's own predictions on the sample, first: bad rows (NaN, another width, no rows) get the model's
    # error rather than onnxruntime's, and the check below compares against them.
    expected = None if X_sample is None or not hasattr(model, "predict") else model.predict(X_sample)
    if isinstance(model, (AFTClassifier, AFTRegressor)) and student_layers(model.net_.module_) is None:
        onx = _export_torch_student(model, X_sample, target_opset)
    else:
        if X_sample is None and initial_types is None:
            initial_types = guess_initial_types(model)
        if hasattr(X_sample, "toarray"):  # sparse: the graph takes the rows dense
            X_sample = X_sample.toarray()
        X_sample = _texts_as_objects(X_sample)
        from_frame = initial_types is None and is_frame(X_sample)
        if from_frame:  # typed here: skl2onnx fails on pandas' string dtypes, onnxruntime on float64 imputers
            initial_types = frame_types(_model_columns(model, X_sample))
        try:
            onx = _skl2onnx_to_onnx(
                model,
                None if initial_types is not None else X_sample,
                initial_types=initial_types,
                options=_text_options(model, options),
                target_opset=target_opset,
            )
        except OnnxExportError:
            raise
        except RuntimeError as error:
            if "Unable to find" in str(error):  # skl2onnx's words for a model without a converter
                step = _unconvertible_step(model)
                raise OnnxExportError(
                    f"skl2onnx has no converter for step {step}: register one with "
                    f"skl2onnx.update_registered_converter, or run that step outside the graph ({error})"
                ) from error
            raise
        if from_frame:
            prune_unused_inputs(onx)
    mend_text_graph(onx, model)
    if check and X_sample is not None:
        _check_parity(model, onx, X_sample, expected, options)
    if path is not None:
        Path(path).write_bytes(onx.SerializeToString())
    return onx


def guess_initial_types(model) -> list:
    """skl2onnx's input declaration for a fitted model without a sample: one string column for a pipeline
    that starts with a text vectoriser, ``n_features_in_`` floats otherwise. Raises ``ValueError`` when neither
    tells (a ``ColumnTransformer`` on a DataFrame, an image student): pass rows of the input instead."""
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    first = model.steps[0][1] if isinstance(model, Pipeline) else model
    if isinstance(first, (CountVectorizer, TfidfVectorizer)):
        return [("text", StringTensorType([None, 1]))]
    n_features = getattr(first, "n_features_in_", None)
    if n_features is None or hasattr(first, "feature_names_in_"):
        raise ValueError(
            f"cannot tell the input of {type(first).__name__} without a sample (DataFrame columns, images or an "
            "unknown width): pass a few rows of the input (X_sample, or --sample for the command line)"
        )
    return [("X", FloatTensorType([None, int(n_features)]))]


def input_feed(onx, X) -> dict:
    """The onnxruntime inputs of ``onx`` for the rows of X: one array for a single input (strings as a
    column of objects, numbers as float32 or int64), one column per input for a DataFrame.

    A DataFrame's columns are cast as the graph's inputs are typed (see :func:`to_onnx`): a ``(n, 1)`` array
    of Python strings per text or category column (pandas ``str``, ``string``, ``category`` or object;
    missing values become ``""``), of float32 per float column (missing values stay NaN), of int64 per
    integer column. Columns that the graph does not take are left out.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aft import AFTClassifier
    >>> from sklearn_aft.export import input_feed, to_onnx
    >>> X = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    >>> clf = AFTClassifier(transfer="none", random_state=0).fit(X, (X[:, 0] > 0).astype(int))
    >>> feed = input_feed(to_onnx(clf, X[:2]), X[:5])
    >>> {name: value.shape for name, value in feed.items()}
    {'X': (5, 3)}
    """
    inputs = list(onx.graph.input)
    kinds = {i.name: i.type.tensor_type.elem_type for i in inputs}

    def cast(values, name):
        values = np.asarray(values)
        if kinds[name] == TensorProto.STRING:
            return values.astype(object)
        return values.astype(helper.tensor_dtype_to_np_dtype(kinds[name]))

    if is_frame(X) and (len(inputs) > 1 or inputs[0].name in X.columns):
        missing = [i.name for i in inputs if i.name not in X.columns]
        if missing:
            raise ValueError(f"the graph takes the columns {sorted(kinds)}; the DataFrame lacks {missing}")
        return {i.name: column_feed(X[i.name], kinds[i.name]) for i in inputs}
    if len(inputs) != 1:
        raise ValueError(f"the graph takes {len(inputs)} inputs {sorted(kinds)}; pass a DataFrame with those columns")
    name = inputs[0].name
    if hasattr(X, "toarray"):
        X = X.toarray()
    X = np.asarray(X)
    rank = len(inputs[0].type.tensor_type.shape.dim)
    if rank == 1 and X.ndim == 2 and X.shape[1] == 1:
        X = X.ravel()
    elif rank == 2 and X.ndim == 1:  # a column of texts
        X = X.reshape(-1, 1)
    return {name: cast(X, name)}


def _check_parity(model, onx, X_sample, expected, options: dict | None = None) -> None:
    try:
        import onnxruntime as ort
    except ImportError:  # nothing to check with; the graph is still valid ONNX
        return
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    outputs = session.run(None, input_feed(onx, X_sample))
    if expected is None:  # a transformer alone (e.g. a vectoriser): the graph ran, nothing to compare
        return
    final = _final_step(model)
    what = type(final).__name__
    if is_classifier(final):
        labels = np.asarray(outputs[0]).ravel()
        expected = np.asarray(expected).ravel()
        if labels.dtype.kind in "iu" and expected.dtype.kind not in "iu":  # nocl: class indices
            labels = np.asarray(final.classes_)[np.clip(labels, 0, len(final.classes_) - 1)]
        same = labels == expected if expected.dtype.kind in "iubf" else labels.astype(str) == expected.astype(str)
        if not np.all(same):
            differ = int(np.sum(~same))
            raise OnnxExportError(
                f"the ONNX graph of {what} predicts other labels than the model on {differ} of {len(expected)} "
                f"sample rows{_why(model, X_sample, options)}"
            )
        if len(outputs) == 2 and hasattr(model, "predict_proba"):  # zipmap="columns": one output per class
            proba = outputs[1]
            if isinstance(proba, list):  # ZipMap: one {class: probability} map per row
                proba = np.array([[row[c] for c in row] for row in proba])
            gap = float(np.max(np.abs(np.asarray(proba) - model.predict_proba(X_sample))))
            if gap > 1e-4:
                raise OnnxExportError(
                    f"the ONNX graph's probabilities differ from {what}'s by up to {gap:.2e} (more than 1e-4)"
                    f"{_why(model, X_sample, options)}"
                )
    else:
        got = np.asarray(outputs[0], dtype=np.float64).reshape(len(np.asarray(outputs[0])), -1)
        expected = np.asarray(expected, dtype=np.float64).reshape(got.shape)
        gap = float(np.max(np.abs(got - expected) / np.maximum(np.abs(expected), 1.0)))
        if gap > 1e-4:
            raise OnnxExportError(
                f"the ONNX graph's predictions differ from {what}'s by up to {gap:.2e} (relative; more than 1e-4)"
                f"{_why(model, X_sample, options)}"
            )


def _why(model, X_sample, options: dict | None) -> str:
    """The likely cause of a difference, for the error message: what a text vectoriser's graph does otherwise
    with the sample's texts and the option that changes it."""
    if not _find_steps(model, _VECTORIZERS):
        return ""
    hint = text_mismatch_hint(model, X_sample, options)
    if hint:
        return f"; likely cause: {hint}"
    return (
        "; a text vectoriser's tokenizer or lower-casing may differ from Python's on these rows (see TEXT_LOCALE "
        "and UNICODE_TOKENS in sklearn_aft.export; compare to_onnx(vectorizer, texts) with vectorizer.transform)"
    )


def _texts_as_objects(X):
    """A list, a fixed-width unicode array or a pandas Series of texts as an object array, the form skl2onnx
    reads as strings (it refuses pandas 3's string arrays)."""
    if isinstance(X, (list, tuple)) and X and isinstance(X[0], str):
        return np.asarray(X, dtype=object)
    if isinstance(X, np.ndarray) and X.dtype.kind == "U":
        return X.astype(object)
    if not isinstance(X, np.ndarray) and not is_frame(X) and getattr(getattr(X, "dtype", None), "kind", "f") in "OSU":
        return np.asarray(X, dtype=object)  # a Series of pandas' str or string dtype
    return X


def _model_columns(model, frame):
    """The sample frame's columns that the model was fitted on (all of them when it does not say)."""
    first = model.steps[0][1] if isinstance(model, Pipeline) else model
    names = getattr(first, "feature_names_in_", None)
    if names is None:
        return frame
    absent = [c for c in names if c not in frame.columns]
    if absent:
        raise ValueError(f"X_sample lacks the columns {absent} that {type(first).__name__} was fitted on")
    return frame[list(names)]


def _unconvertible_step(model) -> str:
    from skl2onnx._supported_operators import sklearn_operator_name_map

    steps = model.steps if isinstance(model, Pipeline) else [(type(model).__name__, model)]
    for name, step in steps:
        if step not in ("passthrough", None) and type(step) not in sklearn_operator_name_map:
            if isinstance(step, Pipeline):
                return f"{name!r} ({_unconvertible_step(step)})"
            return f"{name!r} ({type(step).__name__})"
    return "(unknown)"
