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
import shutil
import uuid
import warnings
from pathlib import Path

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.utils import _safe_indexing, get_tags
from sklearn.utils.validation import _num_samples

from sklearn_aft._features import concat_teachers

#: Where the embeddings live inside a cache directory: next to joblib.Memory's own entries, so that
#: ``joblib.Memory(directory).clear()`` removes them too.
CACHE_FOLDER = Path("joblib") / "sklearn_aft_embeddings"


def cache_location(memory) -> Path | None:
    """The embedding folder behind ``memory``: None, a path, or a ``joblib.Memory`` (None: no caching)."""
    if memory is None:
        return None
    if isinstance(memory, joblib.Memory):
        return None if memory.location is None else Path(memory.location) / CACHE_FOLDER
    if isinstance(memory, str | os.PathLike):
        return Path(memory).expanduser() / CACHE_FOLDER
    raise TypeError(f"memory must be None, a directory path or a joblib.Memory, got {type(memory).__name__}")


def clear_embedding_cache(memory) -> None:
    """Delete every cached teacher feature under ``memory`` (a directory or a ``joblib.Memory``).

    ``joblib.Memory(directory).clear()`` does the same, along with joblib's own entries.
    """
    location = cache_location(memory)
    if location is not None:
        shutil.rmtree(location, ignore_errors=True)
        for folder in [f for f in _STORES if location in f.parents]:
            del _STORES[folder]


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
    tags = get_tags(teacher)
    location = cache_location(memory)
    key = None if (location is None or tags.requires_fit) else _teacher_key(teacher)
    if tags.requires_fit and location is not None:
        warnings.warn(f"{type(teacher).__name__} learns from its input (requires_fit): its features are not cached")
    if key is not None:
        if sp.issparse(X):
            X = X.tocsr()  # row-sliceable
        keys = sample_keys(X, paths_are_files=not tags.input_tags.string)
        if keys is not None:
            return _cached_transform(teacher, X, keys, location / key)
    return np.asarray(teacher.fit_transform(X) if tags.requires_fit else teacher.transform(X), dtype=np.float32)


def _teacher_key(teacher) -> str | None:
    from sklearn_aft.teachers.base import fingerprint

    speed = set(getattr(teacher, "speed_params", ()))
    params = {k: v for k, v in teacher.get_params(deep=False).items() if k not in speed}
    try:
        model_key = teacher.model_key() if hasattr(teacher, "model_key") else None  # weights' mtime, size
        precision = teacher._precision() if hasattr(teacher, "_precision") else None  # bfloat16 on CUDA
        value, stable = fingerprint((type(teacher).__module__, type(teacher).__qualname__, params))
    except Exception as exc:
        warnings.warn(f"teacher features are not cached: the teacher could not be identified ({exc})")
        return None
    if not stable:
        warnings.warn(
            f"teacher features are not cached: a parameter of {type(teacher).__name__} cannot be hashed across "
            "processes (e.g. an object holding a lambda); use module-level functions and picklable values"
        )
        return None
    return joblib.hash((value, model_key, precision))


def _cached_transform(teacher, X, keys: list[str], folder: Path) -> np.ndarray:
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


def sample_keys(X, *, paths_are_files: bool = False) -> list[str] | None:
    """A content hash per sample of X (rows of arrays/sparse/frames, items of sequences); None when some
    sample cannot be hashed (the features are then computed without the cache).

    With ``paths_are_files``, strings and paths that name existing files are keyed by path, modification
    time and size, so an edited image is embedded again.
    """
    if hasattr(X, "detach"):  # torch tensor
        X = X.detach().cpu().numpy()
    if sp.issparse(X):
        X = sp.csr_matrix(X, copy=True)
        X.sum_duplicates()  # one canonical form per matrix: sorted, no duplicate entries
        head = f"csr|{X.dtype.str}|{X.shape[1]}".encode()
        return [
            _digest(head, f"|{b - a}|".encode(), X.indices[a:b].astype(np.int64).tobytes(), X.data[a:b].tobytes())
            for a, b in zip(X.indptr[:-1], X.indptr[1:])
        ]
    if hasattr(X, "iloc") and getattr(X, "ndim", 1) == 2:  # DataFrame: column names and dtypes, then the values
        head = joblib.hash((list(map(str, X.columns)), [str(t) for t in X.dtypes])).encode()
        if all(t.kind in "biuf" for t in X.dtypes):
            rows = np.ascontiguousarray(X.to_numpy())
            return [_digest(head, row.tobytes()) for row in rows]
        try:
            return [
                _digest(head, *(_item_key(v, paths_are_files).encode() for v in row))
                for row in X.itertuples(index=False, name=None)
            ]
        except _Unhashable:
            return None
    if isinstance(X, np.ndarray) and X.dtype != object:
        rows = np.ascontiguousarray(X).reshape(X.shape[0], -1)
        head = f"{X.dtype.str}|{X.shape[1:]}".encode()
        return [_digest(head, row.tobytes()) for row in rows]
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    try:
        return [_item_key(item, paths_are_files) for item in (X[i] for i in range(_num_samples(X)))]
    except _Unhashable:
        return None


class _Unhashable(Exception):
    pass


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a text too long for a file name, or with a NUL byte
        return False


def _item_key(item, paths_are_files: bool) -> str:
    if isinstance(item, str | os.PathLike) and (paths_are_files or isinstance(item, os.PathLike)):
        path = Path(item)
        if _is_file(path):
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
    try:
        return _digest(b"obj|", joblib.hash(item).encode())  # pickled content, never a repr
    except Exception as exc:
        raise _Unhashable from exc


# -- the store ---------------------------------------------------------------------------------------------
# Shards already read in this process, per folder: re-reading a growing folder only opens the new files.
_STORES: dict[Path, tuple[set[str], dict[str, np.ndarray]]] = {}


def _load_store(folder: Path) -> dict[str, np.ndarray]:
    shards = sorted(folder.glob("*.npz")) if folder.is_dir() else []
    seen, store = _STORES.setdefault(folder, (set(), {}))
    if not seen.issubset(s.name for s in shards):  # shards were deleted: forget what they held
        seen, store = _STORES[folder] = (set(), {})
    if shards:
        for shard in shards:
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
