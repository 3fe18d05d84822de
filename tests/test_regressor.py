"""AFTRegressor on a real regression target (SST-5 sentiment 0-4): scale, a linear baseline, transfer.

The fixture (``tests/data/sst5_*``, built by ``make_fixture.py``): 1,500 training and 1,000 test sentences
with their all-MiniLM-L6-v2 features. The student's input is a TF-IDF of the sentences.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score

from sklearn_aft import AFTRegressor
from sklearn_aft.registry import available_transfers

ALPHAS = np.logspace(-2, 3, 11)


@pytest.fixture(scope="module")
def sst5(text_fixture):
    (texts, y, F), (texts_te, y_te, F_te) = text_fixture("sst5")["train"], text_fixture("sst5")["test"]
    vec = TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2), max_features=20000)
    X = vec.fit_transform(texts).astype(np.float32)
    X_te = vec.transform(texts_te).astype(np.float32)
    return X, y.astype(float), F, X_te, y_te.astype(float), F_te


def _labeled(n: int, k: int, seed: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[np.random.default_rng(seed).permutation(n)[:k]] = True
    return mask


@pytest.mark.parametrize("method", sorted(available_transfers()))
def test_scale_and_offset_of_the_target_do_not_matter(sst5, method):
    """R^2 with y, 25 * y + 50 and y + 1e4 agrees within 0.01 for every built-in method (100 labels and 300
    unlabeled rows; before standardisation, y + 88 gave R^2 -420 with the plain MLP student)."""
    X, y, F, X_te, y_te, _ = sst5
    X, y, F = X[:400], y[:400], F[:400]
    labeled = _labeled(len(y), 100, 0)
    scores = []
    for scale, offset in [(1.0, 0.0), (25.0, 50.0), (1.0, 1e4)]:
        target = np.where(labeled, y * scale + offset, np.nan)
        extra = {"transfer__terms": {"kd": 1.0, "aft_feature": 1.0}} if method == "combined" else {}
        epochs = "auto" if method == "stacked_kd" else 5
        reg = AFTRegressor(transfer=method, max_epochs=epochs, random_state=0, **extra)
        reg.fit(X, target, teacher_features=F)
        prediction = reg.predict(X_te)
        assert abs(np.mean(prediction) - np.mean(y_te * scale + offset)) < 2 * scale  # in the user's units
        scores.append(r2_score(y_te * scale + offset, prediction))
    assert max(scores) - min(scores) < 0.01, scores


def test_two_target_columns_are_standardised_each(sst5):
    X, y, F, X_te, y_te, _ = sst5
    Y = np.column_stack([y, 1000 * y - 5e4])
    reg = AFTRegressor(random_state=0).fit(X[:500], Y[:500])
    np.testing.assert_allclose(reg.target_mean_, Y[:500].mean(axis=0))
    prediction = reg.predict(X_te)
    assert prediction.shape == (len(y_te), 2)
    r2 = [r2_score(y_te * s + o, prediction[:, j]) for j, (s, o) in enumerate([(1, 0), (1000, -5e4)])]
    assert abs(r2[0] - r2[1]) < 0.01 and r2[0] > 0.05


@pytest.mark.parametrize("n_labels", [100, 500, 1500])
def test_default_with_labels_alone_matches_ridge_cv(sst5, n_labels):
    """The default student is ridge regression with RidgeCV's alpha: within 0.01 R^2 of RidgeCV."""
    X, y, _, X_te, y_te, _ = sst5
    labeled = _labeled(len(y), n_labels, 1)
    ridge = r2_score(y_te, RidgeCV(alphas=ALPHAS).fit(X[labeled], y[labeled]).predict(X_te))
    reg = AFTRegressor(random_state=0).fit(X[labeled], 25 * y[labeled] + 50)
    assert r2_score(25 * y_te + 50, reg.predict(X_te)) > ridge - 0.01


def test_default_with_unlabeled_rows_matches_the_pseudo_label_pipeline(sst5):
    """200 labels and 1,300 unlabeled sentences: the default is at least as good as the better of RidgeCV on
    the labeled rows and the hand-written pipeline (a RidgeCV probe on the teacher features labels the
    unlabeled rows, then RidgeCV on the TF-IDF of every row), and far above the first."""
    X, y, F, X_te, y_te, _ = sst5
    labeled = _labeled(len(y), 200, 2)
    ridge = r2_score(y_te, RidgeCV(alphas=ALPHAS).fit(X[labeled], y[labeled]).predict(X_te))
    probe = RidgeCV(alphas=ALPHAS).fit(F[labeled], y[labeled])
    pseudo = np.where(labeled, y, probe.predict(F))
    pipeline = r2_score(y_te, RidgeCV(alphas=ALPHAS).fit(X, pseudo).predict(X_te))
    reg = AFTRegressor(random_state=0).fit(X, np.where(labeled, y, np.nan), teacher_features=F)
    r2 = r2_score(y_te, reg.predict(X_te))
    assert reg.transfer_.teacher_share_ == 1.0
    assert r2 > max(ridge, pipeline) - 0.005
    assert r2 > ridge + 0.05


