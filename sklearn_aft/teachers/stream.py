"""Teacher features for more rows than fit in memory: streamed to a ``.npy`` file, resumable.

The per-sample cache (:mod:`sklearn_aft.teachers.cache`) keeps every embedding in memory once loaded;
at millions of rows the features belong in one file that the estimators read as a memory map. This
module embeds the inputs chunk by chunk into a ``.npy`` file opened as a memory map, and records after
each chunk how many rows are finished (the rows are flushed to disk first), so an interrupted run
resumes where it stopped instead of embedding everything again.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.utils import _safe_indexing, get_tags
from tqdm.auto import tqdm

from sklearn_aft._constraints import Integral, Number, validate_params
from sklearn_aft._features import TeacherFeatures
from sklearn_aft.teachers.cache import _teacher_key


def _progress_path(path: Path) -> Path:
    return path.with_name(path.name + ".progress.json")


def _write_progress(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)  # atomic: a crash leaves the old or the new record, never half of one


def _chunks(X, n_samples: int, start: int, chunk_size: int):
    """Yield ``(offset, inputs)`` from row ``start`` on: slices of a sequence, or pieces of an iterator."""
    if hasattr(X, "__len__") and hasattr(X, "__getitem__"):
        for offset in range(start, n_samples, chunk_size):
            yield offset, _safe_indexing(X, np.arange(offset, min(offset + chunk_size, n_samples)))
        return
    iterator = iter(X)
    for _ in itertools.islice(iterator, start):  # finished rows: read past them, embed nothing
        pass
    for offset in range(start, n_samples, chunk_size):
        chunk = list(itertools.islice(iterator, min(chunk_size, n_samples - offset)))
        if len(chunk) < min(chunk_size, n_samples - offset):
            raise ValueError(f"X ran out after {offset + len(chunk)} items; n_samples says {n_samples}")
        yield offset, chunk


@validate_params(
    {
        "path": [str, os.PathLike],
        "n_samples": [Number(Integral, 1, None, closed="left"), None],
        "chunk_size": [Number(Integral, 1, None, closed="left")],
        "overwrite": ["boolean"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def embed_to_file(
    teacher,
    X,
    path: str | os.PathLike,
    *,
    n_samples: int | None = None,
    chunk_size: int = 4096,
    overwrite: bool = False,
    verbose: bool = False,
) -> np.memmap:
    """Embed X with ``teacher`` into a ``.npy`` file, chunk by chunk; resume an interrupted run.

    Rows are written to a float32 ``.npy`` file opened as a memory map, one chunk at a time, so neither
    the inputs nor the features need to fit in memory. After every chunk the file is flushed and
    ``<path>.progress.json`` records how many rows are done and which teacher configuration made them.
    Calling again with the same teacher and inputs continues after the last finished chunk (a finished
    file is returned at once); a different teacher configuration or row count is refused unless
    ``overwrite=True``. The result is the file opened read-only as a memory map, ready to be passed as
    ``teacher_features`` without being copied into memory.

    Parameters
    ----------
    teacher : transformer
        The teacher (a clone does the work). Teachers that learn from their input (``requires_fit``
        tag) cannot be streamed: they would have to see every row first.
    X : sequence or iterable of raw inputs
        Anything the teacher's ``transform`` takes, sliceable by rows (list, ndarray, memory map,
        DataFrame), or any iterable of single inputs (e.g. a generator reading a large file line by line)
        together with ``n_samples``.
    path : str or path-like
        The ``.npy`` file to write.
    n_samples : int, default=None
        Number of inputs; required when X has no length.
    chunk_size : int, default=4096
        Rows embedded and written per step; also the amount of work an interruption can lose.
    overwrite : bool, default=False
        Start afresh even when the file holds rows of another teacher configuration or row count.
    verbose : bool, default=False
        Show a progress bar over the rows.

    Returns
    -------
    features : numpy.memmap of shape (n_samples, d), float32, read-only
        A :class:`~sklearn_aft.TeacherFeatures` view of it when the teacher is a
        :class:`~sklearn_aft.teachers.TeacherUnion` (so the blocks of each teacher are kept).

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from pathlib import Path
    >>> from sklearn_aft.teachers import FunctionEmbedder, embed_to_file
    >>> path = Path(tempfile.mkdtemp()) / "features.npy"
    >>> F = embed_to_file(FunctionEmbedder(np.tanh), np.ones((10, 3)), path, chunk_size=4)
    >>> F.shape, type(F).__name__
    ((10, 3), 'memmap')
    """
    if get_tags(teacher).requires_fit:
        raise TypeError(
            f"{type(teacher).__name__} learns from its input (requires_fit), so it cannot embed a stream: "
            "fit it first and wrap the fitted model in a FunctionEmbedder, or use embed()"
        )
    if n_samples is None:
        if not hasattr(X, "__len__"):
            raise TypeError("X has no length: pass n_samples= when X is an iterator or a generator")
        n_samples = X.shape[0] if hasattr(X, "shape") else len(X)
    n_samples = int(n_samples)
    if n_samples < 1:
        raise ValueError("X holds no inputs to embed")
    path = Path(path)
    if path.suffix != ".npy":
        raise ValueError(f"path must end in .npy (the features are a NumPy file), got {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    teacher = clone(teacher)
    key = _teacher_key(teacher)
    progress_file = _progress_path(path)
    state = json.loads(progress_file.read_text()) if progress_file.exists() and not overwrite else None
    if state is not None:
        if key is None:
            raise ValueError(
                f"{path} holds unfinished features, but this teacher cannot be identified across runs (see the "
                "warning above), so they may not be its own; pass overwrite=True to start again"
            )
        if state.get("teacher") != key or state.get("n_samples") != n_samples:
            raise ValueError(
                f"{path} holds features of another teacher configuration or row count "
                f"({state.get('n_samples')} rows); pass overwrite=True to start again, or another path"
            )
        start = int(state["done"])
        if start >= n_samples:  # finished earlier
            return _open_result(path, state)
        out = np.load(path, mmap_mode="r+")
    else:
        start, out = 0, None
    bar = tqdm(total=n_samples, initial=start, desc=f"embedding into {path.name}", unit="row", disable=not verbose)
    try:
        for offset, inputs in _chunks(X, n_samples, start, int(chunk_size)):
            features = teacher.transform(inputs)
            if out is None:  # the width is known once the first chunk is embedded
                out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n_samples, features.shape[1]))
                blocks = list(getattr(features, "blocks", None) or [features.shape[1]])
                state = {"teacher": key, "n_samples": n_samples, "done": 0, "blocks": blocks}
            if features.shape != (len(inputs), out.shape[1]):
                raise RuntimeError(
                    f"{type(teacher).__name__} gave features of shape {features.shape} for {len(inputs)} inputs; "
                    f"expected ({len(inputs)}, {out.shape[1]})"
                )
            out[offset : offset + len(inputs)] = features
            out.flush()  # the rows reach the disk before the record says they are done
            state["done"] = offset + len(inputs)
            _write_progress(progress_file, state)
            bar.update(len(inputs))
    finally:
        bar.close()
        del out  # close the writable map before the read-only one is opened
    return _open_result(path, state)


def _open_result(path: Path, state: dict) -> np.memmap:
    result = np.load(path, mmap_mode="r")
    blocks = tuple(state["blocks"])
    if len(blocks) > 1:  # several teachers: keep each one's columns
        result = result.view(TeacherFeatures)
        result.blocks = blocks
    return result
