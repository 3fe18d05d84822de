"""Feature regression (FitNets): the student's features, through a learned linear map, predict the teacher's."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sklearn_aft.registry import register_transfer
from sklearn_aft.transfer.base import TransferMethod


@register_transfer("fitnet")
class FitNet(TransferMethod):
    """``mean((W h - phi)^2)``: a linear map ``W`` of the student features ``h`` regresses the teacher's.

    What the AFT paper and its code call "KD" (Romero et al., 2014 style feature regression): unlike
    AFT's feature form, the student must carry *all* of the teacher's features, not only those that
    help explain its own.

    Parameters
    ----------
    student_dim, teacher_dims, beta, lr, warmup
        See :class:`~sklearn_aft.transfer.TransferMethod` (``lr=None``: the student's learning rate, as
        in the authors' code).

    Examples
    --------
    >>> import torch
    >>> from sklearn_aft.transfer import FitNet
    >>> term = FitNet(student_dim=16, teacher_dims=[32])
    >>> term(torch.randn(8, 16), torch.randn(8, 32)).ndim, term.regressor.weight.shape
    (0, torch.Size([32, 16]))
    """

    def __init__(
        self,
        student_dim: int,
        teacher_dims: Sequence[int],
        *,
        beta: float = 1.0,
        lr: float | None = None,
        warmup: float = 0.0,
    ) -> None:
        super().__init__(student_dim, teacher_dims, beta=beta, lr=lr, warmup=warmup)
        self.regressor = nn.Linear(self.student_dim, self.teacher_dim)

    def forward(self, student_features: torch.Tensor, teacher_features: torch.Tensor) -> torch.Tensor:
        return (self.regressor(student_features) - teacher_features).pow(2).mean()
