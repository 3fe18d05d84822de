"""A linear student: multinomial logistic regression (or linear regression) as a torch module."""

from __future__ import annotations

import numbers

import torch
from torch import nn

from sklearn_aft.registry import register_student

#: The L2 strength used when ``C="auto"`` has nothing to choose it from (regression, images).
DEFAULT_C = 10.0


@register_student("linear")
class Linear(nn.Module):
    """One linear layer from the input to the outputs: logistic regression trained as a student.

    ``forward`` returns ``(output, output)``: the outputs (logits) are also the features a transfer
    method sees, since a linear model has no hidden layer. The weights carry an L2 penalty with
    scikit-learn's ``C`` convention (``LogisticRegression``): the training objective is the loss summed
    over the training rows plus ``||W||^2 / (2 C)``; the bias is not penalised. With labeled rows alone
    and no transfer term, the fitted student is scikit-learn's ``LogisticRegression(C=C)`` solved in torch.

    Parameters
    ----------
    input_dim : int
        Width of the input. The estimators set it from the data.
    output_dim : int
        Number of outputs (classes or regression targets). The estimators set it from the data.
    C : float or "auto", default="auto"
        Inverse strength of the L2 penalty (larger: weaker). ``"auto"`` lets the estimator choose it
        from {1, 10, 100} by cross-validated accuracy of a logistic regression on the labeled rows
        (ties go to the weaker penalty); where it cannot (regression, no labels to spare) it is 10.

    Examples
    --------
    >>> import torch
    >>> from sklearn_aft.students import Linear
    >>> out, feats = Linear(input_dim=10, output_dim=3, C=1.0)(torch.zeros(4, 10))
    >>> tuple(out.shape), feats is out
    ((4, 3), True)
    """

    #: Rank of the input batches this student takes (the estimators check X against it).
    input_ndim = 2
    #: Sparse X (e.g. TF-IDF) arrives as torch sparse batches and is multiplied without densifying.
    accepts_sparse = True
    #: A convex problem: with ``optimizer="auto"`` the estimators solve it with full-batch L-BFGS.
    full_batch = True

    def __init__(self, input_dim: int, output_dim: int, C: float | str = "auto") -> None:
        super().__init__()
        if C != "auto" and not (isinstance(C, numbers.Real) and not isinstance(C, bool) and C > 0):
            raise ValueError(f"C must be a positive number or 'auto', got {C!r}")
        self.C = C
        self.linear = nn.Linear(int(input_dim), int(output_dim))
        self.feature_dim = int(output_dim)

    def penalty(self) -> torch.Tensor:
        """``||W||^2 / (2 C)``: the L2 term of the summed objective (the net divides it by the row count)."""
        C = DEFAULT_C if self.C == "auto" else float(self.C)
        # Two classes: the outputs' difference is what LogisticRegression's single weight vector w learns, and
        # the penalised optimum splits it as w1 = -w2 = w / 2, so ||W||^2 / C gives its ||w||^2 / (2 C).
        scale = 1.0 if self.feature_dim == 2 else 0.5
        return scale * self.linear.weight.pow(2).sum() / C

    def forward(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if X.layout != torch.strided:  # a sparse batch
            out = torch.sparse.mm(X, self.linear.weight.t()) + self.linear.bias
        else:
            out = self.linear(X)
        return out, out
