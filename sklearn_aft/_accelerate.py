"""The one place that overrides private skorch API: training a fit on several devices with Accelerate.

skorch's ``AccelerateMixin`` wraps every module and criterion with the accelerator. The transfer method must
not be wrapped (DistributedDataParallel would hide the methods the loss calls), nor criteria without
parameters (DDP refuses them), and skorch has no public hook to say so: ``_initialize_accelerator`` is
overridden here, reading ``_modules``, ``_criteria`` and ``_wrapped_with_accelerator``.
``tests/test_accelerate.py::test_private_skorch_api_the_shim_relies_on`` fails when a skorch release
renames them.
"""

from __future__ import annotations

from skorch.hf import AccelerateMixin

from sklearn_aft._net import TransferNet

#: skorch's private names :class:`AcceleratedTransferNet` reads or overrides.
PRIVATE_SKORCH_API = ("_initialize_accelerator", "_wrapped_with_accelerator", "_modules", "_criteria")


class AcceleratedTransferNet(AccelerateMixin, TransferNet):
    """``TransferNet`` with skorch's ``AccelerateMixin``: one fit on several devices (``accelerate launch``).

    The student is wrapped by the accelerator (DistributedDataParallel across processes) and every process
    takes its own share of the batches, so the transfer term (AFT's kernel too) is computed on each device's
    batch. The transfer method is not wrapped, because DistributedDataParallel would hide the methods the loss
    calls: it is placed on the device, starts from process 0's values, and its gradients are averaged across
    processes by hand, which keeps the learned teacher weights identical in every process.
    """

    def _initialize_accelerator(self):
        if self._wrapped_with_accelerator:
            return self
        # Not for the accelerator to wrap: the transfer method (placed and synchronised below) and criteria
        # without parameters (DistributedDataParallel refuses modules with nothing to train).
        modules, criteria = list(self._modules), list(self._criteria)
        self._modules = [m for m in modules if m != "transfer"]
        self._criteria = [c for c in criteria if any(p.requires_grad for p in getattr(self, c + "_").parameters())]
        unwrapped = [c for c in criteria if c not in self._criteria]
        try:
            super()._initialize_accelerator()
        finally:
            self._modules, self._criteria = modules, criteria
        for name in ["transfer", *unwrapped]:
            getattr(self, name + "_").to(self.accelerator.device)
        if self.accelerator.num_processes > 1:
            from accelerate.utils import broadcast

            for tensor in [*self.transfer_.parameters(), *self.transfer_.buffers()]:
                tensor.data.copy_(broadcast(tensor.data.contiguous(), from_process=0))
        return self

    def train_step_single(self, batch, **fit_params):
        step = super().train_step_single(batch, **fit_params)  # the backward pass has run
        if self.accelerator.num_processes > 1 and self.accelerator.sync_gradients:
            for param in self.transfer_.parameters():
                if param.grad is not None:
                    param.grad = self.accelerator.reduce(param.grad, reduction="mean")
        return step
