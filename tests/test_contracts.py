"""The house rules: declared parameter constraints, the student contract, one rule for "labeled", the transfer
lifecycle, and the registry as the floor."""

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError
from torch import nn

from sklearn_aft import AFTClassifier, AFTRegressor
from sklearn_aft._labels import complete_rows, known, known_torch, labeled_rows
from sklearn_aft.students import MLP, Linear, Student, TimmStudent, student_traits
from sklearn_aft.teachers import FunctionEmbedder, SentenceEmbedder, TimmEmbedder
from sklearn_aft.transfer import AFTKernel, Combined, LogitKD, StackedKD, TalkingModels, TaskOriented, TransferMethod

PACKAGE = Path(__file__).parents[1] / "sklearn_aft"


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: AFTKernel(4, [4], lr=0), "The 'lr' parameter of AFTKernel must be"),
        (lambda: LogitKD(4, [4], cv=1), "The 'cv' parameter of LogitKD must be"),
        (lambda: TalkingModels(4, [4], adapter="rnn"), "The 'adapter' parameter of TalkingModels must be a str among"),
        (lambda: TaskOriented(4, [4], distill_fraction=1.0), "The 'distill_fraction' parameter of TaskOriented"),
        (lambda: StackedKD(4, [4], temperature=True), "The 'temperature' parameter of StackedKD"),
        (lambda: Linear(3, 2, C=0), "The 'C' parameter of Linear must be"),
        (lambda: MLP(3, 2, activation="swish"), "The 'activation' parameter of MLP must be"),
        (lambda: FunctionEmbedder(np.tanh, batch_size=0).transform(np.ones((2, 2))), "The 'batch_size' parameter"),
        (lambda: SentenceEmbedder(batch_size=1.5).fit(["a"]), "The 'batch_size' parameter of SentenceEmbedder"),
        (lambda: TimmEmbedder("test_vit", weights="random", amp="yes").fit(np.zeros((1, 8, 8, 3), np.uint8)), "amp"),
        (lambda: Combined(4, [4], terms={"kd": "heavy"}), "The 'terms' parameter of Combined"),
    ],
)
def test_every_invalid_parameter_gets_one_exception_and_one_message_format(build, match):
    with pytest.raises(InvalidParameterError, match=match):
        build()


def test_unknown_names_get_the_same_error_from_fit_and_set_params(toy):
    X, y, F = toy
    with pytest.raises(InvalidParameterError, match=r"got unexpected parameter\(s\) 'bogus'") as at_fit:
        AFTClassifier(bogus=1).fit(X, y, teacher_features=F)
    with pytest.raises(InvalidParameterError, match=r"got unexpected parameter\(s\) 'bogus'") as at_set:
        AFTClassifier().set_params(bogus=1)
    assert str(at_fit.value) == str(at_set.value)
    with pytest.raises(InvalidParameterError, match=r"'nope__x'"):
        AFTClassifier().set_params(nope__x=1)
    # nested parameters of a teacher still reach it
    clf = AFTClassifier(teacher=FunctionEmbedder(np.tanh)).set_params(teacher__batch_size=7)
    assert clf.teacher.batch_size == 7


def test_a_plugin_method_declares_its_constraints_and_inherits_the_base_ones(toy):
    from sklearn_aft._constraints import Interval, Real

    class Scaled(TransferMethod):
        parameter_constraints = {"scale": [Interval(Real, 0, None, closed="neither")]}

        def __init__(self, student_dim, teacher_dims, *, beta=1.0, lr=None, warmup=0.0, scale=1.0):
            super().__init__(student_dim, teacher_dims, beta=beta, lr=lr, warmup=warmup)
            self.scale = scale

        def forward(self, student_features, teacher_features):
            return self.scale * student_features.pow(2).mean()

    X, y, F = toy
    for params, name in [({"scale": -1.0}, "transfer__scale"), ({"beta": -1.0}, "transfer__beta")]:
        with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of AFTClassifier"):
            AFTClassifier(transfer=Scaled, **{f"transfer__{k}": v for k, v in params.items()}).fit(X, y)
    clf = AFTClassifier(transfer=Scaled, transfer__scale=2.0, module="mlp", max_epochs=1, random_state=0)
    assert clf.fit(X, y, teacher_features=F).transfer_.scale == 2.0
    # unpickling and copying build without arguments and check nothing
    import copy
    import pickle

    assert copy.deepcopy(clf.transfer_).scale == 2.0

    class PassesOn(TransferMethod):  # base parameters passed through **kwargs are checked too
        def __init__(self, student_dim, teacher_dims, mine=1.0, **kwargs):
            super().__init__(student_dim, teacher_dims, **kwargs)

    with pytest.raises(InvalidParameterError, match="The 'beta' parameter of PassesOn"):
        PassesOn(4, (3,), beta=-5.0)
    assert pickle.loads(pickle.dumps(AFTKernel(4, [4], beta=2.0))).beta == 2.0


