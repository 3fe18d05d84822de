"""Students without an ONNX operator form (timm, a user's module): ``torch.onnx.export`` of the student alone."""

from __future__ import annotations

import io

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from sklearn_aft._classifier import AFTClassifier
from sklearn_aft.export._converters import TARGET_OPSET, OnnxExportError, _labels_for_onnx


class _Served(nn.Module):
    """The student with the estimator's prediction head: class index and probabilities, or predictions."""

    def __init__(self, module: nn.Module, classify: bool, scale=None, mean=None) -> None:
        super().__init__()
        self.module, self.classify = module, classify
        if not classify:
            self.register_buffer("scale", torch.as_tensor(np.ravel(scale), dtype=torch.float32))
            self.register_buffer("mean", torch.as_tensor(np.ravel(mean), dtype=torch.float32))

    def forward(self, x):
        out = self.module(x)[0].float()
        if not self.classify:
            return out * self.scale + self.mean
        return out.argmax(dim=1), torch.softmax(out, dim=1)


def _export_torch_student(model, X_sample, opset: int = TARGET_OPSET):
    if X_sample is None:
        raise ValueError(
            f"to_onnx needs X_sample for {type(model.net_.module_).__name__}: torch.onnx.export traces the student "
            "on a few input rows"
        )
    module = model.net_.module_
    X = model._validate_X(X_sample, reset=False, student=module)
    # the rows as the student takes them (uint8 images stay uint8): the graph takes the same layout and dtype
    x = torch.from_numpy(np.ascontiguousarray(X[:2]))
    if len(x) < 2:
        x = x.repeat(2, *([1] * (x.ndim - 1)))
    classify = isinstance(model, AFTClassifier)
    served = _Served(module, classify, getattr(model, "target_scale_", None), getattr(model, "target_mean_", None))
    device = next(iter([*module.parameters(), *module.buffers()]), torch.empty(0)).device
    served = served.to("cpu").eval()  # moves the fitted student too: put back in `finally`
    outputs = ["class_index", "probabilities"] if classify else ["variable"]
    buffer = io.BytesIO()
    was_training = module.training
    try:
        with torch.no_grad():
            torch.onnx.export(
                served,
                (x,),
                buffer,
                input_names=["input"],
                output_names=outputs,
                dynamic_axes={"input": {0: "N"}, **{name: {0: "N"} for name in outputs}},
                opset_version=opset,
                dynamo=False,
            )
    except Exception as error:  # torch raises many kinds; the user needs to know which student failed
        raise OnnxExportError(
            f"torch.onnx.export could not export the student {type(module).__name__}: {error}"
        ) from error
    finally:
        module.to(device).train(was_training)
    onx = onnx.load_model_from_string(buffer.getvalue())
    if classify:
        _append_labels(onx, _labels_for_onnx(model.classes_))
    return onx


def _append_labels(onx, labels: np.ndarray) -> None:
    """Map the exported class index to the estimator's labels, as output ``label`` (first, as skl2onnx)."""
    graph = onx.graph
    if labels.dtype == object:
        tensor = helper.make_tensor("classes", TensorProto.STRING, [len(labels)], [s.encode("utf-8") for s in labels])
        elem = TensorProto.STRING
    else:
        tensor = numpy_helper.from_array(labels, name="classes")
        elem = TensorProto.INT64
    graph.initializer.append(tensor)
    graph.node.append(helper.make_node("Gather", ["classes", "class_index"], ["label"], axis=0, name="labels"))
    index_output = next(o for o in graph.output if o.name == "class_index")
    graph.output.remove(index_output)
    graph.output.insert(0, helper.make_tensor_value_info("label", elem, ["N"]))
