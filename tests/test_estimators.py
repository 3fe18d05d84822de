"""Behaviour of AFTClassifier / AFTRegressor: inputs, transfer, parameters, persistence."""

import io
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from torch import nn

from sklearn_aft import AFTClassifier, AFTRegressor, concat_teachers
from sklearn_aft.transfer import AFTFeature, AFTKernel, NoTransfer

FAST = dict(module="mlp", max_epochs=15, batch_size=32, random_state=0)  # the MLP on mini-batches


def test_fit_predict_with_teacher(toy, baseline):
    X, y, F = toy
    clf = AFTClassifier(transfer="aft", transfer__beta=3.0, **FAST).fit(X, y, teacher_features=F)
    assert clf.predict(X).shape == (len(X),)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-6)
    assert clf.score(X, y) >= baseline(X, y, X, y) - 0.02  # measured: 0.975, LogisticRegression 0.975
    assert isinstance(clf.transfer_, AFTKernel)
    assert clf.transfer_.beta == 3.0
    assert clf.transfer_.feature_weights_.shape == (F.shape[1],)
    # the weights moved away from their start value sigmoid(0) = 0.5
    assert np.abs(clf.transfer_.feature_weights_ - 0.5).max() > 1e-3
    assert clf.teacher_blocks_ == (F.shape[1],)


def test_history_records_task_and_transfer_loss_per_epoch(toy):
    X, y, F = toy
    for transfer in ("aft", "aft_feature"):
        clf = AFTClassifier(transfer=transfer, transfer__warmup=0.0, **FAST).fit(X, y, teacher_features=F)
        assert len(clf.history_) == FAST["max_epochs"]
        first, last = clf.history_[0], clf.history_[-1]
        for key in ("train_loss", "task_loss", "transfer_loss"):
            assert np.isfinite(last[key])
        assert last["task_loss"] < first["task_loss"]
        assert last["transfer_loss"] < first["transfer_loss"]
        total = last["task_loss"] + clf.transfer_.beta * last["transfer_loss"]
        assert last["train_loss"] == pytest.approx(total, rel=1e-4)


def test_student_optimizer_groups(toy):
    X, y, F = toy
    clf = AFTClassifier(
        lr=2e-3, transfer="aft", transfer__lr=5e-2, optimizer="adamw", optimizer__weight_decay=0.01, **FAST
    )
    clf.fit(X, y, teacher_features=F)
    groups = clf.net_.optimizer_.param_groups
    assert isinstance(clf.net_.optimizer_, torch.optim.AdamW)
    assert [g["lr"] for g in groups] == [2e-3, 5e-2]
    assert groups[1]["params"] == [clf.transfer_.scale_logits]
    assert all(g["weight_decay"] == 0.01 for g in groups)


