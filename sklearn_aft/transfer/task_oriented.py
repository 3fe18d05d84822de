"""Task-oriented transfer (Vemulapalli et al., ICML 2024), adapted to a frozen embedder as the teacher."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sklearn_aft._constraints import Number, Real
from sklearn_aft.registry import register_transfer
from sklearn_aft.transfer.kd import LogitKD


@register_transfer("task_oriented")
class TaskOriented(LogitKD):
    """Three stages: a teacher head on the labeled rows, distillation on the transfer set, fine-tuning.

    1. The teacher is adapted to the task: a head is fitted on the labeled rows' teacher features (the
       paper fine-tunes the foundation model; a frozen embedder only allows its head), cross-fitted as in
       :class:`LogitKD`.
    2. For the first ``distill_fraction`` of the epochs the student learns the head's soft predictions
       on the transfer set, i.e. every row (unlabeled rows, ``-1``, plus the labeled ones), with the
       task loss weighted by ``distill_task_weight`` (0: pure distillation, as in the paper).
    3. The rest of the epochs fine-tune on the labeled rows with the task loss alone, at the student's
       learning rate times ``finetune_lr_scale`` (the optimizer's state is kept, not reset).

    The transfer set is whatever unlabeled rows are passed to ``fit``; build one from a large pool with
    :func:`sklearn_aft.retrieval.retrieve_transfer_set` (the paper's retrieval-augmented transfer sets).

    Parameters
    ----------
    student_dim, teacher_dims, beta, lr, warmup
        See :class:`~sklearn_aft.transfer.TransferMethod`.
    temperature, head, cv
        Of the distillation; see :class:`LogitKD`.
    distill_fraction : float in (0, 1), default=0.5
        Share of the epochs spent distilling before fine-tuning.
    finetune_lr_scale : float, default=0.3
        Factor on the student's learning rate while fine-tuning.
    distill_task_weight : float, default=0.0
        Weight of the task loss while distilling.

    Examples
    --------
    >>> from sklearn_aft.transfer import TaskOriented
    >>> term = TaskOriented(student_dim=8, teacher_dims=[16], distill_fraction=0.6)
    >>> [term.task_weight_at(e, 10) for e in (1, 6, 7)], [term.weight_at(e, 10) for e in (6, 7)]
    ([0.0, 0.0, 1.0], [1.0, 0.0])
    """

    parameter_constraints = {
        "distill_fraction": [Number(Real, 0, 1, closed="neither")],
        "finetune_lr_scale": [Number(Real, 0, np.inf, closed="neither")],
        "distill_task_weight": [Number(Real, 0, np.inf, closed="left")],
    }
    sets_schedule = True  # distillation, then fine-tuning at another learning rate

    def __init__(
        self,
        student_dim: int,
        teacher_dims: Sequence[int],
        *,
        beta: float = 1.0,
        lr: float | None = None,
        warmup: float = 0.0,
        temperature: float = 2.0,
        head=None,
        cv: int = 5,
        distill_fraction: float = 0.5,
        finetune_lr_scale: float = 0.3,
        distill_task_weight: float = 0.0,
    ) -> None:
        super().__init__(
            student_dim, teacher_dims, beta=beta, lr=lr, warmup=warmup, temperature=temperature, head=head, cv=cv
        )
        self.distill_fraction = float(distill_fraction)
        self.finetune_lr_scale = float(finetune_lr_scale)
        self.distill_task_weight = float(distill_task_weight)

    def _distilling(self, epoch: int, max_epochs: int) -> bool:
        # at least one epoch of each stage when there are two epochs or more
        distill = min(max(1, math.ceil(self.distill_fraction * max_epochs)), max(1, max_epochs - 1))
        return epoch <= distill

    def weight_at(self, epoch: int, max_epochs: int) -> float:
        return super().weight_at(epoch, max_epochs) if self._distilling(epoch, max_epochs) else 0.0

    def task_weight_at(self, epoch: int, max_epochs: int) -> float:
        return self.distill_task_weight if self._distilling(epoch, max_epochs) else 1.0

    def student_lr_scale_at(self, epoch: int, max_epochs: int) -> float:
        return 1.0 if self._distilling(epoch, max_epochs) else self.finetune_lr_scale
