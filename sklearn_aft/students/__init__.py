"""Student networks: torch modules whose ``forward`` returns ``(output, features)``."""

from sklearn_aft.students.mlp import MLP

__all__ = ["MLP"]
