"""Relational knowledge distillation (Park et al., 2019): match pairwise distances and triplet angles."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from sklearn_aft.registry import register_transfer
from sklearn_aft.transfer.base import TransferMethod


def _distances(x: torch.Tensor) -> torch.Tensor:
    d = torch.cdist(x, x)
    off_diagonal = ~torch.eye(len(x), dtype=torch.bool, device=x.device)
    return d / d[off_diagonal].mean().clamp_min(1e-12)  # scale-free: normalised by the mean distance


def _angles(x: torch.Tensor) -> torch.Tensor:
    # cos of the angle at every anchor j between the directions to i and to k: (B, B, B)
    diff = F.normalize(x.unsqueeze(0) - x.unsqueeze(1), p=2, dim=2)
    return torch.bmm(diff, diff.transpose(1, 2))


@register_transfer("rkd")
class RKD(TransferMethod):
    """Relational KD: the student's batch geometry (distances, angles) matches the teacher's.

    ``(distance_weight * huber(d_s, d_t) + angle_weight * huber(a_s, a_t)) / 2`` on the raw features, no
    projection, with distances normalised by their batch mean. The defaults (1 and 2) are the weights of
    the reference implementation the AFT authors used.

    Parameters
    ----------
    student_dim, teacher_dims, beta, lr, warmup
        See :class:`~sklearn_aft.transfer.TransferMethod`.
    distance_weight : float, default=1.0
        Weight of the distance term.
    angle_weight : float, default=2.0
        Weight of the angle term (its cost grows as batch_size^3).

    Examples
    --------
    >>> import torch
    >>> from sklearn_aft.transfer import RKD
    >>> x = torch.randn(16, 8)
    >>> round(float(RKD(student_dim=8, teacher_dims=[8])(x, 3 * x)), 6)  # same geometry, another scale
    0.0
    """

    def __init__(
        self,
        student_dim: int,
        teacher_dims: Sequence[int],
        *,
        beta: float = 1.0,
        lr: float | None = None,
        warmup: float = 0.0,
        distance_weight: float = 1.0,
        angle_weight: float = 2.0,
    ) -> None:
        super().__init__(student_dim, teacher_dims, beta=beta, lr=lr, warmup=warmup)
        self.distance_weight = float(distance_weight)
        self.angle_weight = float(angle_weight)

    def forward(self, student_features: torch.Tensor, teacher_features: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            target_d, target_a = _distances(teacher_features), _angles(teacher_features)
        distance = F.smooth_l1_loss(_distances(student_features), target_d)
        angle = F.smooth_l1_loss(_angles(student_features), target_a) if self.angle_weight else 0.0
        return (self.distance_weight * distance + self.angle_weight * angle) / 2
