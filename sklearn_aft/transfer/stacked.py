"""Distillation from the teacher head stacked with a probe of the student's own input (the default)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from sklearn_aft._constraints import HasMethods, Integral, Number, Real
from sklearn_aft._labels import complete_rows, known
from sklearn_aft.registry import register_transfer
from sklearn_aft.transfer._heads import best_logistic_head, best_ridge_head, teacher_head_predictions
from sklearn_aft.transfer._student_cv import choose_recipe
from sklearn_aft.transfer.base import TransferMethod

#: Candidate weights ``(a, b)`` of the teacher head's and the input probe's log-probabilities. Either the
#: teacher leads (the probe at most half its weight) or it is left out. Two free weights, not a share and
#: its complement: a share alone also acts as a temperature, and a teacher of pure noise then won 0.8 of
#: the blend by flattening an overconfident probe. The cap: the student learns the probe's view from the
#: labeled rows anyway, and blends led by the probe (weights 0.5 and 1) cost 3 points on TREC with 500
#: labels (0.778 against 0.830 capped; the pseudo-label pipeline: 0.810).
_WEIGHTS = (0.25, 0.5, 1.0, 1.5, 2.0, 3.0)
BLEND_PAIRS = [(a, b) for a in _WEIGHTS for b in (0.0, *_WEIGHTS) if b <= a / 2] + [(0.0, b) for b in _WEIGHTS]
#: Candidate C of the default teacher head, a logistic regression on the teacher features.
HEAD_CS = (1.0, 10.0, 100.0, 1000.0)


def _log_normalise(z: np.ndarray) -> np.ndarray:
    return z - np.logaddexp.reduce(z, axis=1, keepdims=True)


#: Bootstrap resamples of the labeled rows for the standard error of a macro-F1 difference.
N_BOOTSTRAP = 200
#: The teacher, which won the blend on log-loss, is set aside only when the labels alone are better at the
#: 5% level (one-sided): out-of-fold macro-F1 on a few hundred rows is noisy, and at one standard error the
#: check set a good teacher aside on TREC with 200 labels (0.674 against 0.626, standard error 0.041; the
#: student then lost 11 points of accuracy).
Z_ONE_SIDED_5 = 1.645


def _macro_f1(counts: np.ndarray, truth: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Macro-F1 (classes present in the truth) of each row of row-count weights ``counts`` (B, n)."""
    true_hot = np.eye(n_classes)[truth]
    pred_hot = np.eye(n_classes)[pred]
    tp = counts @ (true_hot * pred_hot)
    support, predicted = counts @ true_hot, counts @ pred_hot
    f1 = np.divide(2 * tp, support + predicted, out=np.zeros_like(tp), where=support + predicted > 0)
    present = support > 0
    return (f1 * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1)


def _paired_macro_f1(truth, pred_a, pred_b, random_state: int) -> tuple[float, float, float]:
    """Macro-F1 of two predictions of the same rows, and the bootstrap standard error of their difference."""
    n, k = len(truth), int(max(truth.max(), pred_a.max(), pred_b.max())) + 1
    f1_a, f1_b = (float(_macro_f1(np.ones((1, n)), truth, p, k)[0]) for p in (pred_a, pred_b))
    counts = np.random.default_rng(random_state).multinomial(n, np.full(n, 1.0 / n), size=N_BOOTSTRAP)
    diff = _macro_f1(counts, truth, pred_b, k) - _macro_f1(counts, truth, pred_a, k)
    return f1_a, f1_b, float(diff.std(ddof=1))


