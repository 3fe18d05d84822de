"""The default student: a multi-layer perceptron that returns (output, penultimate features)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sklearn_aft._constraints import InvalidParameterError, Number, Real, StrOptions
from sklearn_aft.registry import register_student
from sklearn_aft.students._sparse import sparse_linear
from sklearn_aft.students.base import Student

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
}


@register_student("mlp")
class MLP(Student):
    """Fully connected student network.

    ``forward`` returns ``(output, features)``: ``features`` is the last hidden layer (after the
    activation, before dropout), which is what transfer methods compare with the teacher.

    Parameters
    ----------
    input_dim, output_dim : int
        Widths of the input and of the outputs; the estimators set them (see :class:`Student`).
    hidden_sizes : sequence of int, default=(256,)
        Widths of the hidden layers; the last one is the feature width seen by the transfer term.
    dropout : float, default=0.1
        Dropout probability after each hidden layer.
    activation : {"relu", "gelu", "silu", "tanh"} or nn.Module class, default="relu"
        Non-linearity after each hidden layer.

    Examples
    --------
    >>> import torch
    >>> from sklearn_aft.students import MLP
    >>> out, feats = MLP(input_dim=10, output_dim=3, hidden_sizes=(32, 16))(torch.zeros(4, 10))
    >>> tuple(out.shape), tuple(feats.shape)
    ((4, 3), (4, 16))
    """

    parameter_constraints = {
        "hidden_sizes": ["array-like"],
        "dropout": [Number(Real, 0, 1, closed="left")],
        "activation": [StrOptions(set(_ACTIVATIONS)), type],
    }
    input_ndim = 2
    #: Sparse X (e.g. TF-IDF) arrives as torch sparse batches: the first layer multiplies them without
    #: densifying (faster than a dense batch: ``benchmarks/results/overhead.md``).
    accepts_sparse = True

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        hidden_sizes: Sequence[int] = (256,),
        dropout: float = 0.1,
        activation: str | type[nn.Module] = "relu",
    ) -> None:
        super().__init__()
        if not len(hidden_sizes) or min(hidden_sizes) < 1:
            raise InvalidParameterError(
                f"The 'hidden_sizes' parameter of MLP must hold at least one positive width. Got {hidden_sizes!r} "
                "instead."
            )
        hidden_sizes = tuple(int(h) for h in hidden_sizes)
        if isinstance(activation, str):
            activation = _ACTIVATIONS[activation]
        layers: list[nn.Module] = []
        width = int(input_dim)
        for i, h in enumerate(hidden_sizes):
            if i:
                layers.append(nn.Dropout(dropout))
            layers += [nn.Linear(width, h), activation()]
            width = h
        self.body = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(width, int(output_dim))
        self.feature_dim = width

    def forward(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if X.layout != torch.strided:  # a sparse batch
            first = self.body[0]
            features = self.body[1:](sparse_linear(X, first))
        else:
            features = self.body(X)
        return self.head(self.dropout(features)), features
