"""Regression: what the unlabeled rows should carry, judged by the student they make.

``stacked_kd`` gives each unlabeled row a target: the teacher head's prediction, a blend of it with the input
probe's, or nothing (the student learns the labeled rows alone). Which head predicts better is the wrong
question: a linear student on TF-IDF cannot represent what a teacher head knows, and after learning the head's
predictions on thousands of rows it can end below the student fitted on the labels alone, even when the head
itself was as good as the probe (wine reviews, 300 labels: the heads' leave-one-out R^2 were 0.01 apart, the
student that followed the teacher lost 4 points to ``RidgeCV``).

So each candidate is judged as a whole recipe, cross-validated over the labeled rows: in each fold the teacher
head and the input probe are refitted on the training labels, label the unlabeled rows, a ridge regression (the
linear student's closed form, with the alpha it would get) learns the training labels and those targets, and
it predicts the held-out labels. ``RidgeCV`` on the labeled rows alone is a candidate too, scored on the same
folds. The best recipe with the teacher and the labeled rows alone are compared row by row: whichever wins
by more than one standard error of the paired gain is chosen (the one-standard-error rule of
cross-validation, not a margin tuned on a data set). When neither does (a hundred labels leave folds of
twenty rows), the heads' own leave-one-out errors decide with the same rule: the teacher is followed when
its head beats the input probe by more than one standard error (SST-5, 100 labels: the students' folds
were 0.012 apart, the teacher head's R^2 0.15 above the probe's, and following it gave 0.12 against 0.02),
and otherwise the labeled rows alone are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import Ridge, RidgeCV
from sklearn.model_selection import KFold

from sklearn_aft.transfer._heads import RIDGE_ALPHAS, _head_threads

#: The teacher's shares of the unlabeled rows' targets (``share * teacher + (1 - share) * probe``); the
#: labeled-only student is the other candidate.
SHARES = (0.25, 0.5, 0.75, 1.0)
#: Rows the recipes are cross-validated on: larger sets are subsampled, labeled and unlabeled rows alike.
SELECTION_ROWS = 4000
#: Below this many labeled rows the folds are too small to judge a recipe: the heads' leave-one-out errors
#: decide, as the probe and the teacher head give them.
MIN_LABELED = 10


@dataclass(frozen=True)
class RecipeChoice:
    """The teacher's share of the unlabeled rows' targets (0: the labeled rows alone), each candidate's
    cross-validated squared error (``"labels"`` and the shares), and the ridge alpha of the chosen recipe on
    the whole training set (None for the labeled rows alone: the probe's alpha stands)."""

    share: float
    cv_mse: dict
    alpha: float | None
    #: "students" (their folds were conclusive), "heads" (they were not, the heads' leave-one-out errors
    #: were) or "default" (neither: the labeled rows alone)
    decided_by: str = "students"


def _subsample(rows: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    if fraction >= 1.0:
        return rows
    return np.sort(rng.choice(rows, max(1, round(len(rows) * fraction)), replace=False))


def choose_recipe(
    X,
    y2: np.ndarray,
    complete: np.ndarray,
    teacher_features,
    teacher_predictions: np.ndarray,
    probe_predictions: np.ndarray,
    probe_alpha: float,
    head,
    random_state: int,
    cv: int = 5,
    head_gain: np.ndarray | None = None,
) -> RecipeChoice | None:
    """Cross-validate the labeled-only student against students that learn blended targets on the unlabeled rows.

    ``y2`` (n, k) are the standardised targets (NaN unknown), ``complete`` the rows whose targets are all
    known; ``teacher_predictions`` and ``probe_predictions`` (n, k) come from the heads fitted on every
    labeled row (they set the candidates' alphas on the whole set). ``head`` is the user's teacher head or
    None (``RidgeCV`` on the teacher features). ``head_gain`` (one value per labeled row): the input probe's
    leave-one-out squared error minus the teacher head's, which decides when the students' folds do not.
    Returns None when there are too few labeled rows to judge.
    """
    labeled, unlabeled = np.flatnonzero(complete), np.flatnonzero(~complete)
    if len(labeled) < MIN_LABELED or not len(unlabeled):
        return None
    rng = np.random.default_rng(random_state)
    fraction = min(1.0, SELECTION_ROWS / (len(labeled) + len(unlabeled)))
    labeled, unlabeled = _subsample(labeled, fraction, rng), _subsample(unlabeled, fraction, rng)
    rows = np.concatenate([labeled, unlabeled])
    k = y2.shape[1]

    def candidates_targets(teacher: np.ndarray, probe: np.ndarray, train: np.ndarray) -> np.ndarray:
        # one column per (share, output): the training labels on top, the blended targets below
        blocks = [np.vstack([y2[train], s * teacher + (1.0 - s) * probe]) for s in SHARES]
        return np.hstack(blocks)

    with _head_threads(len(rows)):
        # each candidate's alpha, chosen on its whole transfer set as the student's would be
        full = candidates_targets(teacher_predictions[unlabeled], probe_predictions[unlabeled], labeled)
        X_rows = X[rows]
        alphas = RidgeCV(alphas=RIDGE_ALPHAS, alpha_per_target=True).fit(X_rows, full).alpha_
        alphas = np.broadcast_to(np.asarray(alphas, dtype=np.float64), (full.shape[1],))
        squared = np.zeros((len(labeled), 1 + len(SHARES)))  # per held-out row and candidate
        folds = KFold(min(cv, len(labeled)), shuffle=True, random_state=random_state % 2**31)
        for train_pos, test_pos in folds.split(labeled):
            train, test = labeled[train_pos], labeled[test_pos]
            # every candidate keeps the alpha chosen on all labeled rows (the same look at the held-out fold)
            probe = Ridge(alpha=probe_alpha).fit(X[train], y2[train])
            squared[test_pos, 0] = np.sum((probe.predict(X[test]).reshape(len(test), k) - y2[test]) ** 2, axis=1)
            teacher_head = clone(head) if head is not None else RidgeCV(alphas=RIDGE_ALPHAS)
            teacher_head.fit(teacher_features[train], y2[train] if k > 1 else y2[train, 0])
            teacher = np.asarray(teacher_head.predict(teacher_features[unlabeled])).reshape(len(unlabeled), k)
            targets = candidates_targets(teacher, probe.predict(X[unlabeled]).reshape(len(unlabeled), k), train)
            student = Ridge(alpha=alphas).fit(X[np.concatenate([train, unlabeled])], targets)
            predicted = np.asarray(student.predict(X[test])).reshape(len(test), len(SHARES), k)
            squared[test_pos, 1:] = np.sum((predicted - y2[test][:, None, :]) ** 2, axis=2)
    errors = squared.mean(axis=0) / k
    names = ["labels", *SHARES]
    best = 1 + int(np.argmin(errors[1:]))  # the best recipe with the teacher (ties: the smaller share)
    gain = squared[:, 0] - squared[:, best]  # paired row by row over the held-out labels
    if _significant(gain):
        decided_by = "students"
    elif _significant(-gain):
        best, decided_by = 0, "students"
    elif head_gain is not None and _significant(head_gain):
        decided_by = "heads"  # the students' folds are inconclusive; the heads are not
    else:
        best, decided_by = 0, "default"
    scores = dict(zip(names, errors.tolist()))
    if best == 0:
        return RecipeChoice(share=0.0, cv_mse=scores, alpha=None, decided_by=decided_by)
    # alpha is a total over the rows it was chosen on: the same strength per row on the whole set
    alpha = float(np.mean(alphas[(best - 1) * k : best * k])) * len(y2) / len(rows)
    return RecipeChoice(share=SHARES[best - 1], cv_mse=scores, alpha=alpha, decided_by=decided_by)


def _significant(gain: np.ndarray) -> bool:
    """Whether a paired gain's mean exceeds one standard error of it (the one-standard-error rule)."""
    return len(gain) > 1 and gain.mean() > gain.std(ddof=1) / np.sqrt(len(gain))
