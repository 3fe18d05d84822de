"""Which rows are unlabeled: every spelling of the marker a user would try works or fails loudly, and no
marker or missing value ever becomes a class."""

import warnings

import numpy as np
import pytest

from sklearn_aft import AFTClassifier, AFTRegressor

FAST = dict(max_epochs=3, random_state=0)


@pytest.fixture
def semi(toy):
    """String labels for the first 100 rows; the other 60 rows are to be marked unlabeled."""
    X, y, F = toy
    names = np.array(["ham", "spam"])[y[:100]]
    return X, names, F


def test_numpy_strings_of_minus_one_are_unlabeled_not_a_class(semi):
    X, names, F = semi
    y = np.array(list(names) + [-1] * 60)  # NumPy makes the marker the string "-1"
    assert y.dtype.kind == "U"
    clf = AFTClassifier(**FAST).fit(X, y, teacher_features=F)
    assert list(clf.classes_) == ["ham", "spam"]
    assert set(clf.predict(X)) <= {"ham", "spam"}
    # the same rows, marked with an integer -1 in an object array, give the same model
    y_obj = np.array(list(names) + [-1] * 60, dtype=object)
    ref = AFTClassifier(**FAST).fit(X, y_obj, teacher_features=F)
    np.testing.assert_allclose(clf.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    assert clf.score(X, y) == ref.score(X, y_obj)  # the marked rows are left out of the score


@pytest.mark.parametrize("missing", [None, np.nan, "", "nan"])
def test_missing_labels_are_refused(semi, missing):
    X, names, F = semi
    y = np.array(list(names) + [missing] * 60, dtype=object)
    with pytest.raises(ValueError, match="missing label.*-1"):
        AFTClassifier(**FAST).fit(X, y, teacher_features=F)


def test_minus_one_string_among_integer_strings_is_ambiguous(toy):
    X, y, F = toy
    y_str = np.where(np.arange(len(y)) < 100, y, -1).astype(str)  # "0", "1" and "-1"
    with pytest.raises(ValueError, match="could be a class or the unlabeled marker"):
        AFTClassifier(**FAST).fit(X, y_str, teacher_features=F)
    # the way out the message gives
    clf = AFTClassifier(**FAST).fit(X, y_str.astype(int), teacher_features=F)
    assert list(clf.classes_) == [0, 1]


def test_unlabeled_rows_without_a_teacher_warn_that_they_go_unused(toy):
    X, y, _ = toy
    y = np.where(np.arange(len(y)) < 100, y, -1)
    with pytest.warns(UserWarning, match="60 rows of y are marked unlabeled \\(-1\\) and go unused"):
        AFTClassifier(**FAST).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        AFTClassifier(**FAST).fit(X[:100], y[:100])  # every row labeled: nothing to say


def test_regressor_marker_spellings(toy):
    X, y, F = toy
    target = y.astype(float) * 3 + 1
    none_marked = np.array(list(target[:100]) + [None] * 60, dtype=object)
    nan_marked = np.concatenate([target[:100], np.full(60, np.nan)])
    a = AFTRegressor(**FAST).fit(X, none_marked, teacher_features=F)  # None is NaN
    b = AFTRegressor(**FAST).fit(X, nan_marked, teacher_features=F)
    np.testing.assert_allclose(a.predict(X), b.predict(X), atol=1e-6)
    with pytest.raises(ValueError, match="must hold numbers.*NaN"):
        AFTRegressor(**FAST).fit(X, np.array(list(target[:100]) + [""] * 60, dtype=object), teacher_features=F)
    with pytest.warns(UserWarning, match="AFTRegressor marks unknown targets with NaN, not -1"):
        AFTRegressor(**FAST).fit(X, np.concatenate([target[:100], -np.ones(60)]), teacher_features=F)
