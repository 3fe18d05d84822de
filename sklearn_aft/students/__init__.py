"""Student networks: torch modules whose ``forward`` returns ``(output, features)``.

:class:`MLP` (``module="mlp"``, the default) needs torch only; :class:`TimmStudent` (``module="timm"``)
imports timm when it is built.
"""

from sklearn_aft.students.mlp import MLP
from sklearn_aft.students.timm import TimmStudent

__all__ = ["MLP", "TimmStudent"]
