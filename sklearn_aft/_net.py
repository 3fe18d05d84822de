"""The private skorch net behind the estimators.

skorch keeps the training loop, callbacks, device handling and history; this subclass only changes
what a batch means (a dict with the student input and, at fit time, the transfer method's targets), how the
loss is computed (task loss on labeled rows + beta * transfer term on all rows) and how the
optimizer groups the transfer method's own parameters. One default callback, :class:`FiniteCheck`, stops a
fit whose loss or parameters stop being finite (the estimators' transactional fit then keeps the last model).
"""

from __future__ import annotations

import math

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, PassthroughScoring
from skorch.utils import to_tensor

from sklearn_aft._labels import known_torch
from sklearn_aft.students.base import student_penalty


def _diverged(what: str, net) -> FloatingPointError:
    optimizer = net.optimizer.__name__ if isinstance(net.optimizer, type) else type(net.optimizer).__name__
    lr = f"{net.lr:g}" if isinstance(net.lr, (int, float)) else repr(net.lr)
    return FloatingPointError(
        f"the student's training diverged: {what} (lr={lr}, optimizer {optimizer}). Lower the learning "
        "rate (lr=..., or lr='auto'), scale the input features and teacher features (e.g. a StandardScaler in "
        "front of the estimator), or clip the gradients with callbacks=[GradientNormClipping(gradient_clip_value="
        "1.0)] from skorch.callbacks. A previously fitted model is left unchanged"
    )


class FiniteCheck(Callback):
    """Stop a fit whose training loss or student parameters become NaN or infinite, with an error that says
    how to fix it (``FloatingPointError``), rather than return a model that predicts NaN.

    Per batch it reads the loss that skorch has already copied to the host for the history (a Python float:
    no extra device synchronisation), so a diverging fit stops at the first non-finite batch rather than
    training on NaN for the remaining epochs. The parameters are checked once at the end of training (the
    last optimizer step can overflow with a finite loss before it; one synchronisation per fit). In a fit
    over several processes (an accelerator) the per-process losses may differ, and a process that stopped
    alone would leave the others waiting in their gradient all-reduce: there, the parameters (identical in
    every process) are checked at the end of each epoch instead, so every process stops together.
    """

    def _distributed(self, net) -> bool:
        accelerator = getattr(net, "accelerator", None)
        return accelerator is not None and accelerator.num_processes > 1

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if not training or self._distributed(net):
            return
        loss = net.history[-1, "batches", -1, "train_loss"]
        if not math.isfinite(loss):
            epoch, batch_index = len(net.history), len(net.history[-1]["batches"])
            raise _diverged(f"the training loss became {loss} at epoch {epoch}, batch {batch_index}", net)

    def on_epoch_end(self, net, **kwargs):
        if self._distributed(net):
            self._check_parameters(net, f"at epoch {len(net.history)}")

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self._check_parameters(net, "at the end of training")

    def _check_parameters(self, net, when: str) -> None:
        named = [*net.module_.named_parameters(), *net.module_.named_buffers()]
        tensors = [(n, t) for n, t in named if t.is_floating_point() and t.numel()]
        if not tensors:
            return
        device = tensors[0][1].device
        finite = torch.stack([torch.isfinite(t.detach()).all().to(device) for _, t in tensors])
        if bool(finite.all()):  # one synchronisation for every tensor
            return
        name = tensors[int((~finite).nonzero()[0])][0]
        raise _diverged(f"the student's parameter {name!r} became NaN or infinite {when}", net)


