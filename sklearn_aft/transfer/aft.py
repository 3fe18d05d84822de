"""Adaptive Feature Transfer (Qiu et al., ICML 2024), as the authors' code computes it.

Kernel form (``"aft"``): on each batch, centre the student features and the teacher features scaled by
learned per-dimension weights ``sigmoid(s)``, L2-normalise every row, and penalise the RMSE between the
two B x B Gram matrices. Only relative teacher weights matter (rows are normalised), so the kernel is
invariant to rotations and global scaling of the student features: the student keeps the freedom to
encode the teacher's similarity structure in any basis, and ``sigmoid(s)`` learns which teacher
dimensions are worth matching.

Feature form (``"aft_feature"``): a learned linear map from teacher to student features; the loss is the
mean squared error between the centred prediction and the centred student features. The direction
matters: the student is only penalised for features the teacher cannot explain.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from sklearn_aft.registry import register_transfer
from sklearn_aft.transfer.base import TransferMethod

_EPS = 1e-8  # as in the reference code: in the row norms and inside the square root


def centred_unit_rows(features: torch.Tensor) -> torch.Tensor:
    """Centre each column over the batch, then scale each row to unit L2 norm."""
    centred = features - features.mean(dim=0, keepdim=True)
    return centred / (centred.norm(dim=1, keepdim=True) + _EPS)


def linear_kernel(features: torch.Tensor) -> torch.Tensor:
    """Cosine-similarity Gram matrix of batch-centred features (B x B, unit diagonal)."""
    z = centred_unit_rows(features)
    return z @ z.T


@register_transfer("aft")
class AFTKernel(TransferMethod):
    """AFT with the kernel regulariser: ``sqrt(mean((K_student - K_teacher)^2) + 1e-8)``.

    Parameters
    ----------
    student_dim : int
        Width of the student features.
    teacher_dims : sequence of int
        Widths of the teacher blocks (several teachers are concatenated and share one weight vector).
    beta : float, default=1.0
        Weight of the kernel term (an RMSE of cosine similarities, typically 0.05-0.12); how it was chosen:
        ``docs/beta.md``.
    lr : float, default=1e-2
        Learning rate of the teacher-dimension weights ``s`` (the reference code's ``prior_lr``).
    warmup : float in [0, 1), default=0.5
        Share of the epochs over which the term's weight ramps linearly from 0 to ``beta``; 0 is the
        reference code. Without it the term stalls a student trained from scratch (``docs/defaults.md``).
    learn_weights : bool, default=True
        Learn ``s``; when False the weights stay at sigmoid(0) = 0.5, i.e. the plain teacher kernel.

    Attributes
    ----------
    feature_weights_ : ndarray of shape (sum(teacher_dims),)
        ``sigmoid(s)``, the learned weight of every teacher dimension.

    Examples
    --------
    >>> import torch
    >>> from sklearn_aft.transfer import AFTKernel
    >>> term = AFTKernel(student_dim=16, teacher_dims=[32, 8])
    >>> h, phi = torch.randn(64, 16), torch.randn(64, 40)
    >>> loss = term(h, phi)             # an RMSE between two 64 x 64 kernels
    >>> bool(0 < loss < 1), term.feature_weights_.shape
    (True, (40,))
    """

    def __init__(
        self,
        student_dim: int,
        teacher_dims: Sequence[int],
        *,
        beta: float = 1.0,
        lr: float | None = 1e-2,
        warmup: float = 0.5,
        learn_weights: bool = True,
    ) -> None:
        super().__init__(student_dim, teacher_dims, beta=beta, lr=lr, warmup=warmup)
        self.learn_weights = bool(learn_weights)
        self.scale_logits = nn.Parameter(torch.zeros(self.teacher_dim), requires_grad=self.learn_weights)

    def teacher_kernel(self, teacher_features: torch.Tensor) -> torch.Tensor:
        """``linear_kernel(teacher_features * sigmoid(s))``, with fewer operations on the weights' graph.

        Centring commutes with per-column weights, so the frozen features are centred outside the
        weights' graph and the weights enter as ``C diag(w^2) C^T``; the row norms are the square root of
        its diagonal. Same values as the reference formula (to float32 precision), about half the time
        at d = 1536.
        """
        centred = teacher_features - teacher_features.mean(dim=0, keepdim=True)
        gram = (centred * torch.sigmoid(self.scale_logits).pow(2)) @ centred.T
        norms = gram.diagonal().clamp_min(_EPS**2).sqrt() + _EPS
        return gram / (norms[:, None] * norms[None, :])

    def forward(self, student_features: torch.Tensor, teacher_features: torch.Tensor) -> torch.Tensor:
        gap = linear_kernel(student_features) - self.teacher_kernel(teacher_features)
        return torch.sqrt(gap.pow(2).mean() + _EPS)

    @property
    def feature_weights_(self) -> np.ndarray:
        return torch.sigmoid(self.scale_logits).detach().cpu().numpy()


@register_transfer("aft_feature")
class AFTFeature(TransferMethod):
    """AFT in feature space: ``mean((centre(P phi) - centre(h))^2)`` with a learned linear map ``P``.

    Parameters
    ----------
    student_dim : int
        Width of the student features ``h``.
    teacher_dims : sequence of int
        Widths of the teacher blocks ``phi``.
    beta : float, default=1.0
        Weight of the term; accuracy moved little between 0.3 and 3 on the benchmark tasks
        (``docs/beta.md``).
    lr : float, default=1e-2
        Learning rate of ``P``.
    warmup : float in [0, 1), default=0.5
        Share of the epochs over which the term's weight ramps up from 0 to ``beta``.

    Attributes
    ----------
    feature_weights_ : ndarray of shape (sum(teacher_dims),)
        L2 norm of ``P``'s column for every teacher dimension: how much a unit of each one moves the
        explained student features. It scales inversely with the dimension's spread, so compare
        dimensions of different spread (several teachers) by ``feature_weights_ * F.std(axis=0)``.

    Examples
    --------
    >>> import torch
    >>> from sklearn_aft.transfer import AFTFeature
    >>> term = AFTFeature(student_dim=16, teacher_dims=[32])
    >>> loss = term(torch.randn(64, 16), torch.randn(64, 32))
    >>> loss.ndim, term.projection.weight.shape
    (0, torch.Size([16, 32]))
    """

    def __init__(
        self,
        student_dim: int,
        teacher_dims: Sequence[int],
        *,
        beta: float = 1.0,
        lr: float | None = 1e-2,
        warmup: float = 0.5,
    ) -> None:
        super().__init__(student_dim, teacher_dims, beta=beta, lr=lr, warmup=warmup)
        # No bias: both sides are centred, so a bias would cancel.
        self.projection = nn.Linear(self.teacher_dim, self.student_dim, bias=False)

    def forward(self, student_features: torch.Tensor, teacher_features: torch.Tensor) -> torch.Tensor:
        predicted = self.projection(teacher_features)
        predicted = predicted - predicted.mean(dim=0, keepdim=True)
        target = student_features - student_features.mean(dim=0, keepdim=True)
        return (predicted - target).pow(2).mean()

    @property
    def feature_weights_(self) -> np.ndarray:
        return self.projection.weight.detach().norm(dim=0).cpu().numpy()