def test_no_teacher_or_none_is_the_plain_baseline(toy):
    X, y, F = toy
    plain = AFTClassifier(**FAST).fit(X, y)
    none = AFTClassifier(transfer="none", **FAST).fit(X, y, teacher_features=F)
    assert isinstance(plain.transfer_, NoTransfer) and isinstance(none.transfer_, NoTransfer)
    assert "transfer_loss" not in plain.history_[-1]
    np.testing.assert_allclose(plain.predict_proba(X), none.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_aft_feature_variant(toy, baseline):
    X, y, F = toy
    clf = AFTClassifier(
        module="mlp", transfer="aft_feature", module__hidden_sizes=(32, 16), max_epochs=40, random_state=0
    ).fit(X, y, teacher_features=F)
    assert isinstance(clf.transfer_, AFTFeature)
    assert clf.transfer_.projection.weight.shape == (16, F.shape[1])
    assert clf.transfer_.feature_weights_.shape == (F.shape[1],)
    assert clf.score(X, y) >= baseline(X, y, X, y) - 0.02  # measured: 0.975, LogisticRegression 0.975


def test_string_labels_dataframe_and_sparse(toy):
    X, y, F = toy
    names = np.array(["neg", "pos"])[y]
    df = pd.DataFrame(X, columns=[f"c{i}" for i in range(X.shape[1])])
    clf = AFTClassifier(**FAST).fit(df, names, teacher_features=F)
    assert set(clf.predict(df)) <= {"neg", "pos"}
    assert list(clf.feature_names_in_) == list(df.columns)
    dense = AFTClassifier(**FAST).fit(X, y, teacher_features=F)
    sparse = AFTClassifier(**FAST).fit(sp.csr_matrix(X), y, teacher_features=F)
    np.testing.assert_allclose(dense.predict_proba(X), sparse.predict_proba(sp.csr_matrix(X)), rtol=1e-4, atol=1e-5)


def test_sparse_input_is_densified_per_batch_only():
    class WatchedCSR(sp.csr_matrix):
        largest = 0

        def toarray(self, *a, **k):
            WatchedCSR.largest = max(WatchedCSR.largest, self.shape[0])
            return super().toarray(*a, **k)

    rng = np.random.RandomState(0)
    X = sp.random(300, 2000, density=0.01, format="csr", random_state=0, dtype=np.float32)
    y = rng.randint(0, 2, 300)
    from sklearn_aft._data import TransferDataset

    ds = TransferDataset(WatchedCSR(X), y.astype(np.int64))
    batch, _ = ds.__getitems__(list(range(32)))
    assert batch["X"].shape == (32, 2000)
    assert WatchedCSR.largest == 32
    AFTClassifier(batch_size=32, max_epochs=2, random_state=0).fit(X, y)  # end to end on a CSR


def test_unlabeled_rows_enter_transfer_only(toy):
    X, y, F = toy
    y_semi = y.copy()
    y_semi[40:] = -1
    clf = AFTClassifier(**FAST).fit(X, y_semi, teacher_features=F)
    assert list(clf.classes_) == [0, 1]
    # an epoch is one pass over the 40 labeled rows, 16 per batch, each batch filled up with unlabeled rows
    sizes = [b["train_batch_size"] for b in clf.history_[-1]["batches"]]
    assert sizes == [32, 32, 32]
    # without a teacher the unlabeled rows are dropped: the same model as fitting on labeled rows alone
    a = AFTClassifier(**FAST).fit(X, y_semi)
    b = AFTClassifier(**FAST).fit(X[:40], y[:40])
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_unlabeled_rows_with_string_labels(toy):
    X, y, F = toy
    labels = np.array(["a", "b"], dtype=object)[y]
    labels[50:] = -1
    clf = AFTClassifier(**FAST).fit(X, labels, teacher_features=F)
    assert list(clf.classes_) == ["a", "b"]


def test_regressor_1d_2d_and_nan_targets(toy, baseline):
    X, _, F = toy
    y = F[:, 0] + 0.5 * F[:, 1]
    reg = AFTRegressor(max_epochs=40, random_state=0).fit(X, y, teacher_features=F)
    assert reg.predict(X).shape == (len(X),)
    assert reg.score(X, y) >= baseline(X, y, X, y) - 0.01  # measured: 0.963, RidgeCV 0.963
    Y = np.c_[y, -y]
    Y_nan = Y.copy()
    Y_nan[60:] = np.nan  # unlabeled rows
    Y_nan[:10, 1] = np.nan  # one unknown target in labeled rows
    reg2 = AFTRegressor(max_epochs=40, random_state=0).fit(X, Y_nan, teacher_features=F)
    assert reg2.predict(X).shape == (len(X), 2)
    assert reg2.n_outputs_ == 2
    assert np.isfinite(reg2.history_[-1]["task_loss"])


def test_several_teachers_keep_their_blocks(toy):
    X, y, F = toy
    F1, F2 = F[:, :5], F[:, 5:]
    clf = AFTClassifier(transfer="aft_feature", **FAST).fit(X, y, teacher_features=[F1, F2])
    assert clf.teacher_blocks_ == (5, 7)
    assert [len(w) for w in clf.transfer_.split_by_teacher(torch.as_tensor(clf.transfer_.feature_weights_))] == [5, 7]
    pieces = clf.transfer_.split_by_teacher(clf.transfer_.feature_weights_)  # arrays split as arrays
    assert [type(w) for w in pieces] == [np.ndarray] * 2 and [len(w) for w in pieces] == [5, 7]
    np.testing.assert_array_equal(np.concatenate(pieces), clf.transfer_.feature_weights_)
    with pytest.raises(ValueError, match="expected 12 values"):
        clf.transfer_.split_by_teacher(np.ones(11))
    stacked = concat_teachers([F1, F2])
    assert stacked[np.arange(10)].blocks == (5, 7)
    assert pickle.loads(pickle.dumps(stacked)).blocks == (5, 7)
    same = AFTClassifier(transfer="aft_feature", **FAST).fit(X, y, teacher_features=stacked)
    np.testing.assert_allclose(same.predict_proba(X), clf.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_random_state_makes_fits_identical_and_leaves_global_rng(toy):
    X, y, F = toy
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = AFTClassifier(**FAST).fit(X, y, teacher_features=F)
    assert torch.equal(before, torch.get_rng_state())
    b = AFTClassifier(**FAST).fit(X, y, teacher_features=F)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = AFTClassifier(**{**FAST, "random_state": 1}).fit(X, y, teacher_features=F)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_prefixed_params_survive_clone_and_set_params(toy):
    X, y, F = toy
    clf = AFTClassifier(
        module="mlp", transfer="aft", transfer__beta=2.0, module__hidden_sizes=(16,), optimizer__weight_decay=1e-4
    )
    params = clf.get_params()
    assert params["transfer__beta"] == 2.0 and params["module__hidden_sizes"] == (16,)
    c = clone(clf)
    assert c.get_params()["transfer__beta"] == 2.0
    c.set_params(transfer__beta=5.0, transfer__learn_weights=False, max_epochs=3)
    assert c.transfer__beta == 5.0 and c.max_epochs == 3
    assert clf.transfer__beta == 2.0  # the clone is independent
    c.fit(X, y, teacher_features=F)
    assert c.transfer_.beta == 5.0 and not c.transfer_.learn_weights
    assert c.net_.module_.feature_dim == 16
    assert "transfer__beta=5.0" in repr(c)


def test_custom_module_class_and_instance(toy, baseline):
    X, y, F = toy

    class Tiny(nn.Module):
        def __init__(self, input_dim, output_dim, width=8):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(input_dim, width), nn.Tanh())
            self.head = nn.Linear(width, output_dim)

        def forward(self, X):
            h = self.body(X)
            return self.head(h), h

    FAST_TINY = {**FAST, "module": Tiny, "transfer": "aft_feature"}
    clf = AFTClassifier(module__width=6, **FAST_TINY).fit(X, y, teacher_features=F)
    assert clf.transfer_.student_dim == 6  # found by a forward pass: Tiny has no feature_dim
    inst = Tiny(X.shape[1], 2)
    w0 = inst.head.weight.detach().clone()
    untrained = (inst(torch.from_numpy(X))[0].argmax(1).numpy() == y).mean()
    clf2 = AFTClassifier(**{**FAST_TINY, "module": inst, "max_epochs": 60}).fit(X, y, teacher_features=F)
    assert torch.equal(inst.head.weight, w0)  # the user's instance is not trained in place
    # its copy trained from those weights: as good as a logistic regression on X, far from where it started
    assert clf2.score(X, y) >= baseline(X, y, X, y) - 0.03 and clf2.score(X, y) > untrained + 0.2


def test_module_must_return_output_and_features(toy):
    X, y, F = toy
    with pytest.raises(TypeError, match=r"\(output, features\)"):
        AFTClassifier(**{**FAST, "module": nn.Linear(X.shape[1], 2)}).fit(X, y, teacher_features=F)


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_persistence_round_trip_without_teacher(toy, dump):
    X, y, F = toy
    clf = AFTClassifier(**FAST).fit(X, y, teacher_features=F)
    buf = io.BytesIO()
    if dump == "pickle":
        pickle.dump(clf, buf)
    else:
        joblib.dump(clf, buf)
    blob = buf.getvalue()
    # no teacher feature matrix inside: far smaller than F itself would be... and no trace of it
    assert F[:3].tobytes() not in blob
    buf.seek(0)
    back = pickle.load(buf) if dump == "pickle" else joblib.load(buf)
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(back.predict(X), clf.predict(X))


def test_device_auto_resolves_to_cpu_here(toy):
    X, y, F = toy
    clf = AFTClassifier(device="auto", **FAST).fit(X, y, teacher_features=F)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert clf.net_.device == expected
    assert next(clf.net_.module_.parameters()).device.type == expected


def test_verbose_prints_epochs(toy, capsys):
    X, y, F = toy
    AFTClassifier(max_epochs=2, verbose=1, random_state=0).fit(X, y, teacher_features=F)
    out = capsys.readouterr()
    assert "transfer_loss" in out.out and "task_loss" in out.out


def test_max_epochs_auto_targets_a_step_budget(toy):
    from sklearn_aft._base import AUTO_STEPS

    X, y, F = toy
    clf = AFTClassifier(module="mlp", batch_size=32, random_state=0).fit(X, y, teacher_features=F)
    steps = sum(len(h["batches"]) for h in clf.history_)
    assert AUTO_STEPS <= steps < AUTO_STEPS + 5  # 5 batches of 32 per epoch
    y_semi = y.copy()
    y_semi[40:] = -1  # 3 mixed batches per epoch
    semi = AFTClassifier(module="mlp", batch_size=32, random_state=0).fit(X, y_semi, teacher_features=F)
    assert AUTO_STEPS <= sum(len(h["batches"]) for h in semi.history_) < AUTO_STEPS + 3


def test_warmup_ramps_the_transfer_weight(toy):
    X, y, F = toy
    clf = AFTClassifier(
        module="mlp", transfer="aft_feature", max_epochs=4, batch_size=32, transfer__beta=2.0, random_state=0
    )
    clf.fit(X, y, teacher_features=F)
    weights = [clf.transfer_.weight_at(e, 4) for e in range(1, 5)]
    assert weights == [0.0, 1.0, 2.0, 2.0]
    for h, w in zip(clf.history_, weights):
        assert h["train_loss"] == pytest.approx(h["task_loss"] + w * h["transfer_loss"], rel=1e-4)
    with pytest.raises(ValueError, match="transfer__warmup"):
        AFTClassifier(transfer="aft_feature", transfer__warmup=1.0, max_epochs=2).fit(X, y, teacher_features=F)


def test_method_params_without_teacher_features_are_checked_then_unused(toy):
    X, y, _ = toy
    clf = AFTClassifier(transfer="aft", transfer__learn_weights=False, transfer__beta=2.0, **FAST).fit(X, y)
    assert isinstance(clf.transfer_, NoTransfer) and clf.teacher_blocks_ == ()
    with pytest.raises(ValueError, match="transfer__beta"):
        AFTClassifier(transfer="aft", transfer__beta=-1.0, **FAST).fit(X, y)


def test_score_leaves_unlabeled_rows_out(toy, baseline):
    """Semi-supervised folds in GridSearchCV hold -1 / NaN rows: score only the labeled ones."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    X, y, F = toy
    y_semi = y.copy()
    y_semi[100:] = -1
    clf = AFTClassifier(**FAST).fit(X, y_semi, teacher_features=F)
    assert clf.score(X, y_semi) == clf.score(X[:100], y[:100])
    assert clf.score(pd.DataFrame(X), y_semi) == clf.score(X[:100], y[:100])
    w = np.linspace(0.1, 1, len(y))
    assert clf.score(X, y_semi, sample_weight=w) == clf.score(X[:100], y[:100], sample_weight=w[:100])
    with pytest.raises(ValueError, match="no labeled rows"):
        clf.score(X[100:], y_semi[100:])
    scores = cross_val_score(AFTClassifier(**FAST), X, y_semi, cv=3, params={"teacher_features": F})
    # each fold's score is the accuracy on its labeled rows, as a logistic regression's on them would be
    # (the plain accuracy over all rows would count every -1 row as an error)
    folds = StratifiedKFold(3).split(X, y_semi)
    bars = [baseline(X[tr], y_semi[tr], X[te][y_semi[te] >= 0], y_semi[te][y_semi[te] >= 0]) for tr, te in folds]
    assert scores.min() >= min(bars) - 0.05

    reg = AFTRegressor(max_epochs=20, random_state=0)
    target = (F[:, 0] + 0.5 * F[:, 1]).astype(np.float64)
    t_semi = target.copy()
    t_semi[100:] = np.nan
    reg.fit(X, t_semi, teacher_features=F)
    assert reg.score(X, t_semi) == reg.score(X[:100], target[:100])
