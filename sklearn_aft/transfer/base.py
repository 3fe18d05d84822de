"""The interface every transfer method implements."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from sklearn_aft._constraints import DeclaredParameters, Number, Real, check_declared


class TransferMethod(DeclaredParameters, nn.Module):
    """A loss term that pulls the student towards a frozen teacher during ``fit``.

    The estimator builds one instance per fit, once the widths are known, as
    ``cls(student_dim=..., teacher_dims=..., **transfer_params)`` where ``transfer_params`` are the
    estimator's ``transfer__*`` parameters. Its trainable parameters (if any) are optimised with the
    student, in their own parameter group with learning rate ``lr``. The training loss on a batch is
    ``task_loss(labeled rows) + beta * self(student_features, teacher_features)`` over all rows.

    Subclasses implement :meth:`forward`; they only see torch tensors and never the estimator. They
    declare their parameters' valid values in ``parameter_constraints`` (scikit-learn's constraint
    objects, merged with the base's): the estimators check ``transfer__*`` against it before fitting
    anything, and every construction is checked too, with scikit-learn's message and
    ``InvalidParameterError``.

    Parameters
    ----------
    student_dim : int
        Width of the student's features (its penultimate layer).
    teacher_dims : sequence of int
        Widths of the teacher feature blocks, one per teacher, concatenated in this order.
    beta : float, default=1.0
        Weight of the transfer term in the training loss; must be finite and >= 0.
    lr : float or None, default=None
        Learning rate of this method's own parameters; None uses the student's.
    warmup : float in [0, 1), default=0.0
        Share of the epochs over which the weight of the term ramps linearly from 0 to ``beta``, so
        the student first learns the task (see the estimators' notes on when this matters).

    Examples
    --------
    A method of one's own (here: match the relative pairwise distances, as relational KD does), used
    by passing the class:

    >>> import numpy as np, torch
    >>> from sklearn_aft import AFTClassifier
    >>> from sklearn_aft.transfer import TransferMethod
    >>> class DistanceMatch(TransferMethod):
    ...     def forward(self, student_features, teacher_features):
    ...         ds = torch.cdist(student_features, student_features)
    ...         dt = torch.cdist(teacher_features, teacher_features)
    ...         return ((ds / ds.mean() - dt / dt.mean()) ** 2).mean()
    >>> rng = np.random.RandomState(0)
    >>> F = rng.normal(size=(64, 8)).astype("float32")
    >>> clf = AFTClassifier(transfer=DistanceMatch, transfer__beta=0.5, max_epochs=2, random_state=0)
    >>> clf.fit(F[:, :3], (F[:, 0] > 0).astype(int), teacher_features=F).transfer_.beta
    0.5
    """

    parameter_constraints = {
        "beta": [Number(Real, 0, np.inf, closed="left")],
        "lr": [Number(Real, 0, np.inf, closed="neither"), None],
        "warmup": [Number(Real, 0, 1, closed="left")],
    }
    #: Whether the method needs teacher features; without them the estimator trains the task alone.
    requires_teacher: bool = True
    #: Whether :meth:`fit_targets` takes ``student_input=``: the estimator's cross-validated probe of the
    #: student's own input (computed only for methods that declare it).
    uses_student_input: bool = False
    #: Whether the method sets the loss weights or the student's learning rate over the epochs itself
    #: (:meth:`weight_at`, :meth:`task_weight_at`, :meth:`student_lr_scale_at`): task-oriented transfer's
    #: stages, or a term that carries the labeled rows' task loss. Such a method cannot be a term of
    #: :class:`~sklearn_aft.transfer.Combined`, whose one schedule applies to every term.
    sets_schedule: bool = False
    #: The student of ``module="auto"``: methods that compare hidden features with the teacher's need a
    #: network that has some (the MLP); output-only methods may set ``"linear"``.
    default_student: str = "mlp"
    #: Whether the unlabeled rows train the student, read once :meth:`fit_targets` has run: a method that
    #: sets its teacher aside there (``stacked_kd``) says False, and the estimator then trains the student on
    #: the labeled rows alone, with their own L2 strength.
    uses_unlabeled_rows: bool = True

    def __init__(
        self,
        student_dim: int,
        teacher_dims: Sequence[int],
        *,
        beta: float = 1.0,
        lr: float | None = None,
        warmup: float = 0.0,
    ) -> None:
        super().__init__()
        self.warmup = float(warmup)
        self.student_dim = int(student_dim)
        self.teacher_dims = tuple(int(d) for d in teacher_dims)
        self.beta = float(beta)
        self.lr = lr

    @classmethod
    def check_params(cls, params: dict, owner: str | None = None, prefix: str = "") -> None:
        """Check parameters against the constructor's names and ``parameter_constraints``, building nothing.

        The estimators call it on their ``transfer__*`` parameters (``owner="AFTClassifier"``,
        ``prefix="transfer__"``) before fitting; a method whose parameters hold other methods' parameters
        (``"combined"``) overrides it to check those too.
        """
        check_declared(cls, params, owner or cls.__name__, prefix, fixed=("student_dim", "teacher_dims"))

    @property
    def teacher_dim(self) -> int:
        """Total width of the concatenated teacher features."""
        return sum(self.teacher_dims)

    def weight_at(self, epoch: int, max_epochs: int) -> float:
        """Weight of the term during ``epoch`` (1-based): ``beta``, ramped up over the warm-up epochs."""
        warm_epochs = self.warmup * max_epochs
        if warm_epochs <= 0:
            return self.beta
        return self.beta * min(1.0, (epoch - 1) / warm_epochs)

    def task_weight_at(self, epoch: int, max_epochs: int) -> float:
        """Weight of the task loss during ``epoch``: 1, except in staged methods (task-oriented transfer)."""
        return 1.0

    def student_lr_scale_at(self, epoch: int, max_epochs: int) -> float:
        """Factor on the student's learning rate during ``epoch``: 1, except in staged methods."""
        return 1.0

    def param_groups(self, default_lr: float) -> list[dict]:
        """Optimizer parameter groups of this method's trainable parameters (at ``lr``, or the student's)."""
        own = [p for p in self.parameters() if p.requires_grad]
        return [{"params": own, "lr": self.lr if self.lr is not None else default_lr}] if own else []

    def release(self) -> None:
        """Called once training ends: drop what prediction does not need (e.g. training-only adapters)."""

    def split_by_teacher(self, values: torch.Tensor | np.ndarray) -> list[torch.Tensor] | list[np.ndarray]:
        """Split a per-teacher-dimension vector (a tensor or an array, such as ``feature_weights_``) into
        one piece per teacher block, of the same type."""
        if len(values) != self.teacher_dim:
            raise ValueError(f"expected {self.teacher_dim} values (one per teacher dimension), got {len(values)}")
        if isinstance(values, torch.Tensor):
            return list(torch.split(values, list(self.teacher_dims)))
        return np.split(np.asarray(values), np.cumsum(self.teacher_dims)[:-1])

    def fit_targets(self, teacher_features: np.ndarray, y: np.ndarray, random_state: int, *, task: str) -> np.ndarray:
        """Per-row targets of the term (the *transfer targets*), computed once before training; by
        default the teacher features.

        Methods that distil something derived from the teacher (e.g. the predictions of a head fitted on
        the teacher features, for logit distillation) override this. ``task`` is ``"classification"``
        (``y`` holds class codes, -1 on unlabeled rows) or ``"regression"`` (``y`` holds standardised
        targets, NaN where unknown). A method that declares ``uses_student_input = True`` also gets
        ``student_input=``, the estimator's cross-validated probe of the student's own input.
        """
        return teacher_features

    def student_targets(self, transfer_targets: np.ndarray) -> np.ndarray | None:
        """What the student learns to output on each row, read from :meth:`fit_targets`' result, when the
        method has one (a regressor's ``stacked_kd``); None otherwise. The estimators choose the linear
        student's L2 strength for these targets."""
        return None

    def loss(
        self, student_features: torch.Tensor, transfer_targets: torch.Tensor, student_output: torch.Tensor
    ) -> torch.Tensor:
        """The (unweighted) term of one batch; by default ``forward(student_features, transfer_targets)``.

        Methods that compare the student's outputs rather than its features (logit distillation)
        override this instead of :meth:`forward`.
        """
        return self(student_features, transfer_targets)

    def forward(self, student_features: torch.Tensor, teacher_features: torch.Tensor) -> torch.Tensor:
        """Return the (unweighted) transfer loss of one batch as a scalar tensor."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"student_dim={self.student_dim}, teacher_dims={self.teacher_dims}, beta={self.beta}"
