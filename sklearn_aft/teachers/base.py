"""The common base of teachers: frozen embedders with the scikit-learn transformer API."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import joblib
import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import _num_samples
from tqdm.auto import tqdm

from sklearn_aft._constraints import Integral, Number
from sklearn_aft._device import resolve_device


def fingerprint(value) -> tuple[str, bool]:
    """A hash of a parameter value and whether it is stable across processes.

    Functions (lambdas and closures included) are hashed by their code, defaults and closure values, so
    editing a function's body changes the hash; other values by their pickled content (``joblib.hash``).
    A value that cannot be pickled gets an identity-based hash, valid in this process only.
    """
    code = getattr(value, "__code__", None)
    if code is not None:
        closure = [cell.cell_contents for cell in (value.__closure__ or ())]
        parts = [_code_parts(code), value.__defaults__, value.__kwdefaults__, closure]
        inner = [fingerprint(p) for p in parts]
        name = f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', '')}"
        return joblib.hash((name, [h for h, _ in inner])), all(ok for _, ok in inner)
    if isinstance(value, dict):
        inner = {str(k): fingerprint(v) for k, v in value.items()}
        return joblib.hash({k: h for k, (h, _) in inner.items()}), all(ok for _, ok in inner.values())
    if isinstance(value, list | tuple):
        inner = [fingerprint(v) for v in value]
        return joblib.hash([h for h, _ in inner]), all(ok for _, ok in inner)
    try:
        return joblib.hash(value), True
    except Exception:  # unpicklable (a lambda inside an object, an open handle, ...)
        return f"id:{type(value).__qualname__}:{id(value)}", False


def _code_parts(code) -> tuple:
    consts = tuple(_code_parts(c) if hasattr(c, "co_code") else repr(c) for c in code.co_consts)
    return code.co_code, consts, code.co_names


#: Loaded models shared by every teacher instance (clones included) in this process, least recently
#: used first. Clones made by GridSearchCV then load a model once, and no instance holds weights,
#: so pickles of teachers and of fitted estimators never contain them.
_MODELS: OrderedDict[str, object] = OrderedDict()
_MODELS_LOCK = threading.Lock()
_LOADING: dict[str, threading.Lock] = {}
MAX_SHARED_MODELS = 4


def shared_model(key: str, load: Callable[[], object]) -> object:
    """The model loaded under ``key``, loading it with ``load()`` on first use (once, even from threads).

    At most ``MAX_SHARED_MODELS`` models stay loaded, least recently used dropped first;
    :func:`clear_model_cache` drops them all (e.g. to free GPU memory).
    """
    with _MODELS_LOCK:
        if key in _MODELS:
            _MODELS.move_to_end(key)
            return _MODELS[key]
        loading = _LOADING.setdefault(key, threading.Lock())
    with loading:  # one thread loads; the others wait for it
        with _MODELS_LOCK:
            if key in _MODELS:
                return _MODELS[key]
        model = load()
        with _MODELS_LOCK:
            _MODELS[key] = model
            _LOADING.pop(key, None)
            while len(_MODELS) > MAX_SHARED_MODELS:
                _MODELS.popitem(last=False)
    return model


#: Called by :func:`clear_model_cache`: teacher families register what else holds their models.
ON_CLEAR_MODEL_CACHE: list[Callable[[], None]] = []


def clear_model_cache() -> None:
    """Forget every loaded teacher model (frees their memory; the next use loads again)."""
    with _MODELS_LOCK:
        _MODELS.clear()
    for release in ON_CLEAR_MODEL_CACHE:  # e.g. worker pools holding copies of the models just forgotten
        release()


class BaseTeacher(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of teachers: frozen models that turn raw inputs into float32 features.

    Subclasses hold names and paths as parameters, never a loaded model (scikit-learn's rule: store
    the parameters in ``__init__``, untouched), declare the valid values of their own parameters in
    ``_parameter_constraints`` (merged with these), and implement the hooks below. Models load on first
    use, are shared by identical teachers in the process, run in eval mode under
    ``torch.inference_mode``, and are never pickled. ``fit`` learns nothing: it checks the input and
    records the embedding width, so that ``get_feature_names_out`` works; ``transform`` works without it.

    Hooks a teacher implements (the example plugin, ``examples/plugin``, has all four):

    - ``validate_input(X, reset=False)``: raw X to an indexable sequence of inputs, with clear errors
      (:func:`~sklearn_aft.teachers.check_texts` for texts);
    - ``load_model()``: build or read the frozen model from local files (never download, never random
      weights unless asked);
    - ``embed_batch(model, batch)``: features of one batch, an array or tensor ``(len(batch), d)``; or
      ``embed_inputs(inputs)`` instead, for a library that batches by itself;
    - ``find_embedding_dim(inputs)``: the width ``d`` (by default, one input is embedded).

    Optional: ``model_key()`` (what identifies the loaded model; families with weight files add their
    times and sizes), ``autocast_dtype()`` (mixed precision; :class:`MixedPrecisionMixin` gives it to
    teachers with an ``amp`` parameter) and ``speed_params`` (the parameters that change speed, not the
    features, which the embedding cache ignores).
    """

    _parameter_constraints: dict = {
        "batch_size": [Number(Integral, 1, None, closed="left")],
        "device": [str, torch.device, None],
        "verbose": ["verbose"],
    }
    #: Parameters that change speed or logging, not the features; the embedding cache ignores them.
    speed_params: tuple[str, ...] = ("batch_size", "device", "verbose")

    def fit(self, X, y=None) -> BaseTeacher:
        """Check X and record the embedding width; the teacher itself is frozen.

        Parameters
        ----------
        X : raw inputs (see the class documentation)
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        inputs = self.validate_input(X, reset=True)
        self.embedding_dim_ = self._n_features_out = int(self.find_embedding_dim(inputs))
        return self

    def transform(self, X) -> np.ndarray:
        """Embed X with the frozen model.

        Parameters
        ----------
        X : raw inputs (see the class documentation)

        Returns
        -------
        ndarray of shape (n_samples, embedding_dim), float32
        """
        self._validate_params()
        inputs = self.validate_input(X)
        features = np.asarray(self.embed_inputs(inputs), dtype=np.float32)
        n_samples = _num_samples(inputs)
        if features.ndim != 2 or features.shape[0] != n_samples:
            raise RuntimeError(
                f"{type(self).__name__} produced features of shape {features.shape} for {n_samples} inputs; "
                "expected (n_samples, embedding_dim)"
            )
        return features

    # -- hooks -----------------------------------------------------------------------------------------
    def validate_input(self, X, reset: bool = False) -> Sequence:
        """Raw X as an indexable sequence of inputs; raise a clear error for what the model cannot take."""
        raise NotImplementedError(f"{type(self).__name__} must implement validate_input(X, reset=False)")

    def load_model(self):
        """The frozen model, from local files."""
        raise NotImplementedError(f"{type(self).__name__} must implement load_model()")

    def embed_batch(self, model, batch) -> np.ndarray | torch.Tensor:
        """Features of one batch of inputs, ``(len(batch), d)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement embed_batch(model, batch)")

    def embed_inputs(self, inputs: Sequence) -> np.ndarray:
        """Features of every input: ``embed_batch`` over batches of ``batch_size``, under a progress bar when
        verbose. Override it for a library that batches by itself."""
        model = self._model()
        n = len(inputs)
        chunks = []
        with torch.inference_mode(), self._autocast():
            for start in self._progress(n, self.batch_size):
                out = self.embed_batch(model, inputs[start : start + self.batch_size])
                if isinstance(out, torch.Tensor):
                    out = out.float().cpu().numpy()
                chunks.append(np.asarray(out, dtype=np.float32))
        return np.concatenate(chunks)

    def find_embedding_dim(self, inputs: Sequence) -> int:
        """Width of the features; by default the first input is embedded. Families that know their width
        say so without a forward pass."""
        return self.embed_inputs(inputs[:1]).shape[1]

    def model_key(self) -> str:
        """What identifies the loaded model; families with weight files add their modification time."""
        speed = set(self.speed_params)
        return fingerprint({k: v for k, v in self.get_params(deep=False).items() if k not in speed})[0]

    def autocast_dtype(self) -> torch.dtype | None:
        """The dtype the model runs in under ``torch.autocast``; None runs it in float32."""
        return None

    # -- shared machinery ------------------------------------------------------------------------------
    def _precision(self) -> str:
        """The arithmetic the features come from (part of the embedding cache key)."""
        dtype = self.autocast_dtype()
        return "float32" if dtype is None else str(dtype).removeprefix("torch.")

    @property
    def _device(self) -> str:
        return resolve_device(getattr(self, "device", "cpu"))

    def _model(self):
        cls = type(self)
        return shared_model(f"{cls.__module__}.{cls.__qualname__}|{self.model_key()}|{self._device}", self.load_model)

    def _autocast(self):
        dtype = self.autocast_dtype()
        return torch.autocast("cuda", dtype=dtype, enabled=dtype is not None)

    def _progress(self, n_items: int, batch_size: int):
        """Batch start offsets, under a tqdm bar when verbose and there are more than a few batches."""
        starts = range(0, n_items, batch_size)
        n_batches = len(starts)
        if self.verbose and n_batches > 4:
            return tqdm(starts, total=n_batches, desc=type(self).__name__, unit="batch")
        return starts

    def __getstate__(self):
        state = super().__getstate__()
        return {k: v for k, v in state.items() if not k.startswith("_loaded")}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.non_deterministic = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


