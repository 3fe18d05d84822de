"""The teacher= parameter of the estimators: fit-time only, tunable, cached per sample."""

import pickle

import joblib
import numpy as np
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline

from sklearn_aft import AFTClassifier, AFTRegressor
from sklearn_aft.teachers import FunctionEmbedder, TeacherUnion, TorchEmbedder

_W = np.random.RandomState(1).normal(size=(5, 12)).astype(np.float32)
ROWS_EMBEDDED: list[int] = []  # rows seen by counting_teacher, across clones


def counting_teacher(X):
    """A module-level teacher function (clones and the cache key refer to it by name) that counts its rows."""
    ROWS_EMBEDDED.append(len(X))
    return np.tanh(np.asarray(X) @ _W)


def test_teacher_param_equals_precomputed_features(toy):
    X, y, _ = toy
    teacher = FunctionEmbedder(counting_teacher)
    params = dict(max_epochs=5, random_state=0)
    with_teacher = AFTClassifier(teacher=teacher, **params).fit(X, y)
    precomputed = AFTClassifier(**params).fit(X, y, teacher_features=teacher.transform(X))
    np.testing.assert_allclose(with_teacher.predict_proba(X), precomputed.predict_proba(X), rtol=1e-5, atol=1e-6)
    assert with_teacher.teacher_blocks_ == (12,)
    # the parameter is left as given: a clone did the work
    assert with_teacher.teacher is teacher and not hasattr(teacher, "embedding_dim_")
    assert teacher.get_params() == FunctionEmbedder(counting_teacher).get_params()


def big_teacher() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(5, 2048), torch.nn.Linear(2048, 2048), torch.nn.Linear(2048, 8))


class RaisingAfterFit(FunctionEmbedder):
    """A teacher that works until it is told fitting is over."""

    armed = False

    def transform(self, X):
        if RaisingAfterFit.armed:
            raise AssertionError("the teacher ran after fit")
        return super().transform(X)


def test_predict_never_runs_the_teacher_and_pickle_holds_no_teacher_weights(toy):
    X, y, _ = toy
    clf = AFTClassifier(teacher=RaisingAfterFit(counting_teacher), max_epochs=3, random_state=0).fit(X, y)
    RaisingAfterFit.armed = True
    try:
        proba = clf.predict_proba(X)
        restored = pickle.loads(pickle.dumps(clf))
        np.testing.assert_array_equal(restored.predict_proba(X), proba)
        assert restored.score(X, y) == clf.score(X, y)
    finally:
        RaisingAfterFit.armed = False
    # a 17 MB teacher, built by a factory, leaves no weights behind
    fitted = AFTClassifier(teacher=TorchEmbedder(big_teacher), max_epochs=1, random_state=0).fit(X, y)
    assert len(pickle.dumps(fitted)) < 1_000_000


def test_nested_teacher_params_in_grid_search(toy):
    X, y, _ = toy
    clf = AFTClassifier(teacher=TorchEmbedder(torch.nn.Tanh), max_epochs=2, random_state=0)
    assert clf.get_params()["teacher__batch_size"] == 256
    clf.set_params(teacher__batch_size=16, transfer__beta=0.5)
    clone_ = clone(clf)
    assert clone_.teacher.batch_size == 16 and clone_.get_params()["transfer__beta"] == 0.5
    grid = GridSearchCV(clf, {"teacher__batch_size": [8, 64], "transfer__beta": [0.5, 2.0]}, cv=3).fit(X, y)
    assert list(grid.cv_results_["param_teacher__batch_size"]) == [8, 8, 64, 64]
    assert grid.best_estimator_.teacher.batch_size == grid.best_params_["teacher__batch_size"]
    assert clf.teacher.batch_size == 16  # the searched estimator itself is untouched


def test_grid_search_runs_the_teacher_once_per_distinct_sample(toy, tmp_path):
    X, y, _ = toy
    X = np.vstack([X, X[:10]])  # repeated rows are embedded once too
    y = np.concatenate([y, y[:10]])
    n_distinct = len(np.unique(X, axis=0))
    ROWS_EMBEDDED.clear()
    clf = AFTClassifier(teacher=FunctionEmbedder(counting_teacher, batch_size=32), memory=tmp_path, max_epochs=2)
    grid = GridSearchCV(clf, {"transfer__beta": [0.3, 1.0, 3.0]}, cv=KFold(5, shuffle=True, random_state=0))
    grid.fit(X, y)  # 3 candidates x 5 folds + the refit
    assert sum(ROWS_EMBEDDED) == n_distinct
    # a new search with another batch size (same features) reuses everything; other parameters do not
    ROWS_EMBEDDED.clear()
    clf.set_params(teacher__batch_size=7)
    GridSearchCV(clf, {"transfer__beta": [1.0]}, cv=3).fit(X, y)
    assert sum(ROWS_EMBEDDED) == 0
    # joblib.Memory works as the location; without memory every fit embeds again
    ROWS_EMBEDDED.clear()
    clone(clf).set_params(memory=joblib.Memory(tmp_path, verbose=0)).fit(X, y)
    assert sum(ROWS_EMBEDDED) == 0
    clone(clf).set_params(memory=None).fit(X, y)
    clone(clf).set_params(memory=None).fit(X, y)
    assert sum(ROWS_EMBEDDED) == 2 * len(X)


