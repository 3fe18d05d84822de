"""What "labeled" means, once, for the encoded targets the estimators train on.

A classifier's targets are class codes, ``-1`` (:data:`UNLABELED`) on an unlabeled row; a regressor's are
floats, NaN where a target is unknown. Three masks follow from that, with a NumPy and a torch twin where
both sides need them:

- :func:`known` / :func:`known_torch`: element by element, which targets are known (what the task loss sees);
- :func:`labeled_rows`: rows with *any* target known (they train the task; the others only the transfer term);
- :func:`complete_rows`: rows with *every* target known (what a teacher head learns from and is scored on).

For a classifier the three agree. Reading raw user labels (strings, ``"-1"``, missing values) into codes is
the classifier's own business (:mod:`sklearn_aft._classifier`).
"""

from __future__ import annotations

import numpy as np
import torch

#: The class code of an unlabeled row (scikit-learn's semi-supervised convention).
UNLABELED = -1


def known(y: np.ndarray) -> np.ndarray:
    """Which targets are known, element by element: class code >= 0, or a regression target not NaN."""
    return ~np.isnan(y) if y.dtype.kind == "f" else y >= 0


def known_torch(y: torch.Tensor) -> torch.Tensor:
    """:func:`known` for a batch of targets on any device."""
    return ~torch.isnan(y) if y.is_floating_point() else y >= 0


def labeled_rows(y: np.ndarray) -> np.ndarray:
    """Rows with at least one known target."""
    return known(y).reshape(len(y), -1).any(axis=1)


def complete_rows(y: np.ndarray) -> np.ndarray:
    """Rows whose targets are all known."""
    return known(y).reshape(len(y), -1).all(axis=1)


def restrict_to_labeled(X, y: np.ndarray, sample_weight, labeled: np.ndarray, why_none: str):
    """``(X, y, sample_weight)`` restricted to the labeled rows, for ``score``."""
    if not labeled.any():
        raise ValueError(f"y has no labeled rows to score ({why_none})")
    if labeled.all():
        return X, y, sample_weight
    X = X.iloc[labeled] if hasattr(X, "iloc") else X[labeled]
    sample_weight = None if sample_weight is None else np.asarray(sample_weight)[labeled]
    return X, y[labeled], sample_weight