def test_a_teacher_weaker_than_the_input_stays_out_of_the_way(sst5):
    """Teacher features of pure noise: the unlabeled rows carry the input probe's own predictions, and the
    fitted student is RidgeCV on the labeled rows (within 0.005 R^2)."""
    X, y, _, X_te, y_te, _ = sst5
    labeled = _labeled(len(y), 500, 3)
    noise = np.random.default_rng(0).normal(size=(len(y), 64)).astype(np.float32)
    ridge = r2_score(y_te, RidgeCV(alphas=ALPHAS).fit(X[labeled], y[labeled]).predict(X_te))
    reg = AFTRegressor(random_state=0).fit(X, np.where(labeled, y, np.nan), teacher_features=noise)
    assert reg.transfer_.teacher_share_ == 0.0
    assert abs(r2_score(y_te, reg.predict(X_te)) - ridge) < 0.005
    # every recipe was cross-validated, and the labeled rows alone won: the unlabeled rows cost nothing
    errors = reg.transfer_.recipe_errors_
    assert set(errors) == {"labels", 0.25, 0.5, 0.75, 1.0} and errors[1.0] > errors["labels"]
    alone = AFTRegressor(random_state=0).fit(X[labeled], y[labeled])
    np.testing.assert_allclose(reg.predict(X_te), alone.predict(X_te), atol=1e-6)


def test_the_teacher_is_followed_only_where_its_student_wins_on_held_out_labels():
    """The teacher knows the part of the target that the student's input cannot express, the input the rest:
    the teacher's head is even the better one (leave-one-out squared error 0.48 against the probe's 0.55 of
    the target's variance, so the rule that compared heads followed it), but a student that learns the head's
    predictions on the unlabeled rows learns what it cannot express. Judged by the student it makes, the
    teacher is set aside; a teacher that knows the student's part too is followed."""
    rng = np.random.default_rng(0)
    n, n_labeled = 2000, 200
    X = rng.normal(size=(n, 20))
    seen, unseen = X @ rng.normal(size=20) / np.sqrt(20), rng.normal(size=n)
    y = seen + 1.1 * unseen + 0.3 * rng.normal(size=n)
    labeled = np.zeros(n, dtype=bool)
    labeled[:n_labeled] = True
    test = slice(1500, None)
    fit_rows = slice(None, 1500)
    y_fit = np.where(labeled, y, np.nan)[fit_rows]
    ridge = r2_score(y[test], RidgeCV(alphas=ALPHAS).fit(X[:n_labeled], y[:n_labeled]).predict(X[test]))
    blind = np.c_[unseen + 0.1 * rng.normal(size=n), rng.normal(size=(n, 4))]  # only what X cannot see
    reg = AFTRegressor(random_state=0).fit(X[fit_rows], y_fit, teacher_features=blind[fit_rows])
    assert reg.transfer_.teacher_share_ == 0.0
    assert r2_score(y[test], reg.predict(X[test])) > ridge - 0.005
    full = np.c_[seen + unseen + 0.1 * rng.normal(size=n), rng.normal(size=(n, 4))]  # all of it
    followed = AFTRegressor(random_state=0).fit(X[fit_rows], y_fit, teacher_features=full[fit_rows])
    assert followed.transfer_.teacher_share_ > 0
    assert r2_score(y[test], followed.predict(X[test])) > ridge + 0.01


def test_linear_student_with_a_fixed_alpha_is_scikit_learns_ridge(sst5):
    """``module__alpha`` is Ridge's alpha: the same predictions as ``Ridge(alpha)`` on the same rows."""
    from sklearn.linear_model import Ridge

    X, y, _, X_te, _, _ = sst5
    ridge = Ridge(alpha=3.0).fit(X[:500], y[:500]).predict(X_te)
    reg = AFTRegressor(module="linear", module__alpha=3.0, transfer="none", random_state=0).fit(X[:500], y[:500])
    np.testing.assert_allclose(reg.predict(X_te), ridge, atol=2e-3)


@pytest.mark.parametrize("bad", [-1.0, "big", True])
def test_a_bad_alpha_is_refused(sst5, bad):
    X, y, _, _, _, _ = sst5
    with pytest.raises(ValueError, match="The 'module__alpha' parameter of AFTRegressor must be"):
        AFTRegressor(module="linear", module__alpha=bad).fit(X[:50], y[:50])


def test_a_target_column_without_any_known_value_is_refused(sst5):
    X, y, _, _, _, _ = sst5
    Y = np.column_stack([y[:50], np.full(50, np.nan)])
    with pytest.raises(ValueError, match=r"column\(s\) \[1\] have no known value"):
        AFTRegressor().fit(X[:50], Y)


def test_score_leaves_out_rows_with_a_missing_target():
    """Several targets, some rows partly known: ``score`` counts the complete rows (R^2 takes no NaN)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4)).astype("float32")
    Y = np.c_[X[:, 0], X[:, 1] - X[:, 2]]
    reg = AFTRegressor(random_state=0).fit(X, Y)
    partly = Y.copy()
    partly[:10, 0] = np.nan
    assert reg.score(X, partly) == pytest.approx(reg.score(X[10:], Y[10:]))
