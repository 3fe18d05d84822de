"""teacher_features travels row-aligned through Pipeline, GridSearchCV and cross_validate."""

import numpy as np
import pytest
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline

from sklearn_aft import AFTClassifier, concat_teachers

WORDS = {
    0: "goal match team score league player coach win season cup",
    1: "stock market price bank trade profit share invest economy rate",
}


@pytest.fixture
def texts():
    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, 120)
    docs = [" ".join(rng.choice(WORDS[c].split(), 6)) + " the a of" for c in y]
    # a "teacher" whose first column knows the class and whose row index is recoverable (column 1)
    F = np.c_[y * 2.0 - 1 + 0.1 * rng.normal(size=120), np.arange(120), rng.normal(size=(120, 6))].astype(np.float32)
    return docs, y, F


class RowCheckingClassifier(AFTClassifier):
    """Records the row ids carried by column 1 of the teacher features it is fitted with."""

    seen: list = []

    def fit(self, X, y, teacher_features=None):
        RowCheckingClassifier.seen.append((X.shape[0], np.asarray(teacher_features)[:, 1].astype(int)))
        return super().fit(X, y, teacher_features=teacher_features)


def test_grid_search_routes_teacher_features_per_fold(texts):
    docs, y, F = texts
    RowCheckingClassifier.seen = []
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            TfidfVectorizer(),
            RowCheckingClassifier(max_epochs=5, batch_size=32, random_state=0).set_fit_request(teacher_features=True),
        )
        grid = GridSearchCV(
            pipe,
            {"rowcheckingclassifier__transfer__beta": [0.5, 3.0], "tfidfvectorizer__min_df": [1, 2]},
            cv=KFold(3, shuffle=True, random_state=0),
        )
        grid.fit(docs, y, teacher_features=F)
    folds = list(KFold(3, shuffle=True, random_state=0).split(docs))
    train_sets = {tuple(train) for train, _ in folds}
    # 4 candidates x 3 folds, then the refit on everything
    assert len(RowCheckingClassifier.seen) == 13
    for n, rows in RowCheckingClassifier.seen[:-1]:
        assert tuple(rows) in train_sets and n == len(rows)
    assert list(RowCheckingClassifier.seen[-1][1]) == list(range(120))
    assert grid.best_estimator_[-1].transfer_.beta in (0.5, 3.0)
    assert grid.best_estimator_[-1].transfer__beta == grid.best_params_["rowcheckingclassifier__transfer__beta"]
    assert (
        grid.score(docs, y) >= make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(docs, y).score(docs, y) - 0.02
    )
    assert grid.predict(["goal team win cup"])[0] == 0


def test_cross_validate_with_several_teachers(texts):
    docs, y, F = texts
    stacked = concat_teachers([F[:, :2], F[:, 2:]])
    with sklearn.config_context(enable_metadata_routing=True):
        clf = AFTClassifier(max_epochs=5, batch_size=32, random_state=0).set_fit_request(teacher_features=True)
        res = cross_validate(
            make_pipeline(TfidfVectorizer(), clf),
            docs,
            y,
            cv=3,
            params={"teacher_features": stacked},
            return_estimator=True,
        )
    by_hand = cross_validate(make_pipeline(TfidfVectorizer(), LogisticRegression()), docs, y, cv=3)["test_score"]
    assert res["test_score"].mean() >= by_hand.mean() - 0.05
    assert all(est[-1].teacher_blocks_ == (2, 6) for est in res["estimator"])


def test_legacy_fit_params_without_routing(texts):
    docs, y, F = texts
    pipe = make_pipeline(TfidfVectorizer(), AFTClassifier(max_epochs=5, batch_size=32, random_state=0))
    grid = GridSearchCV(pipe, {"aftclassifier__transfer__beta": [1.0, 2.0]}, cv=2)
    grid.fit(docs, y, aftclassifier__teacher_features=F)
    assert grid.best_estimator_[-1].teacher_blocks_ == (8,)


def test_unrequested_teacher_features_are_an_error_with_routing(texts):
    docs, y, F = texts
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(TfidfVectorizer(), AFTClassifier(max_epochs=2))
        with pytest.raises(Exception, match="teacher_features"):
            pipe.fit(docs, y, teacher_features=F)
