"""Device resolution shared by estimators and teachers."""

from __future__ import annotations

import torch


def resolve_device(device: str | torch.device | None) -> str:
    """``"auto"`` (or None) is CUDA when available, else CPU; anything else is kept as given."""
    if device is None or str(device) == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        build = f"built with CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise ValueError(
            f"device={str(device)!r}, but torch sees no CUDA GPU here (torch {torch.__version__}, {build}; "
            "torch.cuda.is_available() is False). Use device='auto' (CUDA when there is one, else CPU) or 'cpu'"
        )
    return str(device)
