"""Transfer methods: loss terms that move a teacher's knowledge into the student during fit.

Each method is a :class:`TransferMethod` registered by name; the estimators pick one with
``transfer="<name>"`` and pass it the ``transfer__*`` parameters.
"""

from sklearn_aft.transfer.aft import AFTFeature, AFTKernel, linear_kernel
from sklearn_aft.transfer.base import TransferMethod
from sklearn_aft.transfer.combined import Combined
from sklearn_aft.transfer.fitnet import FitNet
from sklearn_aft.transfer.kd import Hybrid, LogitKD
from sklearn_aft.transfer.none import NoTransfer
from sklearn_aft.transfer.rkd import RKD
from sklearn_aft.transfer.stacked import StackedKD
from sklearn_aft.transfer.talking import TalkingModels
from sklearn_aft.transfer.task_oriented import TaskOriented

__all__ = [
    "AFTFeature",
    "AFTKernel",
    "Combined",
    "FitNet",
    "Hybrid",
    "LogitKD",
    "NoTransfer",
    "RKD",
    "StackedKD",
    "TalkingModels",
    "TaskOriented",
    "TransferMethod",
    "linear_kernel",
]
