"""Teacher features as the estimators receive them: one array, or one block per teacher."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.utils import check_array


class TeacherFeatures(np.ndarray):
    """A 2-D float32 array of concatenated teacher features that remembers its per-teacher blocks.

    Row indexing keeps the blocks, so several teachers survive scikit-learn's per-fold slicing of
    ``teacher_features`` in ``GridSearchCV``/``cross_validate`` (a plain list of arrays would not be
    sliced). Build one with :func:`concat_teachers`.

    Attributes
    ----------
    blocks : tuple of int
        Width of each teacher's block, in column order.
    """

    blocks: tuple[int, ...]

    def __array_finalize__(self, obj) -> None:
        self.blocks = getattr(obj, "blocks", (self.shape[-1],) if self.ndim else ())

    def __reduce__(self):
        constructor, args, state = super().__reduce__()
        return constructor, args, (state, self.blocks)

    def __setstate__(self, state) -> None:
        array_state, self.blocks = state
        super().__setstate__(array_state)


def concat_teachers(features: Sequence) -> TeacherFeatures:
    """Concatenate several teachers' features column-wise, keeping the blocks.

    Parameters
    ----------
    features : sequence of array-like of shape (n_samples, d_i)
        One feature matrix per teacher, rows aligned.

    Returns
    -------
    TeacherFeatures of shape (n_samples, sum(d_i))

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aft import concat_teachers
    >>> F = concat_teachers([np.ones((5, 3)), np.zeros((5, 2))])
    >>> F.shape, F.blocks, F[[0, 2]].blocks
    ((5, 5), (3, 2), (3, 2))
    """
    blocks = [_check_block(f, f"teacher_features[{i}]") for i, f in enumerate(features)]
    if not blocks:
        raise ValueError("teacher_features is an empty list; give at least one teacher's features")
    lengths = {b.shape[0] for b in blocks}
    if len(lengths) > 1:
        raise ValueError(f"teacher feature blocks have different numbers of rows: {[b.shape[0] for b in blocks]}")
    out = np.hstack(blocks).view(TeacherFeatures)
    out.blocks = tuple(b.shape[1] for b in blocks)
    return out


def _check_block(features, name: str) -> np.ndarray:
    ndim = np.ndim(features) if not hasattr(features, "ndim") else features.ndim
    if ndim != 2:
        shape = getattr(features, "shape", None) or np.shape(features)
        hint = " (one feature per row: reshape(-1, 1))" if ndim == 1 else ""
        raise ValueError(
            f"{name} must be a 2D array of shape (n_samples, n_features); got {ndim}-D with shape {tuple(shape)}{hint}"
        )
    try:
        return check_array(features, dtype=np.float32, ensure_all_finite=True, input_name=name, ensure_min_samples=1)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from exc


def validate_teacher_features(features, n_samples: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """Check teacher features against the student input; return (float32 array, block widths)."""
    if isinstance(features, (list, tuple)):
        features = concat_teachers(features)
    blocks = getattr(features, "blocks", None)
    array = np.asarray(_check_block(features, "teacher_features"))
    if blocks is None or sum(blocks) != array.shape[1]:
        blocks = (array.shape[1],)
    if array.shape[0] != n_samples:
        raise ValueError(
            f"teacher_features has {array.shape[0]} rows but X has {n_samples}: give one row of teacher "
            "features per row of X, in the same order"
        )
    return array, tuple(int(b) for b in blocks)
