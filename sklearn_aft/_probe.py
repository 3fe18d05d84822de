"""A cross-validated logistic regression on the student's own input: what the student can learn unaided.

It serves twice: it picks the linear student's L2 strength (``C="auto"``), and its out-of-fold predictions
let ``transfer="stacked_kd"`` weigh the teacher against the student's own input (a teacher weaker than the
input gets little weight, so the student is not distilled towards it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sklearn_aft.transfer.kd import best_logistic_head

#: Candidate L2 strengths, weakest first (ties go to the first). Below 1, a logistic regression on a
#: TF-IDF matrix with a few hundred labels predicts the majority class and still ties in accuracy.
C_GRID = (100.0, 10.0, 1.0)


@dataclass(frozen=True)
class InputProbe:
    """The chosen ``C`` and the probe's log-probabilities ``(n_samples, n_classes)``: out-of-fold on the
    labeled rows, from the probe fitted on all labeled rows for the others."""

    C: float
    log_proba: np.ndarray
    cv_accuracy: float


def probe_student_input(X, codes: np.ndarray, random_state: int, cv: int = 5) -> InputProbe:
    """Fit logistic regressions on the labeled rows of ``X`` (``codes`` >= 0) for each C of ``C_GRID``.

    The C with the best out-of-fold accuracy wins; the folds are the ones the teacher head of the
    distillation methods uses for the same ``random_state``, so the two sets of out-of-fold predictions
    can be compared row by row.
    """
    C, log_proba, _, accuracy = best_logistic_head(X, codes, C_GRID, cv, random_state)
    return InputProbe(C=C, log_proba=log_proba, cv_accuracy=accuracy)
