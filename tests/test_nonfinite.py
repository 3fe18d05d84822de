"""A fit whose loss or parameters become NaN or infinite raises, and leaves a fitted model as it was."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from skorch.history import History

from sklearn_aft import AFTClassifier, AFTRegressor
from sklearn_aft._net import FiniteCheck

FIXES = r"lr=.*StandardScaler.*GradientNormClipping"


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5)).astype(np.float32)
    F = rng.normal(size=(40, 8)).astype(np.float32)
    return X, F


def test_the_reported_regression_raises_instead_of_predicting_nan():
    # the case: L-BFGS at lr=1e6 reached a NaN loss and the fit returned a model predicting NaN
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5)).astype(np.float32)
    F = rng.normal(size=(200, 8))
    with pytest.raises(FloatingPointError, match=r"training diverged: the training loss became nan.*" + FIXES):
        AFTRegressor(lr=1e6, max_epochs=5, random_state=0).fit(X, 1000 * X[:, 0], teacher_features=F)


@pytest.mark.parametrize(
    "make, target",
    [
        (lambda **kw: AFTClassifier(optimizer="sgd", **kw), lambda X: (X[:, 0] > 0).astype(int)),
        (lambda **kw: AFTRegressor(**kw), lambda X: 1000 * X[:, 0]),
    ],
    ids=["classifier", "regressor"],
)
def test_a_diverging_refit_leaves_the_fitted_model_unchanged(data, make, target):
    X, F = data
    y = target(X)
    est = make(max_epochs=5, random_state=0).fit(X, y, teacher_features=F)
    before = est.predict(X)
    net, params = est.net_, est.get_params()
    with pytest.raises(FloatingPointError, match=r"training diverged.*lr=1e\+06.*" + FIXES):
        est.set_params(lr=1e6).fit(X, y, teacher_features=F)
    # set_params is the user's and stays; the fitted state is the first fit's
    assert est.lr == 1e6
    assert est.net_ is net
    np.testing.assert_array_equal(est.predict(X), before)
    assert {k: v for k, v in est.get_params().items() if k != "lr"} == {k: v for k, v in params.items() if k != "lr"}


class PoisonLastStep(Callback):
    """Sets a parameter to NaN after the last batch's loss was recorded (finite): only the end check sees it."""

    def on_batch_end(self, net, training=None, **kwargs):
        with torch.no_grad():
            next(net.module_.parameters()).fill_(float("nan"))


@pytest.mark.parametrize("Estimator", [AFTClassifier, AFTRegressor])
def test_parameters_that_end_non_finite_raise(data, Estimator):
    X, _ = data
    y = (X[:, 0] > 0).astype(int) if Estimator is AFTClassifier else X[:, 0]
    est = Estimator(module="mlp", transfer="none", max_epochs=1, batch_size=64, callbacks=[PoisonLastStep()])
    with pytest.raises(FloatingPointError, match=r"parameter '.*' became NaN or infinite at the end of training"):
        est.fit(X, y)
    assert not hasattr(est, "net_")


def test_the_check_is_a_default_callback_and_a_finite_fit_passes(data):
    X, F = data
    est = AFTClassifier(module="mlp", max_epochs=2, random_state=0)
    est.fit(X, (X[:, 0] > 0).astype(int), teacher_features=F)
    assert isinstance(dict(est.net_.callbacks_)["finite_check"], FiniteCheck)
    assert np.isfinite(est.predict_proba(X)).all()


def _fake_net(loss: float, param: float, processes: int):
    history = History()
    history.new_epoch()
    history.new_batch()
    history.record_batch("train_loss", loss)
    module = torch.nn.Linear(1, 1)
    with torch.no_grad():
        module.weight.fill_(param)
    accelerator = SimpleNamespace(num_processes=processes)
    return SimpleNamespace(history=history, module_=module, accelerator=accelerator, lr=0.1, optimizer=torch.optim.SGD)


def test_several_processes_stop_together_on_the_parameters():
    # a process's own loss may be NaN alone; stopping there would leave the others in their all-reduce
    check = FiniteCheck()
    check.on_batch_end(_fake_net(float("nan"), 1.0, processes=2), training=True)  # no per-process decision
    check.on_epoch_end(_fake_net(float("nan"), 1.0, processes=2))  # parameters finite everywhere: go on
    with pytest.raises(FloatingPointError, match="parameter 'weight' became NaN or infinite at epoch 1"):
        check.on_epoch_end(_fake_net(1.0, float("inf"), processes=2))
    with pytest.raises(FloatingPointError, match="loss became nan at epoch 1, batch 1"):
        check.on_batch_end(_fake_net(float("nan"), 1.0, processes=1), training=True)
