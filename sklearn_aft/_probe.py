"""A cross-validated linear model on the student's own input: what the student can learn unaided.

A logistic regression for classification, a ridge regression for regression. It serves twice: it picks the
linear student's L2 strength (``C="auto"`` or ``alpha="auto"``), and its out-of-fold predictions let
``transfer="stacked_kd"`` weigh the teacher against the student's own input (a teacher weaker than the
input gets little weight, so the student is not distilled towards it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sklearn_aft.transfer._heads import RIDGE_ALPHAS, best_logistic_head, best_logistic_heads, best_ridge_head

#: Candidate L2 strengths of the linear student trained on labeled rows alone, weakest first (ties go to
#: the first). Below 1, a logistic regression on a TF-IDF matrix with a few hundred labels predicts the
#: majority class and still ties in accuracy. 1e3 and 1e4 (LogisticRegressionCV's grid reaches 1e4) were
#: chosen on SMS spam and TREC with 500 labels: 0.960 against 0.953, and 0.757 against 0.749 (3 seeds).
C_GRID = (1e4, 1e3, 100.0, 10.0, 1.0)
#: The probe's candidates when it only weighs the teacher (a transfer set): the weak penalties of
#: ``C_GRID`` made an overconfident probe that took too much of the blend (TREC, 100 labels: 0.684
#: against 0.697).
BLEND_C_GRID = (100.0, 10.0, 1.0)


@dataclass(frozen=True)
class InputProbe:
    """The chosen ``C`` and the probe's log-probabilities ``(n_samples, n_classes)``: out-of-fold on the
    labeled rows, from the probe fitted on all labeled rows for the others."""

    C: float
    log_proba: np.ndarray
    cv_accuracy: float
    #: with a transfer set: the probe the student would be on the labeled rows alone (``C_GRID``), which
    #: ``stacked_kd`` compares the teacher's blend with, and whose C a student left to its labels takes
    unaided: InputProbe | None = field(default=None, repr=False, compare=False)


def probe_student_input(X, codes: np.ndarray, random_state: int, cv: int = 5, Cs=C_GRID) -> InputProbe:
    """Fit logistic regressions on the labeled rows of ``X`` (``codes`` >= 0) for each C of ``Cs``.

    The C with the best out-of-fold accuracy wins; the folds are the ones the teacher head of the
    distillation methods uses for the same ``random_state``, so the two sets of out-of-fold predictions
    can be compared row by row.
    """
    C, log_proba, _, accuracy = best_logistic_head(X, codes, Cs, cv, random_state)
    return InputProbe(C=C, log_proba=log_proba, cv_accuracy=accuracy)


def probe_student_input_with_unaided(X, codes: np.ndarray, random_state: int, cv: int = 5) -> InputProbe:
    """The probe that weighs the teacher (``BLEND_C_GRID``), with the probe the student would be on its labels
    alone (``C_GRID``) as ``unaided``; both from one set of out-of-fold fits."""
    (blend, unaided) = best_logistic_heads(X, codes, [BLEND_C_GRID, C_GRID], cv, random_state)
    alone = InputProbe(C=unaided[0], log_proba=unaided[1], cv_accuracy=unaided[3])
    return InputProbe(C=blend[0], log_proba=blend[1], cv_accuracy=blend[3], unaided=alone)


@dataclass(frozen=True)
class RidgeProbe:
    """The chosen ``alpha`` and the probe's predictions ``(n_samples, n_targets)``: leave-one-out on the
    labeled rows, from the ridge fitted on all labeled rows for the others."""

    alpha: float
    predictions: np.ndarray
    cv_mse: float
    #: the student's input the probe was fitted on, for a method that cross-validates whole students on it
    inputs: object = field(default=None, repr=False, compare=False)


def probe_student_input_ridge(X, y: np.ndarray) -> RidgeProbe:
    """``RidgeCV`` on the rows of ``X`` whose (standardised) targets ``y`` are all known (NaN: unknown),
    alpha from ``RIDGE_ALPHAS`` by leave-one-out squared error."""
    alpha, predictions, _, mse = best_ridge_head(X, y)
    return RidgeProbe(alpha=alpha, predictions=predictions, cv_mse=mse, inputs=X)


#: Rows of the transfer set used to choose its alpha (generalised cross-validation costs the cube of the
#: row count on a sparse X); the alpha found on a subsample is scaled up to the whole set.
ALPHA_ROWS = 4000


def transfer_set_alpha(X, targets: np.ndarray, random_state: int) -> float:
    """Ridge's alpha for a student that learns ``targets`` on every row of X (a transfer set), by
    leave-one-out error as ``RidgeCV`` chooses it, on at most ``ALPHA_ROWS`` rows."""
    from sklearn.linear_model import RidgeCV

    n = X.shape[0]
    rows = np.arange(n)
    if n > ALPHA_ROWS:
        rows = np.sort(np.random.default_rng(random_state).choice(n, ALPHA_ROWS, replace=False))
    ridge = RidgeCV(alphas=RIDGE_ALPHAS).fit(X[rows], targets[rows])
    # alpha is a total over the rows it is fitted on: the same strength per row on all n rows
    return float(ridge.alpha_) * n / len(rows)
