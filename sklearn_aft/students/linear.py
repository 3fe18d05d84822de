"""A linear student: multinomial logistic regression, or ridge regression, as a torch module."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from sklearn_aft._constraints import Number, Real, StrOptions
from sklearn_aft.registry import register_student
from sklearn_aft.students._sparse import sparse_linear
from sklearn_aft.students.base import Student

#: The L2 strength used when ``C="auto"`` has nothing to choose it from (e.g. a transfer set, images).
DEFAULT_C = 10.0
#: Ridge's default, for ``alpha="auto"`` when nothing chooses it (a regressor's X that is not 2-D).
DEFAULT_ALPHA = 1.0
TASKS = ("classification", "regression")


@register_student("linear")
class Linear(Student):
    """One linear layer from the input to the outputs: logistic or ridge regression trained as a student.

    ``forward`` returns ``(output, output)``: the outputs (logits, or predictions) are also the features a
    transfer method sees, since a linear model has no hidden layer. The weights carry an L2 penalty in
    scikit-learn's convention for the task; the bias is not penalised. For classification it is
    ``LogisticRegression``'s ``C``: the objective is the cross-entropy summed over the training rows plus
    ``||W||^2 / (2 C)``. For regression it is ``Ridge``'s ``alpha``: the squared error summed over the rows
    plus ``alpha * ||W||^2`` (per output). With labeled rows alone and no transfer term, the fitted student
    is ``LogisticRegression(C=C)`` or ``Ridge(alpha=alpha)`` solved in torch.

    Parameters
    ----------
    input_dim, output_dim : int
        Widths of the input and of the outputs; the estimators set them (see :class:`Student`).
    C : float or "auto", default="auto"
        Inverse strength of the L2 penalty (larger: weaker). ``"auto"`` lets the estimator choose it
        from {1, 10, 100, 1e3, 1e4} by cross-validated accuracy of a logistic regression on the labeled rows
        (ties go to the weaker penalty); where it cannot (e.g. with a transfer set) it is 10.
        Classification only.
    alpha : float or "auto", default="auto"
        Ridge's L2 strength (larger: stronger). ``"auto"`` lets the estimator choose it from 1e-2 to 1e3
        by leave-one-out error on the labeled rows, as ``RidgeCV`` does; otherwise 1. Regression only.
    task : {"classification", "regression"}, default="classification"
        Which convention the penalty follows. The estimators set it.

    Examples
    --------
    >>> import torch
    >>> from sklearn_aft.students import Linear
    >>> out, feats = Linear(input_dim=10, output_dim=3, C=1.0)(torch.zeros(4, 10))
    >>> tuple(out.shape), feats is out
    ((4, 3), True)
    """

    parameter_constraints = {
        "C": [Number(Real, 0, np.inf, closed="neither"), StrOptions({"auto"})],
        "alpha": [Number(Real, 0, np.inf, closed="left"), StrOptions({"auto"})],
        "task": [StrOptions(set(TASKS))],
    }
    input_ndim = 2
    #: Sparse X (e.g. TF-IDF) arrives as torch sparse batches and is multiplied without densifying.
    accepts_sparse = True
    #: A convex problem: with ``optimizer="auto"`` the estimators solve it with full-batch L-BFGS.
    full_batch = True

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        C: float | str = "auto",
        alpha: float | str = "auto",
        task: str = "classification",
    ) -> None:
        super().__init__()
        self.C = C
        self.alpha = alpha
        self.task = task
        self.linear = nn.Linear(int(input_dim), int(output_dim))
        self.feature_dim = int(output_dim)

    def penalty(self) -> torch.Tensor:
        """The L2 term of the summed objective (the net divides it by the row count): ``||W||^2 / (2 C)``,
        or ``alpha * ||W||^2`` per output for regression (the squared error is averaged over outputs)."""
        if self.task == "regression":
            alpha = DEFAULT_ALPHA if self.alpha == "auto" else float(self.alpha)
            return alpha * self.linear.weight.pow(2).sum() / self.feature_dim
        C = DEFAULT_C if self.C == "auto" else float(self.C)
        # Two classes: the outputs' difference is what LogisticRegression's single weight vector w learns, and
        # the penalised optimum splits it as w1 = -w2 = w / 2, so ||W||^2 / C gives its ||w||^2 / (2 C).
        scale = 1.0 if self.feature_dim == 2 else 0.5
        return scale * self.linear.weight.pow(2).sum() / C

    def forward(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if X.layout != torch.strided:  # a sparse batch
            out = sparse_linear(X, self.linear)
        else:
            out = self.linear(X)
        return out, out
