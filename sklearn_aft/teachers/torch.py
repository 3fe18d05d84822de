"""Any torch module or Python callable as a teacher."""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples, validate_data

from sklearn_aft._constraints import Integral, Number
from sklearn_aft._weights import load_into, load_state_dict, remap_state_dict, weights_key
from sklearn_aft.registry import register_teacher
from sklearn_aft.teachers.base import BaseTeacher, MixedPrecisionMixin, fingerprint


def import_object(path: str) -> object:
    """``"package.module:attribute"`` (or ``"package.module.attribute"``) to the object it names."""
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ValueError(f"{path!r} is not an importable path such as 'package.module:factory'")
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"could not import {module_name!r} (from {path!r}): {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise ImportError(f"{module_name!r} has no attribute {attr!r} (from {path!r})") from exc
    return obj


@register_teacher("torch")
class TorchEmbedder(MixedPrecisionMixin, BaseTeacher):
    """Any frozen ``nn.Module`` as a teacher: numeric arrays in, its (flattened) outputs as features.

    Parameters
    ----------
    module : nn.Module, nn.Module class, callable or str
        The teacher. Prefer a class, a factory or an importable path (``"package.module:factory"``),
        built with ``module_kwargs`` on first use: the parameter then stays small to clone and pickle.
        An instance is used as it is (and is copied by ``clone``).
    module_kwargs : dict or None, default=None
        Keyword arguments of the class or factory.
    weights : str, path or None, default=None
        A local ``.safetensors`` or torch state-dict file loaded into the built module (torch files with
        ``weights_only=True``). None keeps the module's own weights: a factory is responsible for them.
    key_map : None, "position", dict or callable, default=None
        How the checkpoint's names map onto the module's (see :class:`TimmEmbedder`).
    batch_size : int, default=256
        Rows per forward pass.
    device : "auto", "cpu", "cuda" or torch device string, default="auto"
        Where the module runs; ``"auto"`` uses CUDA when available.
    amp : bool, default=True
        bfloat16 autocast, on CUDA only.
    verbose : int, default=0
        ``>0`` shows a progress bar on inputs of more than four batches.

    Attributes
    ----------
    embedding_dim_ : int
        Width of the features.
    n_features_in_ : int
        Number of input columns (2-D inputs).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from sklearn_aft.teachers import TorchEmbedder
    >>> teacher = TorchEmbedder(torch.nn.Linear, module_kwargs={"in_features": 4, "out_features": 8})
    >>> teacher.fit_transform(np.ones((3, 4))).shape
    (3, 8)
    """

    _parameter_constraints = {**BaseTeacher._parameter_constraints, "amp": ["boolean"]}
    speed_params = ("batch_size", "device", "verbose", "amp")

    def __init__(
        self,
        module,
        *,
        module_kwargs=None,
        weights=None,
        key_map=None,
        batch_size=256,
        device="auto",
        amp=True,
        verbose=0,
    ):
        self.module = module
        self.module_kwargs = module_kwargs
        self.weights = weights
        self.key_map = key_map
        self.batch_size = batch_size
        self.device = device
        self.amp = amp
        self.verbose = verbose

    def _factory(self) -> Callable:
        module = import_object(self.module) if isinstance(self.module, str) else self.module
        if not callable(module):
            raise TypeError(f"module must be an nn.Module, a class, a factory or an importable path; got {module!r}")
        return module

    def model_key(self) -> str:
        model = fingerprint((self._factory(), self.module_kwargs, self.key_map))[0]
        return f"{model}|{weights_key(self.weights)}"

    def _model(self):
        if isinstance(self.module, torch.nn.Module):
            # An instance: used in place on its own device; a copy for another device, kept until pickling.
            cached = self.__dict__.get("_loaded_module")
            if cached is None or cached[0] is not self.module or cached[1] != self._device:
                # a copy: the user's module keeps its weights, mode and device
                cached = (self.module, self._device, self._prepare(copy.deepcopy(self.module)))
                self._loaded_module = cached
            return cached[2]
        return super()._model()

    def _prepare(self, module: torch.nn.Module) -> torch.nn.Module:
        if self.weights is not None:
            state = load_state_dict(self.weights)
            load_into(module, remap_state_dict(state, module.state_dict(), self.key_map))
        return module.to(self._device).eval()

    def load_model(self) -> torch.nn.Module:
        # A fixed seed: a factory that initialises randomly builds the same network in every process.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            module = self._factory()(**(self.module_kwargs or {}))
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"module {self.module!r} built a {type(module).__name__}, not a torch nn.Module")
        return self._prepare(module)

    def validate_input(self, X, reset: bool = False) -> np.ndarray:
        return validate_data(
            self,
            X,
            reset=reset,
            dtype=np.float32,
            allow_nd=True,
            ensure_min_samples=1,
        )

    def embed_batch(self, model, batch: np.ndarray) -> torch.Tensor:
        out = model(torch.from_numpy(np.ascontiguousarray(batch)).to(self._device))
        if isinstance(out, (tuple, list)):
            out = out[0]
        return out.reshape(out.shape[0], -1)


