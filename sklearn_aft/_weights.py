"""Loading weight files without running code, and fitting foreign state dicts onto a model.

Used by the timm teacher and the timm student. A ``.pth``/``.pt``/``.bin`` file is read with
``torch.load(weights_only=True)``, which refuses pickled objects that would execute code; a
``.safetensors`` file holds tensors only. Nothing here downloads anything.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path

import torch

KeyMap = None | str | Mapping[str, str] | Callable[[str], str]

_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "module")
_TENSOR_KINDS = {"weight", "bias", "running_mean", "running_var"}


class UnsafeCheckpointError(pickle.UnpicklingError, ValueError):
    """A checkpoint holds pickled objects that would run code when loaded; it was not loaded."""


def load_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a state dict from a local ``.safetensors`` or torch checkpoint file, safely.

    Checkpoints that wrap the state dict (``{"state_dict": ...}``, ``{"model": ...}``) are unwrapped,
    and the ``module.`` prefix of ``DataParallel`` checkpoints is removed.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"weights file {str(path)!r} does not exist. Give the path of a local .safetensors or .pth file "
            "(sklearn-aft never downloads weights), or weights='random' for an untrained model"
        )
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(path), device="cpu")
    else:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            detail = " ".join(str(exc).split("WeightsUnpickler error:")[-1].split())[:300]
            if "Unsupported global" in detail:
                raise UnsafeCheckpointError(
                    f"refused to load {str(path)!r}: it holds pickled objects that would run code when loaded "
                    f"({detail.split('. ')[0]}). Save a plain state dict instead "
                    "(torch.save(model.state_dict(), path)) or convert the file to .safetensors"
                ) from exc
            raise ValueError(f"could not read {str(path)!r} as a torch checkpoint ({detail})") from exc
        except (RuntimeError, EOFError, OSError) as exc:
            raise ValueError(f"could not read {str(path)!r} as a torch checkpoint: {exc}") from exc
    return _unwrap(state, path)


def weights_key(weights) -> str:
    """What identifies a ``weights`` parameter in model and cache keys: the path, modification time and size
    of the file (a file written again is new weights), or the value itself for None and ``"random"``."""
    if weights is None or isinstance(weights, str) and weights == "random":
        return str(weights)
    path = Path(os.fspath(weights)).expanduser()
    stat = path.stat() if path.is_file() else None
    return f"{path}|{stat and (stat.st_mtime_ns, stat.st_size)}"


def _unwrap(state: object, path: Path) -> dict[str, torch.Tensor]:
    while isinstance(state, Mapping):
        inner = next((state[k] for k in _WRAPPER_KEYS if isinstance(state.get(k), Mapping)), None)
        if inner is None or all(isinstance(v, torch.Tensor) for v in state.values()):
            break
        state = inner
    if not isinstance(state, Mapping) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{str(path)!r} does not hold a state dict (a mapping of names to tensors)")
    if all(k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    return dict(state)


def _is_buffer_count(key: str) -> bool:
    return key.endswith("num_batches_tracked")


def remap_state_dict(
    state: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor], key_map: KeyMap
) -> dict[str, torch.Tensor]:
    """Rename the keys of ``state`` to the names of ``target`` (a model's own state dict).

    ``key_map`` is None (names already match), a mapping ``{foreign: ours}``, a callable on names, or
    ``"position"``: the tensors are matched in order (BatchNorm's ``num_batches_tracked`` counters
    skipped on both sides), which is how a checkpoint of the same architecture written by another
    library loads. Extra trailing tensors of ``state`` (a classifier head the target lacks) are dropped;
    any shape that differs is an error naming both tensors.
    """
    if key_map is None:
        return dict(state)
    if callable(key_map):
        return {key_map(k): v for k, v in state.items()}
    if isinstance(key_map, Mapping):
        renamed = [key_map.get(k, k) for k in state]
        clashes = sorted({k for k in renamed if renamed.count(k) > 1})
        if clashes:
            raise ValueError(f"key_map sends several checkpoint tensors to the same name(s): {clashes[:3]}")
        return dict(zip(renamed, state.values()))
    if key_map != "position":
        raise ValueError(f"key_map must be None, 'position', a dict or a callable, got {key_map!r}")
    ours = [(k, v) for k, v in target.items() if not _is_buffer_count(k)]
    theirs = [(k, v) for k, v in state.items() if not _is_buffer_count(k)]
    extra = len(theirs) - len(ours)
    if extra < 0 or extra > 2:
        raise ValueError(
            f"key_map='position' needs the same tensors in the same order: the checkpoint has {len(theirs)} "
            f"tensors and the model {len(ours)} (BatchNorm counters not counted). Is it the same architecture?"
        )
    remapped = {}
    for i, ((our_key, our_value), (their_key, their_value)) in enumerate(zip(ours, theirs)):
        ours_kind, theirs_kind = our_key.rsplit(".", 1)[-1], their_key.rsplit(".", 1)[-1]
        if ours_kind in _TENSOR_KINDS and theirs_kind in _TENSOR_KINDS and ours_kind != theirs_kind:
            # same shape is not enough: a BatchNorm's weight, bias, mean and variance all share one
            raise ValueError(
                f"key_map='position': tensor {i} does not fit: checkpoint {their_key!r} is a {theirs_kind}, "
                f"model {our_key!r} a {ours_kind}; the two orders differ"
            )
        if our_value.shape != their_value.shape:
            raise ValueError(
                f"key_map='position': tensor {i} does not fit: checkpoint {their_key!r} has shape "
                f"{tuple(their_value.shape)}, model {our_key!r} has {tuple(our_value.shape)}"
            )
        remapped[our_key] = their_value
    return remapped


def load_into(model: torch.nn.Module, state: Mapping[str, torch.Tensor], *, ignore_prefixes: tuple = ()) -> None:
    """Load ``state`` into ``model``; every model tensor must be given (BatchNorm counters aside).

    Checkpoint keys under ``ignore_prefixes`` that the model does not have (a classifier head when the
    model is built headless) are dropped; any other unexpected or missing key is an error.
    """
    state = {k: v for k, v in state.items() if not (k.startswith(ignore_prefixes) and k not in model.state_dict())}
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shapes that differ
        raise ValueError(f"the weights do not match the model: {exc}") from exc
    missing = [k for k in missing if not _is_buffer_count(k)]
    if missing or unexpected:
        raise ValueError(
            "the weights do not match the model: "
            + (f"missing {len(missing)} tensor(s) such as {missing[:3]}; " if missing else "")
            + (f"unexpected {len(unexpected)} such as {unexpected[:3]}; " if unexpected else "")
            + "for a checkpoint of the same architecture with other names, pass key_map='position' or a dict"
        )
