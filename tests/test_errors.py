"""Bad input gets a clear error, and a failed fit leaves a fitted estimator as it was."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_aft import AFTClassifier, AFTRegressor

FAST = dict(module="mlp", max_epochs=3, batch_size=32, random_state=0)


@pytest.fixture
def fitted(toy):
    X, y, F = toy
    return AFTClassifier(**FAST).fit(X, y, teacher_features=F)


def _state(est):
    return est.predict_proba(np.zeros((2, est.n_features_in_), dtype=np.float32)), est.n_features_in_, est.net_


@pytest.mark.parametrize(
    "change, error, match",
    [
        (lambda X, y, F: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X), y, F), ValueError, "NaN"),
        (lambda X, y, F: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.inf, X), y, F), ValueError, "infinity"),
        (
            lambda X, y, F: (X, y, np.where(np.arange(F.size).reshape(F.shape) == 5, np.nan, F)),
            ValueError,
            "teacher_features.*NaN",
        ),
        (
            lambda X, y, F: (X, y, np.where(np.arange(F.size).reshape(F.shape) == 5, np.inf, F)),
            ValueError,
            "teacher_features.*infinity",
        ),
        (lambda X, y, F: (X, y, F[:-1]), ValueError, "teacher_features has 159 rows but X has 160"),
        (lambda X, y, F: (X, y, [F[:, :3], F[:-1, 3:]]), ValueError, "different numbers of rows"),
        (lambda X, y, F: (X, y, F[:, 0]), ValueError, "teacher_features.*2D"),
        (lambda X, y, F: (X, y, []), ValueError, "empty list"),
        (lambda X, y, F: (X, y[:-1], F), ValueError, "inconsistent numbers of samples"),
        (lambda X, y, F: (X, np.zeros_like(y), F), ValueError, "at least 2 classes.*got 1 class"),
        (lambda X, y, F: (X, np.where(y == 1, 1, -1), F), ValueError, "1 class.*-1 marks unlabeled"),
        (lambda X, y, F: (X, np.full_like(y, -1), F), ValueError, "no labeled rows"),
        (lambda X, y, F: (X, X[:, 0], F), ValueError, "Unknown label type"),
        (
            lambda X, y, F: (X, np.where(y == 1, np.nan, 0.0), F),
            ValueError,
            "contains NaN.*Mark unlabeled rows with -1",
        ),
        (lambda X, y, F: (X[:, :, None], y, F), ValueError, "takes 2-D input; X has shape"),
        (lambda X, y, F: (X, None, F), ValueError, "requires y"),
    ],
)
def test_bad_data_raises_and_keeps_the_fitted_model(toy, fitted, change, error, match):
    X, y, F = toy
    before = _state(fitted)
    with pytest.raises(error, match=match):
        fitted.fit(*change(X, y, F))
    after = _state(fitted)
    np.testing.assert_array_equal(before[0], after[0])
    assert before[1:] == after[1:]


@pytest.mark.parametrize(
    "params, match",
    [
        ({"transfer": "nope"}, "unknown transfer='nope'"),
        ({"transfer__beta": -1.0}, r"The 'transfer__beta' parameter of AFTClassifier must be a float in the range"),
        ({"transfer__unknown": 1}, r"AFTClassifier got unexpected parameter\(s\) 'transfer__unknown'"),
        ({"transfer": "combined", "transfer__terms": {"kd": 1.0}, "transfer__kd__temperature": 0}, "kd__temperature"),
        ({"module": "nope"}, "unknown module='nope'"),
        ({"module__nope": 1}, r"AFTClassifier got unexpected parameter\(s\) 'module__nope'"),
        ({"module__dropout": 1.5}, r"The 'module__dropout' parameter of AFTClassifier must be"),
        ({"max_epochs": 0}, r"The 'max_epochs' parameter of AFTClassifier must be an int in the range \[1, inf\)"),
        ({"batch_size": 1}, r"The 'batch_size' parameter of AFTClassifier must be an int in the range \[2, inf\)"),
        ({"batch_size": True}, "The 'batch_size' parameter"),
        ({"max_epochs": True}, "The 'max_epochs' parameter"),
        ({"transfer": 5}, "The 'transfer' parameter of AFTClassifier must be"),
        ({"accelerator": object()}, "The 'accelerator' parameter"),
        ({"lr": -0.1}, "The 'lr' parameter of AFTClassifier must be a float in the range"),
        ({"lr": True}, "The 'lr' parameter"),
        ({"labeled_fraction": 1.5}, "The 'labeled_fraction' parameter of AFTClassifier must be"),
        ({"optimizer": "lbfgsx"}, "The 'optimizer' parameter of AFTClassifier must be"),
        ({"memory": 3}, "The 'memory' parameter of AFTClassifier must be"),
        ({"bogus": 1}, r"AFTClassifier got unexpected parameter\(s\) 'bogus'"),
    ],
)
def test_bad_params_raise_at_fit_not_init(toy, fitted, params, match):
    """Every invalid parameter, the estimator's own or a prefixed one, raises scikit-learn's
    InvalidParameterError (a ValueError and a TypeError) at fit, with scikit-learn's wording."""
    X, y, F = toy
    clf = AFTClassifier(**{**FAST, **params})  # construction never raises
    error = ValueError if params.get("transfer") == "nope" or params.get("module") == "nope" else InvalidParameterError
    with pytest.raises(error, match=match):
        clf.fit(X, y, teacher_features=F)
    if "bogus" in params:  # set_params refuses an unknown name at once, with the message fit gives
        with pytest.raises(InvalidParameterError, match=match):
            fitted.set_params(**params)
        return
    before = _state(fitted)
    fitted.set_params(**params)
    with pytest.raises(error, match=match):
        fitted.fit(X, y, teacher_features=F)
    np.testing.assert_array_equal(before[0], _state(fitted)[0])


