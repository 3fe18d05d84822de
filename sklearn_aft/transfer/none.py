"""No transfer: the task loss alone (the baseline every method is compared with)."""

from __future__ import annotations

import torch

from sklearn_aft.registry import register_transfer
from sklearn_aft.transfer.base import TransferMethod


@register_transfer("none")
class NoTransfer(TransferMethod):
    """Train the student on the labeled rows with the task loss only.

    Parameters
    ----------
    student_dim, teacher_dims, beta, lr, warmup
        Accepted for a uniform interface and ignored.

    Examples
    --------
    >>> from sklearn_aft import AFTClassifier
    >>> AFTClassifier(transfer="none")  # the baseline every transfer method is compared with
    AFTClassifier(transfer='none')
    """

    requires_teacher = False
    #: The plain baseline of ``module="auto"`` is the linear student (a logistic regression).
    default_student = "linear"

    def __init__(
        self,
        student_dim: int = 0,
        teacher_dims: tuple[int, ...] = (),
        *,
        beta: float = 0.0,
        lr: float | None = None,
        warmup: float = 0.0,
    ) -> None:
        super().__init__(student_dim, teacher_dims, beta=beta, lr=lr, warmup=warmup)

    def forward(self, student_features: torch.Tensor, teacher_features: torch.Tensor) -> torch.Tensor:
        return student_features.new_zeros(())
