"""Image students: any timm architecture, from scratch or from a local checkpoint."""

from __future__ import annotations

import numpy as np
import torch

from sklearn_aft.registry import register_student
from sklearn_aft.students.base import Student


@register_student("timm")
class TimmStudent(Student):
    """A timm network as the student; its pooled pre-logits are the features the transfer term sees.

    Takes image batches as the estimators pass them: uint8 ``(N, H, W, C)`` (values 0-255) or float
    ``(N, C, H, W)`` with values in [0, 1], the same inputs as :class:`~sklearn_aft.teachers.TimmEmbedder`,
    so one X serves both. Images are normalised inside the network and used at their own resolution.

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

    Examples
    --------
    >>> import torch
    >>> from sklearn_aft.students import TimmStudent
    >>> out, feats = TimmStudent(output_dim=10, model_name="test_vit")(torch.rand(2, 3, 32, 32))
    >>> tuple(out.shape), tuple(feats.shape)
    ((2, 10), (2, 64))
    """

    input_ndim = 4

    def __init__(
        self,
        output_dim: int,
        model_name: str = "resnet10t",
        weights=None,
        key_map=None,
        mean=None,
        std=None,
        model_kwargs: dict | None = None,
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
        features = self.model.forward_head(self.model.forward_features(X), pre_logits=True)
        return self.model.get_classifier()(features), features
