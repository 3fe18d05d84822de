"""Student networks: torch modules whose ``forward`` returns ``(output, features)``.

:class:`Student` writes down what the estimators ask of a student (any ``nn.Module`` with that ``forward``
will do; the declarations are optional).

:class:`Linear` (``module="linear"``, the estimators' default with ``transfer="stacked_kd"``) and :class:`MLP`
(``module="mlp"``, for the methods that compare hidden features) need torch only; :class:`TimmStudent`
(``module="timm"``) imports timm when it is built. :class:`StaticStudent` (``module="static"``) takes raw
texts: a token-embedding table distilled from the text teacher (model2vec), mean-pooled, then a head.
"""

from sklearn_aft._timm import efficientnet_lite_weights
from sklearn_aft.students.base import Student, student_traits
from sklearn_aft.students.linear import Linear
from sklearn_aft.students.mlp import MLP
from sklearn_aft.students.static import StaticStudent, TokenizedTexts
from sklearn_aft.students.timm import TimmStudent

__all__ = [
    "Linear",
    "MLP",
    "StaticStudent",
    "Student",
    "TimmStudent",
    "TokenizedTexts",
    "efficientnet_lite_weights",
    "student_traits",
]
