"""Real data: TREC questions, a TF-IDF student and all-MiniLM-L6-v2 teacher features (tests/data)."""

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklearn_aft import AFTClassifier


@pytest.fixture(scope="module")
def trec(text_fixture):
    return text_fixture("trec")


def _student(seed, **params):
    return make_pipeline(
        TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2), max_features=5000),
        AFTClassifier(random_state=seed, **params),
    )


def test_fixture_is_real(trec):
    (_, y_tr, f_tr), (_, y_te, f_te) = trec["train"], trec["test"]
    assert f_tr.shape == (2000, 384) and f_te.shape == (500, 384)
    assert sorted(set(y_tr)) == ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]
    np.testing.assert_allclose(np.linalg.norm(f_tr, axis=1), 1.0, atol=1e-2)  # normalised embeddings
    # the teacher knows the task: a linear probe on 2,000 labels is far above the majority class
    probe = LogisticRegression(max_iter=2000, C=10.0).fit(f_tr, y_tr)
    assert probe.score(f_te, y_te) > 0.8 > 0.3 > np.mean(y_te == "DESC")


@pytest.mark.slow
def test_aft_student_is_not_worse_than_the_plain_student(trec):
    """All 2,000 rows labeled: AFT's feature term costs the MLP student nothing."""
    (x_tr, y_tr, f_tr), (x_te, y_te, _) = trec["train"], trec["test"]
    plain, aft = [], []
    for seed in (0, 1):
        plain.append(_student(seed, transfer="none", module="mlp").fit(x_tr, y_tr).score(x_te, y_te))
        model = _student(seed, transfer="aft_feature").fit(x_tr, y_tr, aftclassifier__teacher_features=f_tr)
        aft.append(model.score(x_te, y_te))
    majority = np.mean(y_te == "DESC")
    assert np.mean(plain) > majority + 0.3  # the students learn the task...
    assert np.mean(aft) >= np.mean(plain) - 0.01  # ...and AFT's term costs at most a point


@pytest.mark.slow
def test_aft_with_unlabeled_rows_beats_the_plain_student(trec):
    """200 labels and 1,800 unlabeled rows: AFT's feature term closes part of the MLP's gap to the teacher probe
    (the default student, which beats the probe here, is tested in test_default.py)."""
    (x_tr, y_tr, f_tr), (x_te, y_te, f_te) = trec["train"], trec["test"]
    plain, aft, probe = [], [], []
    for seed in (0, 1):
        labeled = np.zeros(len(y_tr), dtype=bool)
        labeled[np.random.default_rng(seed).permutation(len(y_tr))[:200]] = True
        y_semi = y_tr.astype(object)
        y_semi[~labeled] = -1
        plain.append(_student(seed, transfer="none", module="mlp").fit(x_tr, y_semi).score(x_te, y_te))
        aft_student = _student(seed, transfer="aft_feature")
        aft.append(aft_student.fit(x_tr, y_semi, aftclassifier__teacher_features=f_tr).score(x_te, y_te))
        probe.append(LogisticRegression(max_iter=2000, C=10.0).fit(f_tr[labeled], y_tr[labeled]).score(f_te, y_te))
    # measured: plain 0.63, AFT 0.68, teacher probe 0.77 (seed 0)
    assert np.mean(aft) >= np.mean(plain) + 0.02
    assert np.mean(probe) > np.mean(aft)  # the student does not see what the teacher sees


@pytest.mark.slow
def test_sentence_embedder_as_the_estimators_teacher(trec, tmp_path):
    """SentenceEmbedder reproduces the fixture's MiniLM features, and teacher=SentenceEmbedder() with the raw
    texts routed as teacher_input trains the same student as the precomputed features."""
    import sklearn

    from sklearn_aft.teachers import SentenceEmbedder

    x_tr, y_tr, f_tr = (v[:300] for v in trec["train"])
    x_te = trec["test"][0]
    features = SentenceEmbedder().transform(x_tr)
    cosine = (features * f_tr).sum(1) / np.linalg.norm(f_tr, axis=1)
    assert cosine.min() > 0.999  # the fixture is stored as float16
    precomputed = _student(0, max_epochs=30).fit(x_tr, y_tr, aftclassifier__teacher_features=features)
    with sklearn.config_context(enable_metadata_routing=True):
        student = _student(0, max_epochs=30, teacher=SentenceEmbedder(batch_size=64), memory=tmp_path)
        student[-1].set_fit_request(teacher_input=True)
        student.fit(x_tr, y_tr, teacher_input=x_tr)
    np.testing.assert_allclose(student.predict_proba(x_te), precomputed.predict_proba(x_te), rtol=1e-4, atol=1e-5)
