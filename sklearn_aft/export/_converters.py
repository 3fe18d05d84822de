"""skl2onnx converters of the estimators: the built-in students written as ONNX operators from their weights."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto
from skl2onnx import update_registered_converter
from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType
from skl2onnx.common.utils_classifier import get_label_classes
from sklearn.utils.validation import check_is_fitted
from torch import nn

from sklearn_aft._classifier import AFTClassifier
from sklearn_aft._regressor import AFTRegressor
from sklearn_aft.students.linear import Linear
from sklearn_aft.students.mlp import MLP

#: ONNX opset of the graphs written here (onnxruntime >= 1.17 runs it).
TARGET_OPSET = 17
_ACTIVATION_OPS = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.SiLU: "silu", nn.GELU: "gelu"}


class OnnxExportError(ValueError):
    """A model, or a step of a pipeline, that cannot be written as an ONNX graph; the message names it."""


# -- the student as a list of layers -----------------------------------------------------------------------
def student_layers(module: nn.Module) -> list[tuple] | None:
    """The student as ``[("gemm", W, b), ("relu" | "tanh" | "silu" | "gelu" | "gelu_tanh",), ...]`` in
    prediction mode, or None when it is not a built-in student that these operators describe.

    Subclasses of the built-in students are described only if they keep the built-in ``forward``.
    """

    def gemm(layer: nn.Linear):
        weight = layer.weight.detach().cpu().numpy().astype(np.float32)
        bias = (
            layer.bias.detach().cpu().numpy().astype(np.float32)
            if layer.bias is not None
            else np.zeros(weight.shape[0], np.float32)
        )
        return ("gemm", weight, bias)

    if isinstance(module, Linear) and type(module).forward is Linear.forward:
        return [gemm(module.linear)]
    if not (isinstance(module, MLP) and type(module).forward is MLP.forward):
        return None
    layers = []
    for part in [*module.body, module.dropout, module.head]:
        if isinstance(part, nn.Linear):
            layers.append(gemm(part))
        elif isinstance(part, nn.Dropout):
            continue  # the identity at prediction
        elif type(part) in _ACTIVATION_OPS:
            name = _ACTIVATION_OPS[type(part)]
            if name == "gelu" and getattr(part, "approximate", "none") == "tanh":
                name = "gelu_tanh"
            layers.append((name,))
        else:
            return None
    return layers


# -- skl2onnx shape calculators and converters -----------------------------------------------------------
def _class_labels(scope, model) -> np.ndarray:
    return _labels_for_onnx(get_label_classes(scope, model))


def _labels_for_onnx(classes) -> np.ndarray:
    """ONNX labels are int64 or strings: integers, booleans and (integral, as scikit-learn requires of
    classes) floats become int64, anything else its text."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "iubf":
        return classes.astype(np.int64)
    return np.array([str(c) for c in classes], dtype=object)


def _shape_classifier(operator) -> None:
    model = operator.raw_operator
    n = operator.inputs[0].get_first_dimension()
    labels = _class_labels(operator.scope_inst, model)
    label_type = StringTensorType if labels.dtype == object else Int64TensorType
    operator.outputs[0].type = label_type(shape=[n])
    operator.outputs[1].type = FloatTensorType(shape=[n, len(model.classes_)])


def _shape_regressor(operator) -> None:
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType(shape=[n, int(operator.raw_operator.n_outputs_)])


def _layers_or_raise(model) -> list[tuple]:
    check_is_fitted(model, "net_")
    layers = student_layers(model.net_.module_)
    if layers is None:
        raise OnnxExportError(
            f"{type(model).__name__}'s student {type(model.net_.module_).__name__} has no ONNX operator form "
            "inside a pipeline (only the built-in 'linear' and 'mlp' students do). Export the estimator alone "
            "with sklearn_aft.export.to_onnx(estimator, X_sample), which goes through torch.onnx.export, and "
            "run the steps before it outside the graph"
        )
    return layers


