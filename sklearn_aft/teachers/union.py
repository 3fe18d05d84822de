"""Several teachers at once, their features side by side with per-teacher blocks."""

from __future__ import annotations

import numpy as np
from sklearn.base import TransformerMixin, clone
from sklearn.pipeline import _name_estimators
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import check_is_fitted

from sklearn_aft._features import TeacherFeatures, concat_teachers


class TeacherUnion(TransformerMixin, _BaseComposition):
    """Concatenate several teachers' features, keeping each teacher's block of columns.

    The output is a :class:`~sklearn_aft.TeacherFeatures` array whose ``blocks`` give each teacher's
    width, so AFT weights and reports teachers separately, also after cross-validation slicing.
    Nested parameters address a teacher by name: ``minilm__batch_size``.

    Parameters
    ----------
    teachers : list of (str, teacher) tuples
        Named teachers (any transformers; usually :mod:`sklearn_aft.teachers` embedders of the same
        raw inputs). See :func:`make_teacher_union` to name them automatically.

    Attributes
    ----------
    blocks_ : tuple of int
        Width of each teacher's block, in order (set by ``fit``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aft.teachers import FunctionEmbedder, TeacherUnion
    >>> union = TeacherUnion([("sin", FunctionEmbedder(np.sin)), ("cos", FunctionEmbedder(np.cos))])
    >>> F = union.fit_transform(np.zeros((4, 2)))
    >>> F.shape, F.blocks, union.get_feature_names_out()[:3].tolist()
    ((4, 4), (2, 2), ['sin__functionembedder0', 'sin__functionembedder1', 'cos__functionembedder0'])
    """

    def __init__(self, teachers):
        self.teachers = teachers

    def get_params(self, deep: bool = True) -> dict:
        return self._get_params("teachers", deep=deep)

    def set_params(self, **params) -> TeacherUnion:
        self._set_params("teachers", **params)
        return self

    def _checked(self) -> list[tuple[str, object]]:
        teachers = list(self.teachers)
        if not teachers:
            raise ValueError("TeacherUnion needs at least one teacher")
        if not all(isinstance(t, tuple) and len(t) == 2 for t in teachers):
            raise TypeError("TeacherUnion takes (name, teacher) tuples; make_teacher_union(*teachers) names them")
        self._validate_names([name for name, _ in teachers])
        return teachers

    def fit(self, X, y=None) -> TeacherUnion:
        """Fit every teacher (a no-op for frozen teachers) and record their widths."""
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None) -> TeacherFeatures:
        """Fit every teacher, then return their concatenated features."""
        self.teachers_ = [(name, clone(t).fit(X, y)) for name, t in self._checked()]
        features = self._stack([t.transform(X) for _, t in self.teachers_])
        self.blocks_ = features.blocks
        return features

    def transform(self, X) -> TeacherFeatures:
        """Concatenated features of every teacher, as :class:`~sklearn_aft.TeacherFeatures`."""
        teachers = getattr(self, "teachers_", None) or self._checked()
        return self._stack([t.transform(X) for _, t in teachers])

    @staticmethod
    def _stack(features: list[np.ndarray]) -> TeacherFeatures:
        return concat_teachers([np.asarray(f, dtype=np.float32) for f in features])

    @property
    def n_features_in_(self) -> int:
        """Number of input columns, as the first teacher counts them (when it does)."""
        return self.teachers_[0][1].n_features_in_

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """``<teacher name>__<feature name>`` for every output column."""
        check_is_fitted(self, "teachers_")
        names = [f"{name}__{f}" for name, t in self.teachers_ for f in t.get_feature_names_out()]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        teachers = [t for _, t in self.teachers] if all(isinstance(t, tuple) for t in self.teachers) else []
        tags.requires_fit = any(t.__sklearn_tags__().requires_fit for t in teachers)
        tags.input_tags.two_d_array = all(t.__sklearn_tags__().input_tags.two_d_array for t in teachers)
        tags.input_tags.string = any(t.__sklearn_tags__().input_tags.string for t in teachers)
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def make_teacher_union(*teachers) -> TeacherUnion:
    """A :class:`TeacherUnion` whose teachers are named after their classes (lower case, numbered on clashes).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aft.teachers import FunctionEmbedder, SentenceEmbedder, make_teacher_union
    >>> [name for name, _ in make_teacher_union(SentenceEmbedder(), FunctionEmbedder(np.sin)).teachers]
    ['sentenceembedder', 'functionembedder']
    """
    return TeacherUnion(_name_estimators(teachers))
