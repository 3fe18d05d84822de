"""labeled_scorer: model selection scores the labeled rows only, with any scikit-learn scorer."""

import pickle
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, make_scorer, mean_absolute_error, precision_score
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.semi_supervised import SelfTrainingClassifier

import sklearn_aft
from sklearn_aft import AFTClassifier, AFTRegressor
from sklearn_aft.metrics import LabeledScorer, labeled_scorer

FAST = {"max_epochs": 3, "random_state": 0}


@pytest.fixture(scope="module")
def semi():
    """A binary task; 60% of the rows unlabeled (-1), the teacher features holding the label."""
    rng = np.random.RandomState(0)
    F = rng.normal(size=(150, 8)).astype(np.float32)
    y = (F[:, 0] + F[:, 1] > 0).astype(int)
    X = (F[:, :4] + 0.3 * rng.normal(size=(150, 4))).astype(np.float32)
    y_semi = np.where(rng.rand(150) < 0.6, -1, y)
    return X, y_semi, F


def _by_hand(cv_result, X, y, score):
    """Each fold's estimator scored on the labeled rows of its test fold."""
    out = []
    for est, test in zip(cv_result["estimator"], cv_result["indices"]["test"]):
        known = y[test] != -1
        out.append(score(y[test][known], est.predict(X[test][known])))
    return np.array(out)


def test_plain_scorer_counts_unlabeled_rows_and_labeled_scorer_does_not(semi):
    X, y, F = semi
    result = cross_validate(
        AFTClassifier(**FAST),
        X,
        y,
        cv=KFold(3, shuffle=True, random_state=0),
        scoring={"plain": "f1_macro", "labeled": labeled_scorer("f1_macro")},
        params={"teacher_features": F},
        return_estimator=True,
        return_indices=True,
    )
    by_hand = _by_hand(result, X, y, lambda t, p: f1_score(t, p, average="macro"))
    np.testing.assert_allclose(result["test_labeled"], by_hand)
    # the plain scorer sees -1 as a third class the student never predicts: a wrong, much lower number
    assert result["test_plain"].mean() < by_hand.mean() - 0.2
    assert by_hand.mean() > 0.75


def test_grid_search_ranks_on_the_labeled_rows(semi):
    X, y, F = semi
    cv = KFold(3, shuffle=True, random_state=0)
    grid = GridSearchCV(
        AFTClassifier(**FAST), {"module__C": [0.01, 10.0]}, scoring=labeled_scorer("f1_macro"), cv=cv
    ).fit(X, y, teacher_features=F)
    for i, C in enumerate(grid.cv_results_["param_module__C"]):
        result = cross_validate(
            AFTClassifier(module__C=C, **FAST),
            X,
            y,
            cv=cv,
            params={"teacher_features": F},
            return_estimator=True,
            return_indices=True,
        )
        by_hand = _by_hand(result, X, y, lambda t, p: f1_score(t, p, average="macro"))
        assert grid.cv_results_["mean_test_score"][i] == pytest.approx(by_hand.mean())


def test_multi_metric_and_metadata_routing(semi):
    X, y, F = semi
    weights = np.linspace(0.2, 2.0, len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        scoring = labeled_scorer({"f1": "f1_macro", "precision": make_scorer(precision_score)})
        scoring["f1"].set_score_request(sample_weight=True)
        scoring["precision"].set_score_request(sample_weight=False)  # scikit-learn's rule: every scorer says
        grid = GridSearchCV(
            AFTClassifier(**FAST).set_fit_request(teacher_features=True),
            {"module__C": [10.0]},
            scoring=scoring,
            refit="f1",
            cv=KFold(2, shuffle=True, random_state=0),
        ).fit(X, y, teacher_features=F, sample_weight=weights)
    assert {"mean_test_f1", "mean_test_precision"} <= set(grid.cv_results_)
    # by hand: the weights of the labeled rows reach the weighted F1, the unweighted precision takes none
    f1s, precisions = [], []
    for train, test in KFold(2, shuffle=True, random_state=0).split(X):
        est = AFTClassifier(module__C=10.0, **FAST).fit(X[train], y[train], teacher_features=F[train])
        known = test[y[test] != -1]
        pred = est.predict(X[known])
        f1s.append(f1_score(y[known], pred, average="macro", sample_weight=weights[known]))
        precisions.append(precision_score(y[known], pred))
    assert grid.cv_results_["mean_test_f1"][0] == pytest.approx(np.mean(f1s))
    assert grid.cv_results_["mean_test_precision"][0] == pytest.approx(np.mean(precisions))


@pytest.mark.filterwarnings("ignore:.*go unused:UserWarning")
def test_regressor_scores_rows_whose_targets_are_all_known():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 3)).astype(np.float32)
    Y = np.c_[X[:, 0], X[:, 1] - X[:, 2]].astype(np.float64)
    Y[:20] = np.nan  # unlabeled rows
    Y[20:30, 1] = np.nan  # one target of two unknown: left out whole
    reg = AFTRegressor(**FAST).fit(X, Y)
    scorer = labeled_scorer("neg_mean_absolute_error")
    complete = np.isfinite(Y).all(axis=1)
    assert scorer(reg, X, Y) == pytest.approx(-mean_absolute_error(Y[complete], reg.predict(X[complete])))
    # scikit-learn's own scorer refuses the NaN targets
    with pytest.raises(ValueError, match="NaN"):
        sklearn.metrics.get_scorer("neg_mean_absolute_error")(reg, X, Y)
    y = Y[:, 0]
    result = cross_validate(AFTRegressor(**FAST), X, y, cv=2, scoring=labeled_scorer("r2"), error_score="raise")
    assert np.isfinite(result["test_score"]).all()


