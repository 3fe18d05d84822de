"""sklearn-aft: move the knowledge of large pretrained models into small task models.

Estimators with the scikit-learn API (:class:`AFTClassifier`, :class:`AFTRegressor`) train a small torch
student with skorch and a transfer term: by default ``"stacked_kd"`` (a teacher head's soft labels for the
unlabeled rows, weighed against a probe of the student's input), or by name Adaptive Feature Transfer (Qiu
et al., 2024) and the other methods of :func:`available_transfers`.
"""

# The public names load on first use (PEP 562), so that ``import sklearn_aft`` and the ``sklearn-aft`` command's
# ``--help`` import neither torch nor skorch. The built-in transfer methods, students and teachers register
# themselves when their subpackages are imported; the registry imports them on its first look-up of each kind.
# ``metrics`` holds ``labeled_scorer``, the scorers of model selection on semi-supervised targets.

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = [
    "AFTClassifier",
    "AFTRegressor",
    "StaticEmbedder",
    "TeacherFeatures",
    "__version__",
    "available_students",
    "available_teachers",
    "available_transfers",
    "concat_teachers",
]

# public name -> the module that defines it
_LAZY = {
    "AFTClassifier": "sklearn_aft._classifier",
    "AFTRegressor": "sklearn_aft._regressor",
    "StaticEmbedder": "sklearn_aft.text",
    "TeacherFeatures": "sklearn_aft._features",
    "available_students": "sklearn_aft.registry",
    "available_teachers": "sklearn_aft.registry",
    "available_transfers": "sklearn_aft.registry",
    "concat_teachers": "sklearn_aft._features",
}
# subpackages reachable as attributes after a plain ``import sklearn_aft`` (``sklearn_aft.metrics.labeled_scorer``)
_SUBMODULES = frozenset(
    {"datasets", "export", "metrics", "registry", "retrieval", "students", "teachers", "text", "transfer"}
)

if TYPE_CHECKING:  # the real imports, for type checkers and IDEs
    from sklearn_aft import (  # noqa: F401
        datasets,
        export,
        metrics,
        registry,
        retrieval,
        students,
        teachers,
        text,
        transfer,
    )
    from sklearn_aft._classifier import AFTClassifier
    from sklearn_aft._features import TeacherFeatures, concat_teachers
    from sklearn_aft._regressor import AFTRegressor
    from sklearn_aft.registry import available_students, available_teachers, available_transfers
    from sklearn_aft.text import StaticEmbedder


def __getattr__(name: str) -> object:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)
