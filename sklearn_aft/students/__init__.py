"""Student networks: torch modules whose ``forward`` returns ``(output, features)``.

:class:`Linear` (``module="linear"``, the classifier's default) and :class:`MLP` (``module="mlp"``, the
regressor's default) need torch only; :class:`TimmStudent` (``module="timm"``) imports timm when it is built.
"""

from sklearn_aft.students.linear import Linear
from sklearn_aft.students.mlp import MLP
from sklearn_aft.students.timm import TimmStudent

__all__ = ["Linear", "MLP", "TimmStudent"]
