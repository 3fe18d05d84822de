"""Several transfer terms at once, with weights (e.g. logit KD plus AFT)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from sklearn_aft.registry import get_transfer, register_transfer
from sklearn_aft.transfer.base import TransferMethod


def _is_staged(term: TransferMethod) -> bool:
    """Whether a term changes the task weight or the learning rate over the epochs (task-oriented)."""
    cls = type(term)
    return (
        cls.task_weight_at is not TransferMethod.task_weight_at
        or cls.student_lr_scale_at is not TransferMethod.student_lr_scale_at
    )


@register_transfer("combined")
class Combined(TransferMethod):
    """A weighted sum of registered transfer terms: ``sum_k weight_k * term_k``.

    Each term keeps its own targets (e.g. the teacher head's logits for ``"kd"``, the teacher features for
    ``"aft"``), its own trainable parts and their learning rates (a term's ``lr``, else this method's,
    else the student's); ``beta`` and ``warmup`` of the sum apply to all of them (the terms' own ``beta``
    and ``warmup`` are not used). Staged methods (``"task_oriented"``) cannot be terms.

    Parameters
    ----------
    student_dim, teacher_dims, beta, lr, warmup
        See :class:`~sklearn_aft.transfer.TransferMethod`.
    terms : dict of {name: weight} or sequence of (name, weight)
        The registered methods to add up, e.g. ``{"kd": 1.0, "aft": 1.0}``.
    **term_params
        Parameters of the terms, as ``<name>__<parameter>``; through an estimator:
        ``transfer__kd__temperature=3.0``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aft import AFTClassifier
    >>> rng = np.random.RandomState(0)
    >>> F = rng.normal(size=(120, 8)).astype("float32")
    >>> y = (F[:, 0] > 0).astype(int)
    >>> clf = AFTClassifier(transfer="combined", transfer__terms={"kd": 1.0, "aft": 0.5},
    ...                     transfer__kd__temperature=3.0, max_epochs=5, random_state=0)
    >>> sorted(clf.fit(F[:, :3], y, teacher_features=F).transfer_.terms)
    ['aft', 'kd']
    """

    def __init__(
        self,
        student_dim: int,
        teacher_dims: Sequence[int],
        *,
        terms: Mapping[str, float] | Sequence[tuple[str, float]] | None = None,
        beta: float = 1.0,
        lr: float | None = None,
        warmup: float = 0.0,
        **term_params,
    ) -> None:
        super().__init__(student_dim, teacher_dims, beta=beta, lr=lr, warmup=warmup)
        weights = dict(terms or {})
        if not weights:
            raise ValueError("transfer__terms must name at least one method, e.g. {'kd': 1.0, 'aft': 1.0}")
        for name, weight in weights.items():
            if not isinstance(name, str) or isinstance(weight, bool) or not isinstance(weight, (int, float)):
                raise TypeError(f"transfer__terms maps method names to numeric weights, got {name!r}: {weight!r}")
        stray = sorted(k for k in term_params if k.split("__", 1)[0] not in weights or "__" not in k)
        if stray:
            raise TypeError(f"unexpected parameter(s) {stray}: give a term's parameters as <term>__<parameter>")
        self.weights = {name: float(w) for name, w in weights.items()}
        self.terms = nn.ModuleDict(
            {
                name: get_transfer(name)(
                    student_dim,
                    teacher_dims,
                    **{k.split("__", 1)[1]: v for k, v in term_params.items() if k.split("__", 1)[0] == name},
                )
                for name in self.weights
            }
        )
        staged = [n for n, t in self.terms.items() if _is_staged(t)]
        if staged:
            raise ValueError(f"transfer terms {staged} change the training schedule and cannot be combined")
        self._widths: list[int] = []

    def fit_targets(self, teacher_features: np.ndarray, y: np.ndarray, random_state: int) -> np.ndarray:
        parts = [np.asarray(term.fit_targets(teacher_features, y, random_state)) for term in self.terms.values()]
        self._widths = [p.shape[1] for p in parts]
        return np.hstack(parts)

    def loss(self, student_features, teacher_targets, student_output) -> torch.Tensor:
        widths = self._widths or [self.teacher_dim] * len(self.terms)
        parts = torch.split(teacher_targets, widths, dim=1)
        total = 0.0
        for (name, term), part in zip(self.terms.items(), parts):
            total = total + self.weights[name] * term.loss(student_features, part, student_output)
        return total

    def forward(self, student_features, teacher_features):
        return self.loss(student_features, teacher_features, None)

    def param_groups(self, default_lr: float) -> list[dict]:
        # each term's own lr, else this method's lr, else the student's
        default = self.lr if self.lr is not None else default_lr
        return [group for term in self.terms.values() for group in term.param_groups(default)]

    def release(self) -> None:
        for term in self.terms.values():
            term.release()
