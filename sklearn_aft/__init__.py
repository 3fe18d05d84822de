"""sklearn-aft: move the knowledge of large pretrained models into small task models.

Estimators with the scikit-learn API (:class:`AFTClassifier`, :class:`AFTRegressor`) train a small torch
student with skorch and a transfer term: by default ``"stacked_kd"`` (a teacher head's soft labels for the
unlabeled rows, weighed against a probe of the student's input), or by name Adaptive Feature Transfer (Qiu
et al., 2024) and the other methods of :func:`available_transfers`.
"""

# The built-in transfer methods, students and teachers register themselves when their modules are imported
# (the registry imports none of them); importing the package imports them all. ``metrics`` holds
# ``labeled_scorer``, the scorers of model selection on semi-supervised targets.
from sklearn_aft import metrics, students, teachers, transfer  # noqa: F401
from sklearn_aft._classifier import AFTClassifier
from sklearn_aft._features import TeacherFeatures, concat_teachers
from sklearn_aft._regressor import AFTRegressor
from sklearn_aft.registry import available_students, available_teachers, available_transfers
from sklearn_aft.text import StaticEmbedder

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
