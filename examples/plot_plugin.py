"""
Writing a plugin: your own transfer method and student
======================================================

A transfer method is a :class:`torch.nn.Module` that subclasses
:class:`~sklearn_aft.transfer.TransferMethod` and returns one scalar loss per batch from the
student's features and the teacher's. A student is any :class:`torch.nn.Module` that returns
``(output, features)``. Both become usable *by name* (``transfer="cka"``, ``module="bottleneck"``)
once registered, and their constructor arguments become estimator parameters (``transfer__*``,
``module__*``) that ``clone``, ``set_params`` and grid search understand.

Here we write a term based on linear centred kernel alignment (CKA, Kornblith et al., 2019), which
asks the student's batch similarities to *correlate* with the teacher's rather than equal them, and
a student with a narrow bottleneck layer.
"""

# %%
# The transfer method
# -------------------
# The constructor receives the widths (``student_dim``, ``teacher_dims``) and the shared
# ``beta``/``lr``/``warmup``; extra keyword arguments are the method's own parameters, whose valid
# values it declares in ``parameter_constraints`` (scikit-learn's constraint objects). ``forward``
# sees torch tensors only, never the estimator.
from numbers import Real
from pathlib import Path

import numpy as np
import torch
from sklearn.base import clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval
from torch import nn

from sklearn_aft import AFTClassifier
from sklearn_aft.datasets import load_sms_spam
from sklearn_aft.registry import available_students, available_transfers, register_student, register_transfer
from sklearn_aft.students import Student
from sklearn_aft.teachers import SentenceEmbedder, embed
from sklearn_aft.transfer import TransferMethod


@register_transfer("cka")
class LinearCKA(TransferMethod):
    """1 - linear CKA between the student's and the teacher's features of a batch.

    Parameters
    ----------
    student_dim, teacher_dims, beta, lr, warmup
        See :class:`~sklearn_aft.transfer.TransferMethod`.
    eps : float, default=1e-6
        Added to the denominator.
    """

    parameter_constraints = {"eps": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, student_dim, teacher_dims, *, beta=1.0, lr=None, warmup=0.5, eps=1e-6):
        super().__init__(student_dim, teacher_dims, beta=beta, lr=lr, warmup=warmup)
        self.eps = float(eps)

    def forward(self, student_features, teacher_features):
        h = student_features - student_features.mean(0)
        t = teacher_features - teacher_features.mean(0)
        cross = (t.T @ h).square().sum()  # ||T^T H||_F^2 = <K_h, K_t> for linear kernels
        norm = torch.sqrt((h.T @ h).square().sum() * (t.T @ t).square().sum())
        return 1 - cross / (norm + self.eps)


# %%
# The student
# -----------
# The estimator builds it as ``cls(input_dim=..., output_dim=..., **module_params)``. Subclassing
# :class:`~sklearn_aft.students.Student` is optional; it documents what a student may declare:
# ``feature_dim`` tells the transfer method how wide the features are, ``input_ndim`` which inputs to
# accept.


@register_student("bottleneck")
class Bottleneck(Student):
    """Input -> hidden (ReLU) -> a narrow linear bottleneck (the features) -> output."""

    input_ndim = 2

    def __init__(self, input_dim, output_dim, hidden=256, width=32):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(input_dim, hidden), nn.ReLU(), nn.Linear(hidden, width))
        self.head = nn.Linear(width, output_dim)
        self.feature_dim = width

    def forward(self, X):
        features = self.body(X)
        return self.head(torch.relu(features)), features


print("cka" in available_transfers(), "bottleneck" in available_students())

# %%
# Using them by name
# ------------------
# 100 labeled and 900 unlabeled SMS messages, MiniLM teacher features from the per-text cache.
texts, y = load_sms_spam(subset="train", return_X_y=True)
test_texts, y_test = load_sms_spam(subset="test", return_X_y=True)
texts, _, y, _ = train_test_split(texts, y, train_size=1000, stratify=y, random_state=0)
unlabeled, _ = train_test_split(np.arange(len(y)), train_size=900, stratify=y, random_state=0)
y_semi = y.copy()
y_semi[unlabeled] = -1
vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2).fit(texts)
X, X_test = vectorizer.transform(texts), vectorizer.transform(test_texts)
F = embed(SentenceEmbedder(batch_size=64), texts, memory=Path.home() / ".cache" / "sklearn-aft")

clf = AFTClassifier(transfer="cka", transfer__beta=1.0, module="bottleneck", module__width=32, random_state=0)
for transfer in ["none", "aft_feature", "cka"]:
    model = clone(clf).set_params(transfer=transfer).fit(X, y_semi, teacher_features=F)
    print(f"{transfer:12s} test accuracy {model.score(X_test, y_test):.3f}")
print(model.transfer_)  # the fitted term, with its parameters

# %%
# Bad parameters fail at ``fit``, before any training, with scikit-learn's message and exception
# (``InvalidParameterError``, a ``ValueError``):
try:
    clone(clf).set_params(transfer__eps=-1.0).fit(X, y_semi, teacher_features=F)
except ValueError as error:
    print(type(error).__name__, error)

# %%
# Publishing it
# -------------
# Registration by decorator lasts as long as the process. To let every user of your package write
# ``transfer="cka"`` without importing anything, declare entry points in its ``pyproject.toml``;
# sklearn-aft loads them on the first look-up of a name:
#
# .. code-block:: toml
#
#     [project.entry-points."sklearn_aft.transfers"]
#     cka = "my_package.transfer:LinearCKA"
#
#     [project.entry-points."sklearn_aft.students"]
#     bottleneck = "my_package.students:Bottleneck"
#
#     [project.entry-points."sklearn_aft.teachers"]
#     my_teacher = "my_package.teachers:MyTeacher"   # a BaseTeacher subclass
#
# A plugin that fails to import is skipped with a warning naming its distribution, and built-in names
# cannot be taken over. ``examples/plugin/`` in the source repository is a complete, installable
# plugin with a method, a teacher and a student; :doc:`/methods` explains the rest of the interface
# (terms on the student's outputs, staged training, training-only parts).