class MixedPrecisionMixin:
    """For teachers with an ``amp`` parameter: bfloat16 autocast when it is set and the model is on CUDA.

    On CPU bfloat16 was slower than float32 and less accurate, so it is never used there. Put it before
    :class:`BaseTeacher` in the bases.

    Examples
    --------
    >>> from sklearn_aft.teachers import TorchEmbedder
    >>> TorchEmbedder("torch.nn:Identity", device="cpu", amp=True).autocast_dtype() is None  # CPU: float32
    True
    """

    def autocast_dtype(self) -> torch.dtype | None:
        return torch.bfloat16 if self.amp and self._device.startswith("cuda") else None


def as_1d_sequence(X, *, name: str, kind: str = "inputs") -> Sequence:
    """Raw inputs as a 1-D sequence: a list, 1-D array, Series, or a single-column frame / 2-D array.

    For a teacher's ``validate_input`` (and the static student's texts); errors name the owner (``name``) and what
    it takes (``kind``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aft.teachers import as_1d_sequence
    >>> as_1d_sequence(np.array([["a"], ["b"]]), name="MyTeacher")
    array(['a', 'b'], dtype='<U1')
    """
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:  # pandas DataFrame
        if X.shape[1] != 1:
            raise ValueError(f"{name} takes one column of {kind}; got a DataFrame with {X.shape[1]} columns")
        X = X.iloc[:, 0]
    if hasattr(X, "to_numpy"):  # pandas Series
        X = X.to_numpy()
    if isinstance(X, (str, bytes)):
        raise TypeError(f"{name} takes a sequence of {kind}, got a single {type(X).__name__}; wrap it in a list")
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        elif X.ndim != 1:
            raise ValueError(f"{name} takes a 1-D sequence of {kind}; got an array of shape {X.shape}")
    elif not hasattr(X, "__len__") or not hasattr(X, "__getitem__"):
        raise TypeError(f"{name} takes a sequence of {kind} (list, array, Series), got {type(X).__name__}")
    if len(X) == 0:
        raise ValueError(f"{name} got empty input (0 samples); give at least one")
    return X
