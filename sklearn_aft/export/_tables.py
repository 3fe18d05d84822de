"""Tables in the graph: DataFrame columns as typed ONNX inputs, and ``SimpleImputer(add_indicator=True)``.

skl2onnx 1.20 guesses one input per DataFrame column from its dtype, and it fails on pandas 3's string
columns (``NotImplementedError: Unsupported type ...StringArray``); a float64 column becomes a double input
that onnxruntime's ``Imputer`` does not implement (``NOT_IMPLEMENTED ... Imputer(1)``). :func:`frame_types`
declares the inputs itself, from the sample frame's dtypes: text and categories as strings, floats as
float32, integers as int64; :func:`column_feed` casts a frame's column the same way when the graph runs.
skl2onnx's ``SimpleImputer`` converter ignores ``add_indicator`` (the next step's shape then fails); the one
registered here appends the missing-value indicator columns.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from onnx import TensorProto
from skl2onnx import update_registered_converter
from skl2onnx.common._registration import get_converter, get_shape_calculator
from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType
from sklearn.impute import SimpleImputer

from sklearn_aft.export._converters import OnnxExportError


def is_frame(X) -> bool:
    """Whether X is a DataFrame (pandas or anything with ``columns`` and ``dtypes``)."""
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "__getitem__")


def _column_kind(column) -> str:
    """``"string"``, ``"float"`` or ``"int"``: how a column enters the graph."""
    kind = getattr(column.dtype, "kind", "O")
    if kind in "fb":
        return "float"
    if kind in "iu":
        return "int"
    if kind == "O":  # object: numbers (e.g. after ``frame.astype(object)``) stay numbers
        values = [v for v in np.asarray(column, dtype=object).ravel() if not _missing(v)]
        if values and all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in values):
            return "float"
    return "string"  # object, pandas' str / string / category dtypes


def frame_types(frame) -> list:
    """skl2onnx's input declaration for a DataFrame: one ``[None, 1]`` input per column, named as the column.

    Text and category columns (object, pandas ``str``, ``string`` and ``category`` dtypes) are string tensors,
    float and boolean columns float32 (onnxruntime's ``Imputer`` and ``Scaler`` take float32, not float64),
    as are object columns that hold numbers only; integer columns are int64.
    """
    types = {"string": StringTensorType, "float": FloatTensorType, "int": Int64TensorType}
    return [(str(name), types[_column_kind(frame[name])]([None, 1])) for name in frame.columns]


def column_feed(values, elem_type: int) -> np.ndarray:
    """One column as the graph's input of ``elem_type`` takes it: a ``(n, 1)`` array of Python strings
    (missing values as ``""``), of float32 (missing values as NaN) or of int64."""
    if elem_type == TensorProto.STRING:
        column = np.asarray(values, dtype=object).ravel()
        column = np.array([v if isinstance(v, str) else ("" if _missing(v) else str(v)) for v in column], dtype=object)
    elif elem_type == TensorProto.INT64:
        column = np.asarray(values).astype(np.int64).ravel()
    else:
        column = values.to_numpy(dtype=np.float64, na_value=np.nan) if hasattr(values, "to_numpy") else values
        column = np.asarray(column, dtype=np.float64).astype(np.float32).ravel()
    return column.reshape(-1, 1)


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, pandas.NA
    except TypeError:  # pandas.NA compares to NA
        return True


def prune_unused_inputs(onx) -> None:
    """Drop the graph inputs that no node reads (columns of the sample frame that the model ignores), in place,
    so that serving needs only the columns the model uses."""
    graph = onx.graph
    read = {name for node in graph.node for name in node.input}
    read |= {o.name for o in graph.output}
    for unused in [i for i in graph.input if i.name not in read]:
        graph.input.remove(unused)


# -- SimpleImputer(add_indicator=True) ----------------------------------------------------------------------
_IMPUTER = "SklearnSimpleImputer"
_imputer_shape = get_shape_calculator(_IMPUTER)
_imputer_converter = get_converter(_IMPUTER)


def _indicator_columns(imputer) -> np.ndarray:
    indicator = getattr(imputer, "indicator_", None) if getattr(imputer, "add_indicator", False) else None
    return np.asarray([] if indicator is None else indicator.features_, dtype=np.int64)


class _OutputRenamed:
    """The operator, its output written under another name: skl2onnx's converter fills an intermediate."""

    def __init__(self, operator, name: str) -> None:
        self._operator = operator
        self.outputs = [SimpleNamespace(full_name=name, type=operator.outputs[0].type)]

    def __getattr__(self, attr):
        return getattr(self._operator, attr)


def _shape_imputer(operator) -> None:
    _imputer_shape(operator)
    extra = len(_indicator_columns(operator.raw_operator))
    shape = operator.outputs[0].type.shape
    if extra and shape[1] is not None:
        operator.outputs[0].type.shape = [shape[0], shape[1] + extra]


def _convert_imputer(scope, operator, container) -> None:
    """skl2onnx's converter, then ``[imputed, x[:, features_] is missing]`` as scikit-learn concatenates them."""
    imputer = operator.raw_operator
    features = _indicator_columns(imputer)
    if not len(features):
        _imputer_converter(scope, operator, container)
        return
    if isinstance(operator.inputs[0].type, StringTensorType):
        raise OnnxExportError(
            "SimpleImputer(add_indicator=True) on string columns has no ONNX converter: impute them with "
            "add_indicator=False, or add the indicator as a column of the table"
        )
    output = operator.outputs[0].full_name
    imputed = scope.get_unique_variable_name("imputed")
    _imputer_converter(scope, _OutputRenamed(operator, imputed), container)
    names = [v.full_name for v in operator.inputs]
    x = names[0]
    if len(names) > 1:
        x = scope.get_unique_variable_name("imputer_input")
        container.add_node("Concat", names, x, axis=1, name=scope.get_unique_operator_name("Concat"))
    index = scope.get_unique_variable_name("indicator_features")
    container.add_initializer(index, TensorProto.INT64, [len(features)], features.tolist())
    picked = scope.get_unique_variable_name("indicator_input")
    container.add_node("Gather", [x, index], picked, axis=1, name=scope.get_unique_operator_name("Gather"))
    flags = scope.get_unique_variable_name("indicator_flags")
    missing = imputer.missing_values
    if _missing(missing) or (isinstance(missing, str) and missing == "NaN"):
        container.add_node("IsNaN", picked, flags, name=scope.get_unique_operator_name("IsNaN"))
    else:
        value = scope.get_unique_variable_name("missing_value")
        integer = isinstance(operator.inputs[0].type, Int64TensorType)
        container.add_initializer(value, TensorProto.INT64 if integer else TensorProto.FLOAT, [], [missing])
        container.add_node("Equal", [picked, value], flags, name=scope.get_unique_operator_name("Equal"))
    integer_out = isinstance(operator.outputs[0].type, Int64TensorType)
    indicator = scope.get_unique_variable_name("indicator")
    to = TensorProto.INT64 if integer_out else TensorProto.FLOAT
    container.add_node("Cast", flags, indicator, to=to, name=scope.get_unique_operator_name("Cast"))
    container.add_node("Concat", [imputed, indicator], output, axis=1, name=scope.get_unique_operator_name("Concat"))


update_registered_converter(SimpleImputer, _IMPUTER, _shape_imputer, _convert_imputer)