@register_transfer("stacked_kd")
class StackedKD(TransferMethod):
    """Soft labels for the unlabeled rows from the teacher, weighed against what the student's input knows.

    1. A teacher head (logistic regression) is fitted on the labeled rows' teacher features, and a probe
       (logistic regression, C by cross-validation) on the labeled rows of the student's own input X.
       Both give out-of-fold log-probabilities on the labeled rows (the same folds).
    2. The blend ``log p = a * log p_teacher + b * log p_input`` (renormalised) takes the weights with the
       lowest out-of-fold log-loss among ``a`` in {0.25, ..., 3} with ``b <= a / 2`` (the teacher leads;
       the student learns the probe's view from the labeled rows anyway) and ``a = 0`` (the teacher is
       left out). A teacher that knows nothing the input does not is dropped, one that knows some of it
       is tempered by the probe, so the student is not distilled towards a worse model.
    3. The student minimises, over all rows, the cross-entropy with the true label on labeled rows and
       ``beta`` times the cross-entropy with the blend's soft labels on unlabeled rows (the transfer set).
       Every row counts once, whatever the batch mix, so labeled rows alone give plain training.

    For a regressor the heads are ridge regressions (``RidgeCV``, alpha by leave-one-out error), and what
    the unlabeled rows carry is judged by the student it makes: the labeled-only ridge, and ridges that
    learn ``share * teacher + (1 - share) * probe`` on the unlabeled rows (share 0.25 to 1), are
    cross-validated over the labeled rows as whole recipes (heads refitted per fold); the best recipe and the
    labeled rows alone are compared row by row, and the one ahead by more than a standard error wins (when
    neither is, the teacher head's and the probe's leave-one-out errors decide by the same rule, and
    otherwise the labeled rows alone stay). When the labeled rows alone win, the student trains on them
    alone. The term is the
    squared error with the true target (labeled rows) or ``beta`` times the squared error with the chosen
    targets (unlabeled rows).

    This is the estimators' default. It is the distillation counterpart of the hand-written
    "pseudo-label" pipeline (a probe labels the unlabeled rows, a linear model learns them),
    with soft labels and a guard against weak teachers. Without a 2-D student input (image students)
    the blend is the teacher head alone.

    Parameters
    ----------
    student_dim, teacher_dims, beta, lr
        See :class:`~sklearn_aft.transfer.TransferMethod`; ``beta`` weighs the unlabeled rows' term
        against the labeled rows' (1 each).
    temperature : float, default=0.5
        Temperature of the soft labels: ``softmax(log p / T)``. Below 1 it sharpens them towards the
        blend's hard labels (``T -> 0``: pseudo-labels), above 1 it softens them.
    head : scikit-learn classifier or regressor, or None, default=None
        The teacher head. None: a ``LogisticRegression`` whose C (1, 10, 100 or 1000) has the best
        out-of-fold accuracy on the labeled rows, as ``LogisticRegressionCV`` would choose it; for a
        regressor, ``RidgeCV`` with alphas from 1e-2 to 1e3 (leave-one-out predictions).
    cv : int, default=5
        Folds of the out-of-fold predictions of a classifier's heads, and of a user's ``head`` (0 is
        refused: the blend needs them).

    Attributes
    ----------
    head_ : estimator
        The teacher head (with the chosen C) fitted on all labeled rows.
    blend_weights_ : tuple of float
        The chosen ``(a, b)``: weights of the teacher head and of the input probe in the blend.
    teacher_share_ : float
        ``a / (a + b)``: the teacher's share of the blend (1 without an input probe).
    input_C_ : float or None
        C of the probe on the student's input (None when there was none, or for a regressor).
    input_alpha_ : float or None
        Regression: alpha of the ridge probe on the student's input (None when there was none).
    recipe_errors_ : dict or None
        Regression: each recipe's cross-validated squared error on the standardised targets (``"labels"``:
        the labeled rows alone; a float: the teacher's share of the unlabeled rows' targets). None when
        there were fewer than 10 labeled rows (the heads' leave-one-out errors decided) or no input probe.
    student_alpha_ : float or None
        Regression: the ridge alpha of the chosen recipe on the whole training set (None: the probe's).
    recipe_decided_by_ : str or None
        Regression: ``"students"`` (the recipes' folds were conclusive), ``"heads"`` (they were not, or too
        few labels; the heads' leave-one-out errors were) or ``"default"`` (neither: the labeled rows alone).
    labels_check_ : dict or None
        Classification: the blend's and the labels-alone probe's out-of-fold macro-F1 on the labeled rows and
        the standard error of their difference (None without an input probe or when the teacher was left out).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aft import AFTClassifier
    >>> rng = np.random.RandomState(0)
    >>> F = rng.normal(size=(300, 8)).astype("float32")    # teacher features
    >>> y = (F[:, 0] + F[:, 1] > 0).astype(int)
    >>> y[60:] = -1                                        # 60 labels, 240 unlabeled rows
    >>> X = F[:, 1:4] + 0.5 * rng.normal(size=(300, 3))     # the student sees less
    >>> clf = AFTClassifier(random_state=0).fit(X, y, teacher_features=F)  # transfer="stacked_kd"
    >>> clf.transfer_.teacher_share_ > 0.5                 # the teacher knows more than X
    True
    """

    parameter_constraints = {
        "temperature": [Number(Real, 0, np.inf, closed="neither")],
        "head": [HasMethods(["fit"]), None],
        "cv": [Number(Integral, 2, None, closed="left")],  # the blend is chosen out of fold
    }
    #: The estimator hands :meth:`fit_targets` a probe of the student's input (``student_input=``).
    uses_student_input = True
    #: It compares outputs only: ``module="auto"`` trains the linear student.
    default_student = "linear"
    #: The term carries the labeled rows' task loss too (the estimator's task weight is 0): not a term of
    #: ``"combined"``.
    sets_schedule = True

    def __init__(
        self,
        student_dim: int,
        teacher_dims: Sequence[int],
        *,
        beta: float = 1.0,
        lr: float | None = None,
        temperature: float = 0.5,
        head=None,
        cv: int = 5,
    ) -> None:
        super().__init__(student_dim, teacher_dims, beta=beta, lr=lr)
        self.temperature = float(temperature)
        self.head = head
        self.cv = int(cv)
        self.blend_weights_ = (1.0, 0.0)
        self.teacher_share_ = 1.0
        self.input_C_ = None
        self.input_alpha_ = None
        self.recipe_errors_ = None
        self.student_alpha_ = None
        self.recipe_decided_by_ = None
        self.labels_check_ = None
        self._classify = True

    def fit_targets(
        self, teacher_features: np.ndarray, y: np.ndarray, random_state: int, *, task: str, student_input=None
    ) -> np.ndarray:
        self._classify = task == "classification"
        if not self._classify:
            return self._regression_targets(teacher_features, y, random_state, student_input)
        if self.head is not None and not hasattr(self.head, "predict_proba"):
            raise TypeError(f"transfer__head must be a classifier with predict_proba, got {self.head!r}")
        labeled = known(y)
        codes = y[labeled]
        rows = np.arange(len(codes))
        log_input = None
        if student_input is not None:
            self.input_C_ = student_input.C
            log_input = student_input.log_proba.astype(np.float64)
        if self.head is not None:
            log_teacher, self.head_ = teacher_head_predictions(
                self.head, teacher_features, y, self.cv, random_state, task=task
            )
        else:  # C by out-of-fold accuracy, as LogisticRegressionCV would choose it (ties: the smaller C)
            _, log_teacher, self.head_, _ = best_logistic_head(
                teacher_features, y, HEAD_CS, self.cv, random_state, max_iter=2000
            )
        log_teacher = log_teacher.astype(np.float64)
        log_blend, self.blend_weights_ = log_teacher, (1.0, 0.0)
        if log_input is not None:
            losses = [
                -_log_normalise(a * log_teacher[labeled] + b * log_input[labeled])[rows, codes].mean()
                for a, b in BLEND_PAIRS
            ]
            self.blend_weights_ = BLEND_PAIRS[int(np.argmin(losses))]
            a, b = self.blend_weights_
            log_blend = a * log_teacher + b * log_input
        unaided = getattr(student_input, "unaided", None)
        if unaided is not None and self.blend_weights_[0] > 0:
            self._check_against_labels_alone(log_blend[labeled], unaided.log_proba[labeled], codes, random_state)
        if self.blend_weights_[0] == 0:  # the teacher is set aside: the student learns the labeled rows alone
            self.blend_weights_ = (0.0, 0.0)
            self.teacher_share_ = 0.0
            log_blend = np.zeros_like(log_teacher)  # unused: the estimator drops the unlabeled rows
        else:
            self.teacher_share_ = self.blend_weights_[0] / sum(self.blend_weights_)
        soft = np.exp(_log_normalise(log_blend / self.temperature))
        n_classes = soft.shape[1]
        # per row: the class probabilities to learn (the label itself on labeled rows), then whether the row
        # is labeled, so that the batch loss weighs each row by 1 (labeled) or beta (unlabeled)
        targets = np.zeros((len(y), n_classes + 1), dtype=np.float32)
        targets[labeled, codes] = 1.0
        targets[~labeled, :n_classes] = soft[~labeled]
        targets[:, -1] = labeled
        return targets

    def _check_against_labels_alone(self, log_blend, log_unaided, codes, random_state) -> None:
        """Set the teacher aside when the blend's out-of-fold macro-F1 on the labeled rows is below that of the
        probe the student would be on its labels alone, at the 5% level (one-sided, bootstrap standard error
        of the paired difference). Log-loss chose the blend; on a rare class a blend can win it while its labels are
        "always the majority", and a student distilled from them collapses (a review table with 18%
        "no": macro-F1 0.45 against 0.62 for the labels alone)."""
        blend_f1, own_f1, se = _paired_macro_f1(
            codes, log_blend.argmax(axis=1), log_unaided.argmax(axis=1), random_state
        )
        self.labels_check_ = {"blend_macro_f1": blend_f1, "labels_only_macro_f1": own_f1, "se": se}
        if own_f1 - blend_f1 > Z_ONE_SIDED_5 * se:
            self.blend_weights_ = (0.0, 0.0)

    def _regression_targets(self, teacher_features, y, random_state, student_input) -> np.ndarray:
        y2 = y.reshape(len(y), -1)
        given = known(y2)
        complete = complete_rows(y2)  # rows the heads learn from and the blend is scored on
        if self.head is not None:
            teacher, self.head_ = teacher_head_predictions(
                self.head, teacher_features, y, self.cv, random_state, task="regression"
            )
        else:
            _, teacher, self.head_, _ = best_ridge_head(teacher_features, y)
        teacher = teacher.reshape(y2.shape).astype(np.float64)
        blend, self.blend_weights_ = teacher, (1.0, 0.0)
        if student_input is not None:
            self.input_alpha_ = student_input.alpha
            own = student_input.predictions.reshape(y2.shape).astype(np.float64)
            choice = None
            truth = y2[complete]
            head_gain = np.sum((own[complete] - truth) ** 2 - (teacher[complete] - truth) ** 2, axis=1)
            if student_input.inputs is not None:
                choice = choose_recipe(
                    student_input.inputs, y2.astype(np.float64), complete, teacher_features, teacher, own,
                    student_input.alpha, self.head, random_state, cv=self.cv, head_gain=head_gain,
                )  # fmt: skip
            if choice is not None:
                a, self.recipe_errors_, self.student_alpha_ = choice.share, choice.cv_mse, choice.alpha
                self.recipe_decided_by_ = choice.decided_by
            else:  # too few labels to cross-validate students: the heads' leave-one-out errors decide
                a = 1.0 if head_gain.mean() >= 0 else 0.0
                self.recipe_decided_by_ = "heads"
            self.blend_weights_ = (a, 1.0 - a)
            blend = a * teacher + (1.0 - a) * own
        self.teacher_share_ = self.blend_weights_[0]
        # per row: the values to learn (the known targets, the blend elsewhere), then which ones are known,
        # so that the loss weighs a known target by 1 and a blended one by beta
        return np.hstack([np.where(given, y2, blend), given]).astype(np.float32)

    @property
    def uses_unlabeled_rows(self) -> bool:
        """False when the teacher was set aside: the student then trains on the labeled rows alone (the
        probe's own predictions on the other rows would only restate that fit, at some cost)."""
        return self.teacher_share_ > 0

    def student_targets(self, transfer_targets: np.ndarray) -> np.ndarray | None:
        """Regression: the known targets, the blend elsewhere; None for a classifier."""
        return None if self._classify else transfer_targets[:, : transfer_targets.shape[1] // 2]

    def weight_at(self, epoch: int, max_epochs: int) -> float:
        return 1.0  # beta is applied per row inside the term

    def task_weight_at(self, epoch: int, max_epochs: int) -> float:
        return 0.0  # the labeled rows' cross-entropy is part of the term, so every row counts once

    def loss(self, student_features, transfer_targets, student_output) -> torch.Tensor:
        if not self._classify:  # squared error with the known target (weight 1) or the blend (weight beta)
            k = transfer_targets.shape[1] // 2
            values, given = transfer_targets[:, :k], transfer_targets[:, k:] > 0.5
            squared = (student_output.reshape(values.shape) - values).pow(2)
            return torch.where(given, squared, squared * self.beta).mean()
        probs, labeled = transfer_targets[:, :-1], transfer_targets[:, -1] > 0.5
        # cross-entropy with the label (labeled rows) or with the soft label times beta (unlabeled rows)
        per_row = -(probs * F.log_softmax(student_output, dim=1)).sum(dim=1)
        return torch.where(labeled, per_row, per_row * self.beta).mean()

    def forward(self, student_features, teacher_features):  # the term lives in loss(): it needs the outputs
        raise TypeError("StackedKD compares the student's outputs: call loss(features, targets, outputs)")

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, teacher_share={self.teacher_share_}"
