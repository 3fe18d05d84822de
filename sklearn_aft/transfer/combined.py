"""Several transfer terms at once, with weights (e.g. logit KD plus AFT)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from sklearn_aft._constraints import InvalidParameterError, accepted_parameters
from sklearn_aft.registry import get_transfer, register_transfer
from sklearn_aft.transfer.base import TransferMethod


@register_transfer("combined")
class Combined(TransferMethod):
    """A weighted sum of registered transfer terms: ``sum_k weight_k * term_k``.

    Each term keeps its own targets (e.g. the teacher head's logits for ``"kd"``, the teacher features for
    ``"aft"``), its own trainable parts and their learning rates (a term's ``lr``, else this method's,
    else the student's); ``beta`` and ``warmup`` of the sum apply to all of them (the terms' own ``beta``
    and ``warmup`` are not used). Methods that set their own schedule (``sets_schedule``:
    ``"task_oriented"``, ``"stacked_kd"``) cannot be terms.

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
        classes = self._term_classes(terms, term_params)
        self.weights = {name: float(w) for name, w in dict(terms).items()}
        self.terms = nn.ModuleDict(
            {
                name: cls(
                    student_dim,
                    teacher_dims,
                    **{k.split("__", 1)[1]: v for k, v in term_params.items() if k.split("__", 1)[0] == name},
                )
                for name, cls in classes.items()
            }
        )
        self._widths: list[int] = []

    @classmethod
    def check_params(cls, params: dict, owner: str | None = None, prefix: str = "") -> None:
        # Its own parameters, then each term's <term>__<parameter> against that term's declaration; any other
        # name is refused by _term_classes.
        named = accepted_parameters(cls)[0] - {"student_dim", "teacher_dims"}
        own = {k: v for k, v in params.items() if k in named}
        super().check_params(own, owner, prefix)
        nested = {k: v for k, v in params.items() if k not in named}
        for name, term_cls in cls._term_classes(own.get("terms"), nested).items():
            mine = {k.split("__", 1)[1]: v for k, v in nested.items() if k.split("__", 1)[0] == name}
            term_cls.check_params(mine, owner or cls.__name__, f"{prefix}{name}__")

    @staticmethod
    def _term_classes(terms, term_params: dict) -> dict[str, type]:
        """The registered class of every term, after checking ``terms`` and the terms' parameter names."""
        try:
            weights = dict(terms or {})
        except (TypeError, ValueError):
            weights = {}
        numeric = all(
            isinstance(name, str) and isinstance(w, int | float) and not isinstance(w, bool)
            for name, w in weights.items()
        )
        if not weights or not numeric:
            raise InvalidParameterError(
                "The 'terms' parameter of Combined must map one or more registered method names to numeric "
                f"weights, e.g. {{'kd': 1.0, 'aft': 1.0}}. Got {terms!r} instead."
            )
        stray = sorted(k for k in term_params if k.split("__", 1)[0] not in weights or "__" not in k)
        if stray:
            raise InvalidParameterError(
                f"Combined got unexpected parameter(s) {stray}: its own are terms, beta, lr and warmup; give a "
                "term's parameters as <term>__<parameter>"
            )
        classes = {name: get_transfer(name) for name in weights}
        scheduled = [name for name, cls in classes.items() if cls.sets_schedule]
        if scheduled:
            raise InvalidParameterError(
                f"transfer terms {scheduled} set their own training schedule and cannot be combined"
            )
        return classes

    def fit_targets(self, teacher_features: np.ndarray, y: np.ndarray, random_state: int, *, task: str) -> np.ndarray:
        parts = [
            np.asarray(term.fit_targets(teacher_features, y, random_state, task=task)) for term in self.terms.values()
        ]
        self._widths = [p.shape[1] for p in parts]
        return np.hstack(parts)

    def loss(self, student_features, transfer_targets, student_output) -> torch.Tensor:
        widths = self._widths or [self.teacher_dim] * len(self.terms)
        parts = torch.split(transfer_targets, widths, dim=1)
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