def _emit_student(scope, container, model, input_name: str) -> str:
    """Add the student's operators; returns the name of its raw outputs (logits, or scaled predictions)."""
    layers = _layers_or_raise(model)
    name = scope.get_unique_variable_name("student_input")
    container.add_node("Cast", input_name, name, to=TensorProto.FLOAT, name=scope.get_unique_operator_name("Cast"))
    for layer in layers:
        kind, out = layer[0], scope.get_unique_variable_name(f"student_{layer[0]}")
        op_name = scope.get_unique_operator_name(kind)
        if kind == "gemm":
            w, b = scope.get_unique_variable_name("W"), scope.get_unique_variable_name("b")
            container.add_initializer(w, TensorProto.FLOAT, layer[1].shape, layer[1].ravel().tolist())
            container.add_initializer(b, TensorProto.FLOAT, layer[2].shape, layer[2].ravel().tolist())
            container.add_node("Gemm", [name, w, b], out, transB=1, name=op_name)
        elif kind == "relu":
            container.add_node("Relu", name, out, name=op_name)
        elif kind == "tanh":
            container.add_node("Tanh", name, out, name=op_name)
        elif kind == "silu":
            sig = scope.get_unique_variable_name("sigmoid")
            container.add_node("Sigmoid", name, sig, name=op_name)
            container.add_node("Mul", [name, sig], out, name=scope.get_unique_operator_name("Mul"))
        else:  # GELU, exact (erf) or tanh-approximated, from elementary operators (Gelu is opset 20)
            out = _emit_gelu(scope, container, name, out, tanh=kind == "gelu_tanh")
        name = out
    return name


def _constant(scope, container, value: float) -> str:
    name = scope.get_unique_variable_name("c")
    container.add_initializer(name, TensorProto.FLOAT, [], [float(value)])
    return name


def _emit_gelu(scope, container, x: str, out: str, tanh: bool) -> str:
    def node(op, inputs):
        result = scope.get_unique_variable_name(op.lower())
        container.add_node(op, inputs, result, name=scope.get_unique_operator_name(op))
        return result

    if tanh:  # 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
        cube = node("Mul", [node("Mul", [x, x]), x])
        inner = node("Add", [x, node("Mul", [cube, _constant(scope, container, 0.044715)])])
        core = node("Tanh", [node("Mul", [inner, _constant(scope, container, float(np.sqrt(2 / np.pi)))])])
    else:  # 0.5 x (1 + erf(x / sqrt(2)))
        core = node("Erf", [node("Mul", [x, _constant(scope, container, float(1 / np.sqrt(2)))])])
    half_x = node("Mul", [x, _constant(scope, container, 0.5)])
    container.add_node(
        "Mul",
        [half_x, node("Add", [core, _constant(scope, container, 1.0)])],
        out,
        name=scope.get_unique_operator_name("Mul"),
    )
    return out


def _convert_classifier(scope, operator, container) -> None:
    model = operator.raw_operator
    logits = _emit_student(scope, container, model, operator.inputs[0].full_name)
    container.add_node(
        "Softmax", logits, operator.outputs[1].full_name, axis=1, name=scope.get_unique_operator_name("Softmax")
    )
    index = scope.get_unique_variable_name("class_index")
    container.add_node("ArgMax", logits, index, axis=1, keepdims=0, name=scope.get_unique_operator_name("ArgMax"))
    labels = _class_labels(scope, model)
    classes = scope.get_unique_variable_name("classes")
    if labels.dtype == object:
        container.add_initializer(classes, TensorProto.STRING, [len(labels)], [s.encode("utf-8") for s in labels])
    else:
        container.add_initializer(classes, TensorProto.INT64, [len(labels)], labels.tolist())
    container.add_node(
        "Gather", [classes, index], operator.outputs[0].full_name, axis=0, name=scope.get_unique_operator_name("Gather")
    )


def _convert_regressor(scope, operator, container) -> None:
    model = operator.raw_operator
    raw = _emit_student(scope, container, model, operator.inputs[0].full_name)
    # the student learns standardised targets: back to the targets' scale
    scale, mean = scope.get_unique_variable_name("target_scale"), scope.get_unique_variable_name("target_mean")
    container.add_initializer(scale, TensorProto.FLOAT, [model.n_outputs_], np.ravel(model.target_scale_).tolist())
    container.add_initializer(mean, TensorProto.FLOAT, [model.n_outputs_], np.ravel(model.target_mean_).tolist())
    scaled = scope.get_unique_variable_name("scaled")
    container.add_node("Mul", [raw, scale], scaled, name=scope.get_unique_operator_name("Mul"))
    container.add_node("Add", [scaled, mean], operator.outputs[0].full_name, name=scope.get_unique_operator_name("Add"))


update_registered_converter(
    AFTClassifier,
    "SklearnAFTClassifier",
    _shape_classifier,
    _convert_classifier,
    options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
)
update_registered_converter(AFTRegressor, "SklearnAFTRegressor", _shape_regressor, _convert_regressor)