class TransferNet(NeuralNet):
    """``NeuralNet`` whose module returns ``(output, features)`` and whose loss adds a transfer term.

    Parameters
    ----------
    transfer : TransferMethod
        The transfer method instance (registered as ``transfer_``, trained with the module).
    *args, **kwargs
        As for :class:`skorch.NeuralNet`.
    """

    def __init__(self, *args, transfer=None, **kwargs) -> None:
        self.transfer = transfer  # before NeuralNet.__init__, which forbids setting modules later
        super().__init__(*args, **kwargs)

    @property
    def _transfer_active(self) -> bool:
        return self.transfer is not None and self.transfer.requires_teacher

    @property
    def _default_callbacks(self):
        # skorch's defaults, with the two parts of the training loss scored right after it.
        parts = ["task_loss", "transfer_loss"] if self._transfer_active else ["task_loss"]
        callbacks = []
        for name, callback in super()._default_callbacks:
            callbacks.append((name, callback))
            if name == "train_loss":
                callbacks += [(part, PassthroughScoring(name=part, on_train=True)) for part in parts]
                callbacks.append(("finite_check", FiniteCheck()))  # before user callbacks see a NaN loss
        return callbacks

    def initialize_module(self):
        super().initialize_module()
        # Assigned here so skorch moves it to the device, saves it and sets its train/eval mode.
        self.transfer_ = self.initialized_instance(self.transfer, {})
        return self

    def initialize_optimizer(self, *args, **kwargs):
        # The transfer method's parameters get their own group (AFT's weights use lr 1e-2 in the
        # reference code), after the student's groups built as skorch would build them.
        args, kwargs = self.get_params_for_optimizer("optimizer", self.module_.named_parameters())
        groups = list(args[0])
        self._n_student_groups = len(groups)
        groups += self.transfer_.param_groups(kwargs["lr"])
        if isinstance(self.optimizer, type) and issubclass(self.optimizer, torch.optim.LBFGS):
            # L-BFGS takes a single parameter group: the transfer method's parameters share the student's rate
            groups = [p for group in groups for p in (group["params"] if isinstance(group, dict) else [group])]
            self._n_student_groups = 1
        self.optimizer_ = self.optimizer(groups, **kwargs)
        self._lr_scale = 1.0
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        super().on_train_begin(net, X=X, y=y, **kwargs)
        # The student's penalty (the linear student's L2 term) is one term of the objective summed over
        # the training rows; the batch loss is a mean, so the penalty is divided by the row count.
        self._n_train_rows = max(1, len(X)) if X is not None else 1

    def _with_penalty(self, loss: torch.Tensor) -> torch.Tensor:
        penalty = student_penalty(self.module_)
        if penalty is None:
            return loss
        return loss + penalty / getattr(self, "_n_train_rows", 1)

    def on_epoch_begin(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_begin(net, dataset_train=dataset_train, dataset_valid=dataset_valid, **kwargs)
        # Staged methods (task-oriented transfer) scale the student's learning rate in later stages. Only a
        # change of stage touches the rates, and relatively, so LR schedulers keep working.
        scale = self.transfer_.student_lr_scale_at(len(self.history), self.max_epochs)
        if scale != self._lr_scale:
            for group in self.optimizer_.param_groups[: self._n_student_groups]:
                group["lr"] *= scale / self._lr_scale
            self._lr_scale = scale

    def infer(self, x, **fit_params):
        # The transfer targets ride in the batch for the loss only: the module sees the input alone.
        x = to_tensor(x, device=self.device)
        return self.module_(x["X"], **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        output, features = y_pred
        y_true = to_tensor(y_true, device=self.device)
        mask = known_torch(y_true)
        if mask.any():
            task = self.criterion_(output[mask], y_true[mask])
        else:  # a batch of unlabeled rows only: no task signal, keep the graph connected
            task = output.sum() * 0.0
        if not training:
            return task
        self.history.record_batch("task_loss", task.item())
        targets = X.get("transfer_targets") if isinstance(X, dict) else None
        if not self._transfer_active or targets is None:
            return self._with_penalty(task)
        epoch = len(self.history)
        term = self.transfer_.loss(features, to_tensor(targets, device=self.device), output)
        self.history.record_batch("transfer_loss", term.item())
        task_weight = self.transfer_.task_weight_at(epoch, self.max_epochs)
        return self._with_penalty(task_weight * task + self.transfer_.weight_at(epoch, self.max_epochs) * term)
