"""The contract between the estimators and a student network, written down once.

Any ``nn.Module`` whose ``forward(X)`` returns ``(output, features)`` can be a student. What else the
estimators ask of it is declared as attributes, all optional, with the defaults of :class:`Student`;
:func:`student_traits` reads them from a student class or instance, and is the only place the estimators
look them up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from sklearn_aft._constraints import DeclaredParameters


class Student(DeclaredParameters, nn.Module):
    """Base class of students: a torch module that returns its outputs and the features transfer sees.

    Subclassing it is optional (a plain ``nn.Module`` with the same ``forward`` works); it documents the
    contract, gives every declaration its default, and checks the constructor's arguments against
    ``parameter_constraints`` (scikit-learn's constraint objects) before ``__init__`` runs.

    What the estimators do with a student:

    - **Build it** (a class or a registered name) with the ``module__*`` parameters, adding
      ``input_dim`` (the width of X), ``output_dim`` (classes or targets) and ``task``
      (``"classification"`` or ``"regression"``) when the constructor takes them and the user did not
      give them. An instance is copied and trained from its weights.
    - **Check X** against ``input_ndim``; a student with ``prepare_input`` checks and lays out input of
      rank above 2 (images) itself, and 2-D input is validated as a numeric matrix.
    - **Batch it**: sparse X reaches a student with ``accepts_sparse`` as torch sparse CSR batches, and
      other students as dense batches.
    - **Train it** with skorch, on ``task loss + transfer term``, plus ``penalty()`` divided by the number
      of training rows; ``optimizer="auto"`` solves a ``full_batch`` student with full-batch L-BFGS.
    - **Compare its features** (the second output, of width ``feature_dim``) with the teacher's.

    Attributes
    ----------
    input_ndim : int or None
        Rank of the input batches (2 for feature matrices, 4 for images); None takes any rank.
    accepts_sparse : bool
        Whether ``forward`` takes torch sparse CSR batches.
    full_batch : bool
        A convex problem, solved with full-batch L-BFGS by ``optimizer="auto"`` (up to 200,000 rows).
    feature_dim : int or None
        Width of the features; None has the estimators measure it with one forward pass on two rows.
    prepare_input : callable or None
        A static method ``prepare_input(X) -> X`` that checks and lays out input of rank above 2.
    input_kind : {"array", "text"}
        ``"text"``: X is raw texts, which the estimators check and hand to the built student's
        ``tokenize(texts)``; its result is what the batches are cut from, and the student's ``pooled(tokens)``
        is the frozen view of them that the input probe of ``stacked_kd`` reads.
    sparse_gradients : bool
        Some parameters get sparse gradients (an embedding table): Adam becomes
        :class:`~sklearn_aft._optim.SparseDenseAdam`.
    default_lr : float or None
        The learning rate of ``lr="auto"`` with Adam (None: 1e-3).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sklearn_aft.students import Student
    >>> class Bilinear(Student):
    ...     input_ndim = 2
    ...     def __init__(self, input_dim, output_dim, width=8):
    ...         super().__init__()
    ...         self.body, self.head = nn.Linear(input_dim, width), nn.Linear(width, output_dim)
    ...         self.feature_dim = width
    ...     def forward(self, X):
    ...         features = self.body(X) * self.body(X)
    ...         return self.head(features), features
    >>> out, features = Bilinear(input_dim=3, output_dim=2)(torch.zeros(5, 3))
    >>> tuple(out.shape), tuple(features.shape)
    ((5, 2), (5, 8))
    """

    input_ndim: int | None = None
    accepts_sparse: bool = False
    full_batch: bool = False
    feature_dim: int | None = None
    prepare_input: Callable[[np.ndarray], np.ndarray] | None = None
    input_kind: str = "array"
    sparse_gradients: bool = False
    default_lr: float | None = None

    def penalty(self) -> torch.Tensor | None:
        """A term added to the training loss, divided by the number of training rows (None: no term)."""
        return None

    def forward(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(output, features)`` for a batch of inputs."""
        raise NotImplementedError


@dataclass(frozen=True)
class StudentTraits:
    """What a student declares, with :class:`Student`'s defaults for what it does not."""

    input_ndim: int | None
    accepts_sparse: bool
    full_batch: bool
    feature_dim: int | None
    prepare_input: Callable[[np.ndarray], np.ndarray] | None
    input_kind: str
    sparse_gradients: bool
    default_lr: float | None


def student_traits(student: type | nn.Module) -> StudentTraits:
    """The declarations of a student class or instance (any ``nn.Module``), defaults filled in.

    Examples
    --------
    >>> from torch import nn
    >>> from sklearn_aft.students import MLP, student_traits
    >>> student_traits(nn.Linear).input_ndim is None, student_traits(MLP).accepts_sparse
    (True, True)
    """
    values = {name: getattr(student, name, getattr(Student, name)) for name in StudentTraits.__dataclass_fields__}
    if isinstance(student, type):
        values["feature_dim"] = None  # an instance attribute, known once the student is built
    return StudentTraits(**values)


def student_penalty(module: nn.Module) -> torch.Tensor | None:
    """The student's ``penalty()`` term, or None when it has none."""
    penalty = getattr(module, "penalty", None)
    return penalty() if penalty is not None else None
