"""Static token-embedding tables: read from a model2vec folder, or distilled from a sentence-transformers folder.

A static table is one vector per token of a tokenizer's vocabulary; a text's embedding is the mean of its
tokens' vectors. model2vec's ``distill`` makes one from a sentence-transformers model without data (each
token through the model alone, PCA, Zipf weights baked into the vectors), in about 20 s for all-MiniLM-L6-v2
on 2 CPU cores. It is paid once per (folder, ``pca_dims``): kept in the process, and on disk when a
``memory`` is given (the same ``memory=`` that caches teacher features). Nothing is downloaded.

The tokenisation here is model2vec's ``StaticModel.encode`` step for step (no special tokens, at most
``max_tokens`` tokens after the text is cut at ``max_tokens`` times the vocabulary's median token length,
unknown tokens dropped), so that a student exported as a model2vec folder predicts what it predicted here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np

from sklearn_aft.teachers.cache import cache_location

#: Files that make a folder a sentence-transformers model (to distil) rather than a model2vec table (to read).
_ST_MARKERS = ("modules.json", "config_sentence_transformers.json", "sentence_bert_config.json")
#: Tables distilled or read in this process, by (folder key, pca_dims).
_TABLES: dict[tuple[str, int | None], StaticTable] = {}


@dataclass(frozen=True)
class StaticTable:
    """One vector per token id (float32, ``(vocabulary, dim)``) and the tokenizer (``tokenizers`` JSON)."""

    vectors: np.ndarray
    tokenizer_json: str

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])


def folder_kind(path: Path) -> str:
    """``"model2vec"``, ``"sentence-transformers"``, or a ValueError naming what a source folder must hold."""
    config = path / "config.json"
    if config.is_file():
        try:
            model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type")
        except (ValueError, AttributeError):
            model_type = None
        if model_type == "model2vec":
            return "model2vec"
    if any((path / name).is_file() for name in _ST_MARKERS):
        return "sentence-transformers"
    if (path / "model.safetensors").is_file() and (path / "tokenizer.json").is_file() and not config.is_file():
        return "model2vec"
    raise ValueError(
        f"the static student's source {str(path)!r} is neither a model2vec folder (config.json with "
        "model_type 'model2vec', model.safetensors, tokenizer.json) nor a sentence-transformers folder "
        "(modules.json). Pass module__source=<such a folder>, or a SentenceEmbedder teacher, whose model is "
        "distilled"
    )


def _folder_key(path: Path) -> str:
    # a model saved again into the same folder is a new model: key by its files' names, times and sizes
    stats = sorted((str(f.relative_to(path)), f.stat().st_mtime_ns, f.stat().st_size) for f in path.rglob("*"))
    return f"{path.resolve()}|{joblib.hash(stats)}"


def load_static_table(source, *, pca_dims: int | None = 256, memory=None) -> StaticTable:
    """The static table of ``source``: a model2vec folder read as it is, or a sentence-transformers folder
    distilled with model2vec's ``distill`` (``pca_dims`` components; paid once, then cached).

    Parameters
    ----------
    source : str or path
        A local folder (nothing is downloaded).
    pca_dims : int or None, default=256
        Width of a distilled table (PCA of the teacher's token vectors); None keeps the teacher's width.
        Ignored for a model2vec folder.
    memory : None, str, path or joblib.Memory, default=None
        Where a distilled table is kept on disk, next to the cached teacher features.

    Returns
    -------
    StaticTable
    """
    path = Path(os.fspath(source)).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"the static student's source {str(path)!r} is not a folder. Pass module__source=<a model2vec or "
            "sentence-transformers folder on disk> (sklearn-aft never downloads), or teacher=SentenceEmbedder(), "
            "whose model is distilled"
        )
    kind = folder_kind(path)
    key = (_folder_key(path), pca_dims if kind == "sentence-transformers" else None)
    if key not in _TABLES:
        if kind == "model2vec":
            vectors, tokenizer_json = _read_model2vec(str(path))
        else:
            location = cache_location(memory)
            distil = _distill
            if location is not None:
                distil = joblib.Memory(location.parent / "sklearn_aft_static_tables", verbose=0).cache(_distill)
            vectors, tokenizer_json = distil(str(path), key[0], pca_dims)
        _TABLES[key] = StaticTable(np.asarray(vectors, dtype=np.float32), tokenizer_json)
    return _TABLES[key]


def _read_model2vec(path: str) -> tuple[np.ndarray, str]:
    from model2vec import StaticModel

    model = StaticModel.from_pretrained(path, normalize=True, force_download=False)
    vectors = np.asarray(model.embedding, dtype=np.float32)
    if model.token_mapping is not None:  # a quantised vocabulary: one row per token again
        vectors = vectors[np.asarray(model.token_mapping)]
    if model.weights is not None:
        vectors = vectors * np.asarray(model.weights, dtype=np.float32)[:, None]
    return vectors, model.tokenizer.to_str()


def _distill(path: str, folder_key: str, pca_dims: int | None) -> tuple[np.ndarray, str]:
    """model2vec's data-free distillation of a sentence-transformers folder (``folder_key`` keys the cache)."""
    try:
        from model2vec.distill import distill
    except ImportError as exc:
        raise ImportError(
            "distilling a static table from a sentence-transformers folder needs model2vec's distill extra: "
            "pip install 'model2vec[distill]' (or sklearn-aft[text]); or pass module__source=<a model2vec folder>"
        ) from exc
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers.utils import logging as hf_logging

    from sklearn_aft.teachers.sentence import _quiet_loading

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # transformers' load report of the teacher's checkpoint
    try:
        with _quiet_loading(False), _no_progress_bars():
            model = distill(model_name=path, pca_dims=pca_dims)
    finally:
        hf_logging.set_verbosity(verbosity)
    return np.asarray(model.embedding, dtype=np.float32), model.tokenizer.to_str()


class _no_progress_bars:
    """model2vec's distill shows a tqdm bar over the vocabulary; the package's fits are silent by default."""

    def __enter__(self):
        import tqdm

        self._tqdm = tqdm.tqdm.__init__
        original = self._tqdm

        def quiet(bar, *args, **kwargs):
            kwargs["disable"] = True
            original(bar, *args, **kwargs)

        tqdm.tqdm.__init__ = quiet
        return self

    def __exit__(self, *exc):
        import tqdm

        tqdm.tqdm.__init__ = self._tqdm
        return False
