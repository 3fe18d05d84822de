"""Image students: any timm architecture, from scratch or fine-tuned from a local checkpoint."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sklearn_aft._constraints import Choices, Integral, Number
from sklearn_aft.registry import register_student
from sklearn_aft.students.base import Student


@register_student("timm")
class TimmStudent(Student):
    """A timm network as the student; its pooled pre-logits are the features the transfer term sees.

    Takes image batches as the estimators pass them: uint8 ``(N, H, W, C)`` (values 0-255) or float
    ``(N, C, H, W)`` with values in [0, 1], the same inputs as :class:`~sklearn_aft.teachers.TimmEmbedder`,
    so one X serves both. Images are normalised inside the network, and resized to ``image_size`` if given.

    Fine-tuning a pretrained network (the setting of Adaptive Feature Transfer): give ``weights``, a fresh
    head is built for ``output_dim``; ``freeze`` fixes the first layer groups and ``batchnorm="eval"`` keeps
    the pretrained BatchNorm statistics. A lower learning rate for the body than for the head is an
    ``optimizer__param_groups`` entry of the estimator, matched against parameter names, which all start with
    ``model.``; the head's are ``model.<head>.*``, ``<head>`` being timm's ``pretrained_cfg["classifier"]``
    (``classifier`` for EfficientNets, ``fc`` for ResNets), e.g.
    ``lr=1e-4, optimizer__param_groups=[("model.classifier.*", {"lr": 1e-3})]`` (``docs/teachers.md``).

    Parameters
    ----------
    output_dim : int
        Number of outputs (classes or regression targets). The estimators set it from the data.
    model_name : str, default="resnet10t"
        A timm architecture name (e.g. ``"resnet10t"``, ``"mobilenetv3_small_050"``, ``"test_vit"``).
    weights : str, path or None, default=None
        None trains from scratch (``pretrained=False``). A local ``.safetensors``/``.pth`` checkpoint
        starts from its weights (its classifier head is replaced by a new one for ``output_dim``).
    key_map : None, "position", dict or callable, default=None
        How the checkpoint's names map onto timm's (see :class:`~sklearn_aft.teachers.TimmEmbedder`).
    mean, std : sequence of 3 floats or None, default=None
        Input normalisation; None uses the architecture's pretrained config (ImageNet statistics).
    model_kwargs : dict or None, default=None
        Extra arguments of ``timm.create_model`` (e.g. ``{"drop_rate": 0.2}``).
    image_size : int or None, default=None
        Resize the (normalised) input to ``image_size`` x ``image_size`` pixels, bilinearly, inside the
        network; None uses the images as they come. Upsampling small images brings their objects closer to
        the scale a pretrained network was trained on, at a cost (64 px has 4x the pixels of CIFAR's 32).
    freeze : int, default=0
        How many leading layer groups to freeze, in timm's coarse grouping (``model.group_matcher(coarse=True)``:
        for EfficientNets the stem, then each of the 7 stages): their parameters get no gradient and their
        BatchNorm layers keep their statistics (timm's ``freeze``, which swaps in frozen BatchNorm layers). The
        head is never frozen. Freezing the early, high-resolution stages also makes a step cheaper.
    batchnorm : {"train", "eval"}, default="train"
        ``"train"``: BatchNorm layers that are not frozen update their statistics on each batch, as in
        ordinary training. ``"eval"``: they keep the pretrained statistics (their scale and shift still
        learn), which helps with small batches or a training set unlike the pretraining images.

    Attributes
    ----------
    n_layer_groups : int
        Number of layer groups ``freeze`` counts (the head included, which cannot be frozen).

    Examples
    --------
    >>> import torch
    >>> from sklearn_aft.students import TimmStudent
    >>> out, feats = TimmStudent(output_dim=10, model_name="test_vit")(torch.rand(2, 3, 32, 32))
    >>> tuple(out.shape), tuple(feats.shape)
    ((2, 10), (2, 64))
    """

    input_ndim = 4
    parameter_constraints = {
        "image_size": [Number(Integral, 1, None, closed="left"), None],
        "freeze": [Number(Integral, 0, None, closed="left")],
        "batchnorm": [Choices(str, {"train", "eval"})],
    }

    def __init__(
        self,
        output_dim: int,
        model_name: str = "resnet10t",
        weights=None,
        key_map=None,
        mean=None,
        std=None,
        model_kwargs: dict | None = None,
        image_size: int | None = None,
        freeze: int = 0,
        batchnorm: str = "train",
    ) -> None:
        super().__init__()
        from sklearn_aft._timm import build_timm_model, import_timm

        timm = import_timm()
        weights = "random" if weights is None else weights  # a student may start from scratch: it is trained
        self.model = build_timm_model(model_name, weights, key_map, 0, model_kwargs, "TimmStudent")
        self.model.reset_classifier(int(output_dim))
        config = timm.data.resolve_model_data_config(self.model)
        self.in_chans = int(config["input_size"][0])
        shape = (1, -1, 1, 1)
        mean = config["mean"] if mean is None else mean
        std = config["std"] if std is None else std
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).reshape(shape))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32).reshape(shape))
        self.feature_dim = int(getattr(self.model, "head_hidden_size", None) or self.model.num_features)
        self.image_size = image_size
        self.batchnorm = batchnorm
        self.n_layer_groups = len(_layer_groups(self.model))
        if freeze:
            self._freeze(int(freeze))

    def _freeze(self, n_groups: int) -> None:
        from timm.utils.model import freeze

        groups = _layer_groups(self.model)
        if n_groups >= len(groups):
            raise ValueError(
                f"TimmStudent: freeze={n_groups} would freeze the head too; {type(self.model).__name__} has "
                f"{len(groups)} layer groups, the last holding the head, so freeze must be below {len(groups)}"
            )
        names = [name for group in groups[:n_groups] for name in group]
        freeze(self.model, names, include_bn_running_stats=True)

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and self.batchnorm == "eval":  # pretrained statistics: every BatchNorm stays in eval mode
            for module in self.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        return self

    @staticmethod
    def prepare_input(X: np.ndarray) -> np.ndarray:
        """Check image arrays as the estimators pass them: uint8 ``(N, H, W, C)`` or ``(N, H, W)``, or float
        ``(N, C, H, W)`` in [0, 1] (the same rules as :class:`~sklearn_aft.teachers.TimmEmbedder`)."""
        from sklearn_aft._timm import check_image_array

        return check_image_array(X, "TimmStudent")

    def forward(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if X.dtype == torch.uint8:  # (N, H, W, C) 0-255, as images are stored
            X = X.permute(0, 3, 1, 2).float().div(255)
        if X.shape[1] == 1 and self.in_chans == 3:
            X = X.expand(-1, 3, -1, -1)
        X = (X - self.mean) / self.std
        if self.image_size is not None and tuple(X.shape[-2:]) != (self.image_size, self.image_size):
            X = F.interpolate(X, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False)
        features = self.model.forward_head(self.model.forward_features(X), pre_logits=True)
        return self.model.get_classifier()(features), features


def _layer_groups(model: nn.Module) -> list[list[str]]:
    """The model's module names in timm's coarse layer groups, input side first (the head last)."""
    from timm.models import group_modules

    grouped = group_modules(model, model.group_matcher(coarse=True))
    return [grouped[key] for key in sorted(grouped)]