def test_transfer_params_are_checked_without_a_teacher(toy):
    """The declaration is checked before anything is built: a bad transfer__ value fails even when the fit
    has no teacher features (and so trains the task alone)."""
    X, y, _ = toy
    with pytest.raises(InvalidParameterError, match="'transfer__temperature' parameter of AFTClassifier"):
        AFTClassifier(transfer="kd", transfer__temperature=-1, **FAST).fit(X, y)
    with pytest.raises(InvalidParameterError, match=r"'transfer__bogus'"):
        AFTClassifier(transfer="aft", transfer__bogus=1, **FAST).fit(X, y)
    with pytest.raises(InvalidParameterError, match="set their own training schedule"):
        AFTClassifier(transfer="combined", transfer__terms={"task_oriented": 1.0}, **FAST).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'transfer__temperature' parameter of AFTClassifier"):
        AFTClassifier(transfer="hybrid", transfer__temperature=-1, **FAST).fit(X, y)
    with pytest.raises(InvalidParameterError, match=r"Combined got unexpected parameter\(s\) \['foo'\]"):
        AFTClassifier(transfer="combined", transfer__terms={"kd": 1.0}, transfer__foo=1, **FAST).fit(X, y)
    with pytest.raises(InvalidParameterError, match="unknown transfer='nope'"):
        AFTClassifier(transfer="combined", transfer__terms={"nope": 1.0}, **FAST).fit(X, y)
    with pytest.raises(InvalidParameterError, match="'transfer__cv' parameter"):
        AFTClassifier(transfer="kd", transfer__cv=False, **FAST).fit(X, y)


def test_predict_checks(toy, fitted):
    X, y, F = toy
    with pytest.raises(NotFittedError):
        AFTClassifier().predict(X)
    with pytest.raises(ValueError, match="X has 4 features, but AFTClassifier is expecting 5"):
        fitted.predict(X[:, :4])
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict(np.full_like(X, np.nan))


def test_regressor_target_errors(toy):
    X, _, F = toy
    y = F[:, 0].copy()
    with pytest.raises(ValueError, match="infinity"):
        AFTRegressor(**FAST).fit(X, np.where(np.arange(len(y)) == 0, np.inf, y), teacher_features=F)
    with pytest.raises(ValueError, match="at least 2 labeled samples.*got 1 sample"):
        AFTRegressor(**FAST).fit(X, np.where(np.arange(len(y)) == 0, 1.0, np.nan), teacher_features=F)


def test_uint8_tabular_input_is_cast_for_any_student(toy):
    """uint8 columns (one-hot from get_dummies) reach a student as float32, whatever the module."""
    X, y, _ = toy
    X8 = (X > 0).astype(np.uint8)

    class Linear(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(5, 2)

        def forward(self, X):
            return self.layer(X), X

    for module in ("mlp", Linear()):
        clf = AFTClassifier(module=module, transfer="none", max_epochs=2, random_state=0).fit(X8, y)
        assert clf.predict(X8).shape == (len(y),)


def test_text_teacher_given_the_vectorised_matrix_says_how_to_route_the_texts():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    from sklearn_aft.teachers import SentenceEmbedder

    texts = ["good film", "bad film", "great plot", "awful plot"] * 5
    y = [1, 0, 1, 0] * 5
    pipe = make_pipeline(TfidfVectorizer(), AFTClassifier(teacher=SentenceEmbedder(), max_epochs=3, random_state=0))
    with pytest.raises(TypeError, match="got a scipy sparse matrix from X, not texts.*teacher_input=texts"):
        pipe.fit(texts, y)


@pytest.mark.parametrize("as_frame", [False, True])
def test_raw_texts_without_a_vectoriser_say_to_vectorise(as_frame):
    import pandas as pd

    texts = ["good film", "bad film", "great plot", "awful plot"]
    X = pd.DataFrame({"review": texts, "stars": [5, 1, 4, 2]}) if as_frame else texts
    with pytest.raises(ValueError, match="takes numeric features, and X holds text.*TfidfVectorizer"):
        AFTClassifier(max_epochs=1).fit(X, [1, 0, 1, 0])


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_cuda_without_a_gpu_is_a_clear_error(toy):
    X, y, _ = toy
    with pytest.raises(ValueError, match="device='cuda', but torch sees no CUDA GPU.*device='auto'"):
        AFTClassifier(device="cuda", max_epochs=1).fit(X, y)


def test_one_dimensional_teacher_features_are_named_not_dumped(toy):
    X, y, F = toy
    with pytest.raises(ValueError, match=r"must be a 2D array.*shape \(160,\).*reshape\(-1, 1\)") as info:
        AFTClassifier(max_epochs=1).fit(X, y, teacher_features=F[:, 0])
    assert len(str(info.value)) < 200  # the values themselves are not in the message


def test_verbose_prints_one_line_per_phase_and_silence_otherwise(toy, capfd):
    X, y, F = toy
    y = np.where(np.arange(len(y)) < 100, y, -1)
    AFTClassifier(random_state=0).fit(X, y, teacher_features=F)
    out = capfd.readouterr()
    assert out.out == "" and out.err == ""
    AFTClassifier(random_state=0, verbose=1).fit(X, y, teacher_features=F)
    out = capfd.readouterr()
    assert "[AFTClassifier] fitting the targets of transfer='stacked_kd'" in out.out
    assert "[AFTClassifier] training the student Linear on 160 rows with LBFGS (10 epochs) on " in out.out
    assert "it/s" not in out.err  # no per-batch bar at verbose=1
