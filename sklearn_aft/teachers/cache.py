"""Teacher features computed once per distinct sample: a per-sample embedding cache on disk.

``joblib.Memory`` (and ``Pipeline(memory=...)``) caches whole calls, keyed by all of their input: in
a grid search each cross-validation fold holds other rows, so every fold would run the teacher again.
Here each sample is keyed by a hash of its content and each teacher configuration by a hash of the
parameters that change its output; only samples never seen by that configuration go through the
teacher. The store is a folder of ``.npz`` shards (written atomically, so parallel workers can share
it) inside the ``joblib.Memory`` location or directory the user gives.
"""

from __future__ import annotations

import hashlib
import os
import uuid
import warnings
from pathlib import Path

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples

from sklearn_aft._features import concat_teachers

CACHE_FOLDER = "sklearn_aft_embeddings"


def cache_location(memory) -> Path | None:
    """The folder behind ``memory``: None, a path, or a ``joblib.Memory`` (None when it caches nothing)."""
    if memory is None:
        return None
    if isinstance(memory, joblib.Memory):
        return None if memory.location is None else Path(memory.location)
    if isinstance(memory, str | os.PathLike):
        return Path(memory).expanduser()
    raise TypeError(f"memory must be None, a directory path or a joblib.Memory, got {type(memory).__name__}")


def embed(teacher, X, *, memory=None):
    """Features of X from a fresh clone of ``teacher``, through the per-sample cache when ``memory`` is set.

    A :class:`~sklearn_aft.teachers.TeacherUnion` is embedded teacher by teacher (each with its own
    cache entries) and comes back as :class:`~sklearn_aft.TeacherFeatures` with one block per teacher.
    Teachers that learn from their input (``requires_fit`` tag) are fitted on X and never cached.

    Parameters
    ----------
    teacher : transformer
        The teacher (left untouched: a clone does the work).
    X : raw inputs
        What the teacher embeds.
    memory : None, str, path or joblib.Memory, default=None
        Where the cache lives.

    Returns
    -------
    ndarray or TeacherFeatures of shape (n_samples, d), float32

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from sklearn_aft.teachers import FunctionEmbedder, embed
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     F = embed(FunctionEmbedder(np.cos), np.zeros((3, 2)), memory=folder)
    >>> F.shape
    (3, 2)
    """
    from sklearn_aft.teachers.union import TeacherUnion

    if isinstance(teacher, TeacherUnion):
        return concat_teachers([embed(t, X, memory=memory) for _, t in teacher._checked()])
    teacher = clone(teacher)
    learns = teacher.__sklearn_tags__().requires_fit
    location = cache_location(memory)
    key = None if (location is None or learns) else _teacher_key(teacher)
    if learns and location is not None:
        warnings.warn(f"{type(teacher).__name__} learns from its input (requires_fit): its features are not cached")
    if key is None:
        return np.asarray(teacher.fit_transform(X) if learns else teacher.transform(X), dtype=np.float32)
    return _cached_transform(teacher, X, location / CACHE_FOLDER / key)


def _teacher_key(teacher) -> str | None:
    speed = set(getattr(teacher, "_speed_params", ()))
    params = {k: v for k, v in teacher.get_params(deep=False).items() if k not in speed}
    model_key = teacher._model_key() if hasattr(teacher, "_model_key") else None  # weights files' mtime, size
    try:
        return joblib.hash((type(teacher).__module__, type(teacher).__qualname__, params, model_key))
    except Exception as exc:  # e.g. a lambda as a parameter: cannot be keyed
        warnings.warn(f"teacher features are not cached: the teacher's parameters cannot be hashed ({exc})")
        return None


def _cached_transform(teacher, X, folder: Path) -> np.ndarray:
    if sp.issparse(X):
        X = X.tocsr()  # row-sliceable
    paths_are_files = not teacher.__sklearn_tags__().input_tags.string
    keys = sample_keys(X, paths_are_files=paths_are_files)
    store = _load_store(folder)
    first_index: dict[str, int] = {}
    for i, k in enumerate(keys):
        if k not in store and k not in first_index:
            first_index[k] = i
    if first_index:
        missing = np.fromiter(first_index.values(), dtype=np.intp, count=len(first_index))
        features = np.asarray(teacher.transform(_safe_indexing(X, missing)), dtype=np.float32)
        _write_shard(folder, list(first_index), features)
        store.update(zip(first_index, features))
    return np.stack([store[k] for k in keys]).astype(np.float32, copy=False)


