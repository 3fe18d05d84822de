"""Teachers: frozen pretrained models with the scikit-learn transformer API.

Use them alone (``make_pipeline(SentenceEmbedder(), LogisticRegression())`` is the teacher's linear
probe) or as the ``teacher=`` parameter of :class:`~sklearn_aft.AFTClassifier` and
:class:`~sklearn_aft.AFTRegressor`, which embed the training rows once (cached with ``memory=``).
Weights always come from local files.
"""

from sklearn_aft.teachers.base import BaseTeacher, MixedPrecisionMixin, as_1d_sequence, clear_model_cache
from sklearn_aft.teachers.cache import embed
from sklearn_aft.teachers.e5 import E5Embedder
from sklearn_aft.teachers.sentence import SentenceEmbedder, check_texts
from sklearn_aft.teachers.stream import embed_to_file
from sklearn_aft.teachers.timm import TimmEmbedder, efficientnet_lite
from sklearn_aft.teachers.torch import FunctionEmbedder, TorchEmbedder
from sklearn_aft.teachers.union import TeacherUnion, make_teacher_union

__all__ = [
    "BaseTeacher",
    "E5Embedder",
    "FunctionEmbedder",
    "MixedPrecisionMixin",
    "SentenceEmbedder",
    "TeacherUnion",
    "TimmEmbedder",
    "TorchEmbedder",
    "as_1d_sequence",
    "check_texts",
    "clear_model_cache",
    "efficientnet_lite",
    "embed",
    "embed_to_file",
    "make_teacher_union",
]