def test_student_traits_fill_the_contract_defaults_for_any_module():
    plain = student_traits(nn.Linear)
    assert (plain.input_ndim, plain.accepts_sparse, plain.full_batch, plain.prepare_input) == (None, False, False, None)
    assert student_traits(Linear) == student_traits(Linear).__class__(2, True, True, None, None, "array", False, None)
    assert student_traits(MLP(input_dim=3, output_dim=2, hidden_sizes=(5,))).feature_dim == 5
    assert student_traits(TimmStudent).input_ndim == 4 and student_traits(TimmStudent).prepare_input is not None
    assert all(issubclass(cls, Student) for cls in (Linear, MLP, TimmStudent))


def test_a_plain_module_and_a_student_subclass_train_the_same(toy):
    """Subclassing Student is optional: it declares; a plain module with the same forward gets the defaults."""
    X, y, _ = toy

    class Plain(nn.Module):
        def __init__(self, input_dim, output_dim):
            super().__init__()
            self.linear = nn.Linear(input_dim, output_dim)

        def forward(self, X):
            return self.linear(X), X

    class Declared(Student):
        input_ndim = 2

        def __init__(self, input_dim, output_dim):
            super().__init__()
            self.linear = nn.Linear(input_dim, output_dim)
            self.feature_dim = input_dim

        def forward(self, X):
            return self.linear(X), X

    fits = [
        AFTClassifier(module=cls, transfer="none", optimizer="adam", max_epochs=3, random_state=0).fit(X, y)
        for cls in (Plain, Declared)
    ]
    np.testing.assert_array_equal(fits[0].predict_proba(X), fits[1].predict_proba(X))
    with pytest.raises(ValueError, match="takes 2-D input"):
        fits[1].predict(X[:, :, None])


def test_one_rule_for_labeled_in_numpy_and_torch():
    codes = np.array([0, -1, 2, 1, -1])
    targets = np.array([[1.0, np.nan], [np.nan, np.nan], [0.5, 2.0], [np.nan, 3.0]])
    for y in (codes, targets, targets[:, 0]):
        np.testing.assert_array_equal(known(y), known_torch(torch.from_numpy(y)).numpy())
    np.testing.assert_array_equal(labeled_rows(codes), complete_rows(codes))
    np.testing.assert_array_equal(labeled_rows(targets), [True, False, True, True])  # any target known
    np.testing.assert_array_equal(complete_rows(targets), [False, False, True, False])  # all known


def test_the_method_is_told_the_task_and_sees_transfer_targets(toy):
    seen = []

    class Recorder(TransferMethod):
        def fit_targets(self, teacher_features, y, random_state, *, task):
            seen.append((task, y.dtype.kind))
            return teacher_features[:, :2] * 0

        def forward(self, student_features, transfer_targets):
            seen.append(tuple(transfer_targets.shape[1:]))
            return student_features.sum() * 0.0

    X, y, F = toy
    AFTClassifier(transfer=Recorder, module="mlp", max_epochs=1, random_state=0).fit(X, y, teacher_features=F)
    AFTRegressor(transfer=Recorder, module="mlp", max_epochs=1, random_state=0).fit(X, F[:, 0], teacher_features=F)
    assert seen[0] == ("classification", "i") and ("regression", "f") in seen and (2,) in seen


def test_methods_that_set_their_own_schedule_declare_it():
    assert TaskOriented.sets_schedule and StackedKD.sets_schedule and not LogitKD.sets_schedule
    for name in ("task_oriented", "stacked_kd"):
        with pytest.raises(InvalidParameterError, match="set their own training schedule"):
            Combined(4, [4], terms={name: 1.0, "kd": 1.0})


def test_the_loss_parts_follow_skorchs_train_loss(toy):
    X, y, F = toy
    clf = AFTClassifier(transfer="aft", module="mlp", max_epochs=2, random_state=0).fit(X, y, teacher_features=F)
    names = [name for name, _ in clf.net_.callbacks_]
    assert names[names.index("train_loss") + 1 : names.index("train_loss") + 3] == ["task_loss", "transfer_loss"]
    assert {"task_loss", "transfer_loss"} <= set(clf.history_[-1])
    plain = AFTClassifier(transfer="none", max_epochs=1).fit(X, y)
    assert "transfer_loss" not in [name for name, _ in plain.net_.callbacks_]


def test_the_registry_imports_nothing_of_the_package():
    tree = ast.parse((PACKAGE / "registry.py").read_text())
    imported = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    ]
    assert not [m for m in imported if m and m.startswith("sklearn_aft")]
    # the built-ins register on the registry's first look-up of their kind (it imports their subpackage)
    code = "import sklearn_aft.registry as r; print(len(r.available_transfers()), len(r.available_students()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) >= 10 and int(out[1]) >= 3