# -- per-sample keys -------------------------------------------------------------------------------------
def _digest(*parts: bytes) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part)
    return h.hexdigest()


def sample_keys(X, *, paths_are_files: bool = False) -> list[str]:
    """A content hash per sample of X (rows of arrays/sparse/frames, items of sequences).

    With ``paths_are_files``, strings and paths that name existing files are keyed by path, modification
    time and size, so an edited image is embedded again.
    """
    if hasattr(X, "detach"):  # torch tensor
        X = X.detach().cpu().numpy()
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        head = f"csr|{X.dtype.str}|{X.shape[1]}".encode()
        return [
            _digest(head, X.indices[a:b].tobytes(), X.data[a:b].tobytes()) for a, b in zip(X.indptr[:-1], X.indptr[1:])
        ]
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:  # DataFrame: each row's values, column names included
        head = repr((list(X.columns), [str(t) for t in X.dtypes])).encode()
        return [_digest(head, repr(tuple(row)).encode()) for row in X.itertuples(index=False, name=None)]
    if isinstance(X, np.ndarray) and X.dtype != object:
        rows = np.ascontiguousarray(X).reshape(X.shape[0], -1)
        head = f"{X.dtype.str}|{X.shape[1:]}".encode()
        return [_digest(head, row.tobytes()) for row in rows]
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    return [_item_key(item, paths_are_files) for item in (X[i] for i in range(_num_samples(X)))]


def _item_key(item, paths_are_files: bool) -> str:
    if isinstance(item, str | os.PathLike) and (paths_are_files or isinstance(item, os.PathLike)):
        path = Path(item)
        if path.is_file():
            stat = path.stat()
            return _digest(f"file|{path.resolve()}|{stat.st_mtime_ns}|{stat.st_size}".encode())
    if isinstance(item, str):
        return _digest(b"str|", item.encode("utf-8", "surrogatepass"))
    if isinstance(item, bytes):
        return _digest(b"bytes|", item)
    if isinstance(item, np.ndarray) and item.dtype != object:
        return _digest(f"{item.dtype.str}|{item.shape}".encode(), np.ascontiguousarray(item).tobytes())
    if hasattr(item, "tobytes") and hasattr(item, "mode") and hasattr(item, "size"):  # PIL image
        return _digest(f"pil|{item.mode}|{item.size}".encode(), item.tobytes())
    return _digest(b"obj|", joblib.hash(item).encode())


# -- the store ---------------------------------------------------------------------------------------------
# Shards already read in this process, per folder: re-reading a growing folder only opens the new files.
_STORES: dict[Path, tuple[set[str], dict[str, np.ndarray]]] = {}


def _load_store(folder: Path) -> dict[str, np.ndarray]:
    seen, store = _STORES.setdefault(folder, (set(), {}))
    if folder.is_dir():
        for shard in sorted(folder.glob("*.npz")):
            if shard.name in seen:
                continue
            try:
                with np.load(shard, allow_pickle=False) as data:
                    store.update(zip(data["keys"].tolist(), data["values"]))
            except (OSError, ValueError, KeyError) as exc:  # a damaged shard is recomputed, not fatal
                warnings.warn(f"ignoring unreadable embedding cache file {shard}: {exc}")
            seen.add(shard.name)
    return store


def _write_shard(folder: Path, keys: list[str], features: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}.npz"
    tmp = folder / f".{name}.tmp"
    with open(tmp, "wb") as f:
        np.savez(f, keys=np.asarray(keys, dtype="U32"), values=features)
    os.replace(tmp, folder / name)  # readers never see a half-written shard
    _STORES.setdefault(folder, (set(), {}))[0].add(name)
