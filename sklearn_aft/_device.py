"""Device resolution shared by estimators and teachers."""

from __future__ import annotations

import torch


def resolve_device(device: str | torch.device | None) -> str:
    """``"auto"`` (or None) is CUDA when available, else CPU; anything else is kept as given."""
    if device is None or str(device) == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(device)