def test_a_split_without_labeled_rows(semi):
    X, y, F = semi
    unlabeled, labeled = np.flatnonzero(y == -1), np.flatnonzero(y != -1)
    clf = AFTClassifier(**FAST).fit(X, y, teacher_features=F)
    with pytest.raises(ValueError, match="no labeled rows to score"):
        labeled_scorer("accuracy")(clf, X[unlabeled], y[unlabeled])
    cv = [(labeled, unlabeled[:10])]
    kwargs = {"cv": cv, "scoring": labeled_scorer("f1_macro"), "params": {"teacher_features": F}}
    with pytest.warns(UserWarning, match="no labeled rows to score"):
        result = cross_validate(AFTClassifier(**FAST), X, y, **kwargs)
    assert np.isnan(result["test_score"]).all()  # error_score=np.nan, scikit-learn's default
    with pytest.raises(ValueError, match="no labeled rows to score"):
        cross_validate(AFTClassifier(**FAST), X, y, error_score="raise", **kwargs)


def test_none_is_the_estimators_own_score_on_the_labeled_rows(semi):
    # an estimator of scikit-learn's whose score counts the -1 rows: the baseline in the same comparison
    X, y, _ = semi
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = SelfTrainingClassifier(LogisticRegression()).fit(X, y)
    known = y != -1
    assert labeled_scorer(None)(st, X, y) == st.score(X[known], y[known])
    assert st.score(X, y) < st.score(X[known], y[known]) - 0.3


def test_string_labels_lists_and_pickling():
    X = [[0.0], [1.0], [0.1], [0.9], [0.5], [0.2]]
    y = np.array(["ham", "spam", "-1", "-1", "ham", "spam"])
    known = y != "-1"
    lr = LogisticRegression().fit(np.asarray(X)[known], y[known])
    scorer = pickle.loads(pickle.dumps(labeled_scorer("accuracy")))
    assert scorer(lr, X, y) == lr.score(np.asarray(X)[known], y[known])
    # int labels stored as objects next to the marker
    y_obj = np.array([0, 1, -1, -1, 0, 1], dtype=object)
    lr = LogisticRegression().fit(np.asarray(X)[known], y_obj[known].astype(int))
    assert scorer(lr, X, y_obj) == lr.score(np.asarray(X)[known], y_obj[known].astype(int))


def test_what_labeled_scorer_takes():
    one = labeled_scorer("f1_macro")
    assert isinstance(one, LabeledScorer) and repr(one) == "labeled_scorer('f1_macro')"
    assert labeled_scorer(one) is one
    assert set(labeled_scorer(("accuracy", "f1_macro"))) == {"accuracy", "f1_macro"}
    assert sklearn_aft.metrics.labeled_scorer is labeled_scorer
    with pytest.raises(ValueError, match="not_a_metric"):
        labeled_scorer("not_a_metric")
    with pytest.raises(ValueError, match="twice"):
        labeled_scorer(["accuracy", "accuracy"])
    with pytest.raises(ValueError, match="names"):
        labeled_scorer([])
    with pytest.raises(ValueError, match="empty"):
        labeled_scorer({})
    with pytest.raises(TypeError, match="scoring must be"):
        labeled_scorer(3)