@register_teacher("function")
class FunctionEmbedder(BaseTeacher):
    """Any callable as a teacher: ``func(batch) -> (len(batch), d)`` features.

    Unlike scikit-learn's ``FunctionTransformer`` it calls ``func`` on batches of rows, checks that one
    row of features comes back per input, returns float32, and plugs into the estimators' per-sample
    embedding cache.

    Parameters
    ----------
    func : callable or str
        Called on a batch of inputs (a row slice of X: list, array or DataFrame); an importable path
        ``"package.module:function"`` is imported on use. Module-level functions pickle and cache best.
    kw_args : dict or None, default=None
        Extra keyword arguments of ``func``.
    batch_size : int or None, default=None
        Inputs per call; None passes all of X at once.
    verbose : int, default=0
        ``>0`` shows a progress bar on inputs of more than four batches.

    Attributes
    ----------
    embedding_dim_ : int
        Width of the features (``fit`` calls ``func`` once, on the first input).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aft.teachers import FunctionEmbedder
    >>> FunctionEmbedder(np.sin, batch_size=2).fit_transform(np.zeros((5, 3))).shape
    (5, 3)
    """

    _parameter_constraints = {
        **BaseTeacher._parameter_constraints,
        "batch_size": [Number(Integral, 1, None, closed="left"), None],
    }
    speed_params = ("batch_size", "verbose")

    def __init__(self, func, *, kw_args=None, batch_size=None, verbose=0):
        self.func = func
        self.kw_args = kw_args
        self.batch_size = batch_size
        self.verbose = verbose

    def validate_input(self, X, reset: bool = False):
        if sp.issparse(X):  # COO/DIA/... cannot be row-sliced
            X = X.tocsr()
        elif not hasattr(X, "__len__") and hasattr(X, "__array__"):
            X = np.asarray(X)
        if X is None or isinstance(X, (str, bytes)) or not hasattr(X, "__len__"):
            raise TypeError(f"FunctionEmbedder takes a sequence or array of inputs, got {type(X).__name__}")
        if _num_samples(X) == 0:
            raise ValueError("FunctionEmbedder got empty input (0 samples); give at least one")
        return X

    def embed_inputs(self, inputs) -> np.ndarray:
        func = import_object(self.func) if isinstance(self.func, str) else self.func
        if not callable(func):
            raise TypeError(f"func must be callable or an importable path, got {func!r}")
        n = _num_samples(inputs)
        batch_size = self.batch_size or n
        chunks = []
        for start in self._progress(n, batch_size):
            batch = _safe_indexing(inputs, np.arange(start, min(start + batch_size, n)))
            out = func(batch, **(self.kw_args or {}))
            if isinstance(out, torch.Tensor):
                out = out.detach().float().cpu().numpy()
            out = np.asarray(out, dtype=np.float32)
            if out.ndim == 1 and _num_samples(batch) == out.shape[0]:
                out = out[:, None]
            if out.ndim != 2 or out.shape[0] != _num_samples(batch):
                raise ValueError(
                    f"func returned shape {out.shape} for a batch of {_num_samples(batch)} inputs; it must return "
                    "one row of features per input, (n_inputs, d)"
                )
            chunks.append(out)
        return np.concatenate(chunks)

    def find_embedding_dim(self, inputs) -> int:
        return self.embed_inputs(_safe_indexing(inputs, [0])).shape[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.no_validation = True  # like FunctionTransformer(validate=False): func decides what it accepts
        tags.input_tags.string = True
        tags.input_tags.sparse = True
        return tags
