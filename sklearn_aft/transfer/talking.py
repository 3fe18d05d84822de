"""Talking Models (Zhao et al., 2023): interactive distillation through learned messages, adapted to a frozen
embedder as the teacher."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sklearn_aft._constraints import Integral, Number, Real, StrOptions
from sklearn_aft.registry import register_transfer
from sklearn_aft.transfer.base import TransferMethod


def _adapter(n_in: int, n_out: int, kind: str, hidden: int) -> nn.Module:
    if kind == "linear":
        return nn.Linear(n_in, n_out)
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out))


@register_transfer("talking")
class TalkingModels(TransferMethod):
    """Student and teacher exchange messages in a shared space; the student learns from the replies.

    Four adapters, trained with the student and discarded after ``fit``: encoders ``E_s`` (student features
    to message) and ``E_t`` (teacher features to message), decoders ``D_s`` (message to student features)
    and ``D_t`` (message to teacher features). With ``h`` the student's features and ``phi`` the teacher's:

    - interaction, ``n_rounds`` times: the student's message, decoded as a teacher state, re-encoded by the
      teacher side and decoded back by the student, must give back ``h``:
      ``d(D_s(E_t(D_t(E_s(h)))), h)``. A frozen embedder exposes one vector, so the teacher's
      "interpretation" between decoding and re-encoding is the identity.
    - message consistency: ``d(E_s(h), E_t(phi))``, the two models say the same about the same input.
    - state consistency: ``d(D_t(E_s(h)), phi)``, plus the reconstructions ``d(D_t(E_t(phi)), phi)`` and
      ``d(D_s(E_s(h)), h)``.

    The term is ``w_interact * interaction + w_mc * message + w_sc * state``. Against collapse (constant
    messages satisfy message consistency trivially) messages are L2-normalised (``normalize_messages``)
    and the reconstruction terms stay on; the interaction target ``h`` is detached (``detach_target``) so the
    student is pulled towards what came back, not the reverse. The papers' exact loss pairings are not
    published; this follows the method notes (``docs/methods.md``).

    Parameters
    ----------
    student_dim, teacher_dims, beta, lr, warmup
        See :class:`~sklearn_aft.transfer.TransferMethod` (``lr=None``: the student's).
    message_dim : int, default=64
        Width of the shared message space.
    adapter : {"mlp", "linear"}, default="mlp"
        Dense-ReLU-Dense or linear adapters.
    adapter_hidden : int, default=128
        Hidden width of the MLP adapters.
    n_rounds : int, default=1
        Interaction rounds (each feeds the student's decoded reply back in).
    w_interact, w_mc, w_sc : float, default=1.0
        Weights of the interaction, message-consistency and state-consistency losses.
    normalize_messages : bool, default=True
        L2-normalise messages (the distance between messages is then a cosine distance).
    detach_target : bool, default=True
        Stop the gradient through the interaction target.

    Examples
    --------
    >>> import torch
    >>> from sklearn_aft.transfer import TalkingModels
    >>> term = TalkingModels(student_dim=16, teacher_dims=[32], message_dim=8)
    >>> loss = term(torch.randn(10, 16), torch.randn(10, 32))
    >>> loss.ndim, sorted(term.adapters)
    (0, ['D_s', 'D_t', 'E_s', 'E_t'])
    >>> term.release(); term.adapters is None   # discarded once fit is over
    True
    """

    parameter_constraints = {
        "message_dim": [Number(Integral, 1, None, closed="left")],
        "adapter": [StrOptions({"mlp", "linear"})],
        "adapter_hidden": [Number(Integral, 1, None, closed="left")],
        "n_rounds": [Number(Integral, 1, None, closed="left")],
        **{w: [Number(Real, 0, np.inf, closed="left")] for w in ("w_interact", "w_mc", "w_sc")},
    }

    def __init__(
        self,
        student_dim: int,
        teacher_dims: Sequence[int],
        *,
        beta: float = 1.0,
        lr: float | None = None,
        warmup: float = 0.0,
        message_dim: int = 64,
        adapter: str = "mlp",
        adapter_hidden: int = 128,
        n_rounds: int = 1,
        w_interact: float = 1.0,
        w_mc: float = 1.0,
        w_sc: float = 1.0,
        normalize_messages: bool = True,
        detach_target: bool = True,
    ) -> None:
        super().__init__(student_dim, teacher_dims, beta=beta, lr=lr, warmup=warmup)
        s, t = self.student_dim, self.teacher_dim
        self.adapters: nn.ModuleDict | None = nn.ModuleDict(
            {
                "E_s": _adapter(s, message_dim, adapter, adapter_hidden),
                "D_s": _adapter(message_dim, s, adapter, adapter_hidden),
                "E_t": _adapter(t, message_dim, adapter, adapter_hidden),
                "D_t": _adapter(message_dim, t, adapter, adapter_hidden),
            }
        )
        self.n_rounds = n_rounds
        self.w_interact, self.w_mc, self.w_sc = float(w_interact), float(w_mc), float(w_sc)
        self.normalize_messages = bool(normalize_messages)
        self.detach_target = bool(detach_target)

    def _encode(self, name: str, x: torch.Tensor) -> torch.Tensor:
        message = self.adapters[name](x)
        return F.normalize(message, dim=1) if self.normalize_messages else message

    def forward(self, student_features: torch.Tensor, teacher_features: torch.Tensor) -> torch.Tensor:
        if self.adapters is None:
            raise RuntimeError("the Talking Models adapters were released after fit")
        a, h, phi = self.adapters, student_features, teacher_features
        target = h.detach() if self.detach_target else h
        m_s, m_t = self._encode("E_s", h), self._encode("E_t", phi)
        interaction = h
        for _ in range(self.n_rounds):
            reply = self._encode("E_t", a["D_t"](self._encode("E_s", interaction)))
            interaction = a["D_s"](reply)
        interact = F.mse_loss(interaction, target)
        message = (m_s - m_t).pow(2).sum(dim=1).mean()  # 2 (1 - cos) when the messages are normalised
        state = F.mse_loss(a["D_t"](m_s), phi) + F.mse_loss(a["D_t"](m_t), phi) + F.mse_loss(a["D_s"](m_s), target)
        return self.w_interact * interact + self.w_mc * message + self.w_sc * state

    def release(self) -> None:
        self.adapters = None  # training-only: a fitted student predicts without them
