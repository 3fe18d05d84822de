"""The default student: a multi-layer perceptron that returns (output, penultimate features)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from sklearn_aft.registry import register_student
from sklearn_aft.students._sparse import sparse_linear

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
}


@register_student("mlp")
class MLP(nn.Module):
    """Fully connected student network.

    ``forward`` returns ``(output, features)``: ``features`` is the last hidden layer (after the
    activation, before dropout), which is what transfer methods compare with the teacher.

    Parameters
    ----------
    input_dim : int
        Width of the input. The estimators set it from the data.
    output_dim : int
        Number of outputs (classes or regression targets). The estimators set it from the data.
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

    #: Rank of the input batches this student takes (the estimators check X against it).
    input_ndim = 2
    #: Sparse X (e.g. TF-IDF) arrives as torch sparse batches: the first layer multiplies them without
    #: densifying (about 2x faster prediction on 18k TF-IDF columns than a dense batch).
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
        hidden_sizes = tuple(int(h) for h in hidden_sizes)
        if not hidden_sizes or min(hidden_sizes) < 1:
            raise ValueError(f"hidden_sizes must hold at least one positive width, got {hidden_sizes!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        if isinstance(activation, str):
            if activation not in _ACTIVATIONS:
                raise ValueError(f"unknown activation={activation!r}; choose one of {sorted(_ACTIVATIONS)}")
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