def test_teacher_input_routed_next_to_a_vectorizer(tmp_path):
    """Raw texts reach the teacher while the student gets their TF-IDF, sliced per fold by metadata routing."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [f"{w} {v} item {i % 7}" for i, (w, v) in enumerate(zip(["good", "bad"] * 30, ["day", "night"] * 30))]
    y = np.array([0, 1] * 30)
    seen = []

    def text_teacher(batch):
        seen.extend(batch)
        return np.array([[t.startswith("good"), len(t)] for t in batch], dtype=np.float32)

    with sklearn.config_context(enable_metadata_routing=True):
        clf = AFTClassifier(teacher=FunctionEmbedder(text_teacher), max_epochs=40, random_state=0)
        pipe = make_pipeline(TfidfVectorizer(), clf.set_fit_request(teacher_input=True))
        grid = GridSearchCV(pipe, {"aftclassifier__transfer__beta": [0.5, 1.0]}, cv=3)
        grid.fit(texts, y, teacher_input=texts)
    assert set(seen) == set(texts)  # the teacher saw raw texts, never TF-IDF rows
    by_hand = cross_val_score(make_pipeline(TfidfVectorizer(), LogisticRegression()), texts, y, cv=3).mean()
    assert grid.best_score_ >= by_hand - 0.02


def test_teacher_union_blocks_reach_the_transfer_method(toy):
    X, y, _ = toy
    union = TeacherUnion([("a", FunctionEmbedder(counting_teacher)), ("b", FunctionEmbedder(np.tanh))])
    clf = AFTClassifier(teacher=union, transfer="aft", max_epochs=2, random_state=0).fit(X, y)
    assert clf.teacher_blocks_ == (12, 5)
    assert clf.transfer_.feature_weights_.shape == (17,)
    assert clf.get_params()["teacher__a__batch_size"] is None


def test_regressor_takes_a_teacher(toy, baseline):
    X, _, F = toy
    target = F[:, 0] + F[:, 1]
    reg = AFTRegressor(teacher=FunctionEmbedder(counting_teacher), max_epochs=20, random_state=0).fit(X, target)
    assert reg.score(X, target) >= baseline(X, target, X, target) - 0.05  # RidgeCV on the same rows


def test_teacher_errors(toy):
    X, y, F = toy
    teacher = FunctionEmbedder(counting_teacher)
    with pytest.raises(ValueError, match="not both"):
        AFTClassifier(teacher=teacher, max_epochs=1).fit(X, y, teacher_features=F)
    with pytest.raises(ValueError, match="needs the teacher parameter"):
        AFTClassifier(max_epochs=1).fit(X, y, teacher_input=X)
    with pytest.raises(ValueError, match="teacher_input has 10 samples but X has 160"):
        AFTClassifier(teacher=teacher, max_epochs=1).fit(X, y, teacher_input=X[:10])
    with pytest.raises(TypeError, match="The 'memory' parameter of AFTClassifier must be"):
        AFTClassifier(teacher=teacher, memory=3, max_epochs=1).fit(X, y)
    # transfer="none" never runs the teacher
    ROWS_EMBEDDED.clear()
    AFTClassifier(teacher=teacher, transfer="none", max_epochs=1).fit(X, y)
    assert ROWS_EMBEDDED == []


def test_image_student_with_image_teacher(cifar_mini):
    pytest.importorskip("timm")
    from sklearn_aft.teachers import TimmEmbedder

    images, labels = cifar_mini["train"]
    images, labels = images[::3], labels[::3]  # 10 per class
    teacher = TimmEmbedder("test_vit", weights="random", image_size=32)
    clf = AFTClassifier(
        module="timm", module__model_name="test_resnet", teacher=teacher, max_epochs=2, batch_size=32, random_state=0
    ).fit(images, labels)
    assert clf.net_.module_.feature_dim == 96 and clf.teacher_blocks_ == (64,)
    proba = clf.predict_proba(images[:8])
    assert proba.shape == (8, 10)
    as_float = images[:8].transpose(0, 3, 1, 2).astype(np.float32) / 255  # the other accepted layout
    np.testing.assert_allclose(clf.predict_proba(as_float), proba, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(clf.predict_proba(torch.from_numpy(images[:8])), proba, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        clf.predict(as_float * 255)
    grey = clf.predict_proba(images[:8, :, :, 0])  # (N, H, W) grey, expanded to 3 channels
    assert grey.shape == (8, 10)
    with pytest.raises(ValueError, match="takes 4-D input"):
        clf.predict(images[:8].reshape(8, -1))
    with pytest.raises(ValueError, match="takes 2-D input"):
        AFTClassifier(teacher=teacher, max_epochs=1).fit(images, labels)


def test_timm_student_from_a_local_checkpoint(tmp_path):
    timm = pytest.importorskip("timm")
    from sklearn_aft.students import TimmStudent

    torch.manual_seed(0)
    source = timm.create_model("test_resnet", pretrained=False, num_classes=1000)  # an ImageNet-style head
    torch.save(source.state_dict(), tmp_path / "resnet.pth")
    student = TimmStudent(output_dim=3, model_name="test_resnet", weights=tmp_path / "resnet.pth")
    body = {k: v for k, v in source.state_dict().items() if not k.startswith("fc.")}
    for key, value in body.items():
        torch.testing.assert_close(student.model.state_dict()[key], value)
    assert student.model.get_classifier().out_features == 3  # a new head for the task
    out, features = student(torch.randint(0, 256, (2, 24, 24, 3), dtype=torch.uint8))
    assert out.shape == (2, 3) and features.shape == (2, student.feature_dim)
    scratch = TimmStudent(output_dim=3, model_name="test_resnet")  # no weights: from scratch, on purpose
    assert not torch.equal(scratch.model.state_dict()["conv1.0.weight"], body["conv1.0.weight"])
