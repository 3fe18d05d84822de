"""The private skorch net behind the estimators.

skorch keeps the training loop, callbacks, device handling and history; this subclass only changes
what a batch means (a dict with the student input and, at fit time, the transfer method's targets), how the
loss is computed (task loss on labeled rows + beta * transfer term on all rows) and how the
optimizer groups the transfer method's own parameters.
"""

from __future__ import annotations

import torch
from skorch import NeuralNet
from skorch.callbacks import PassthroughScoring
from skorch.utils import to_tensor

from sklearn_aft._labels import known_torch
from sklearn_aft.students.base import student_penalty


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
