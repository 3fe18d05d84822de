"""ONNX export: whole pipelines as one graph, parity with the fitted model, trimming, the CLI, and serving
from an environment with neither torch nor skorch."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import make_column_transformer
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from sklearn_aft import AFTClassifier, AFTRegressor

ort = pytest.importorskip("onnxruntime")
export = pytest.importorskip("sklearn_aft.export")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_graph(onx, X):
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, export.input_feed(onx, X))


def assert_same_classifier(model, onx, X):
    label, proba = run_graph(onx, X)
    if isinstance(proba, list):  # ZipMap: a {class: probability} map per row
        proba = np.array([[row[c] for c in model.classes_] for row in proba])
    np.testing.assert_array_equal(label, model.predict(X))  # every row
    np.testing.assert_allclose(proba, model.predict_proba(X), atol=1e-4, rtol=0)


@pytest.fixture(scope="module")
def trec(text_fixture):
    texts, labels, feats = text_fixture("trec")["train"]
    test_texts, test_labels, _ = text_fixture("trec")["test"]
    n = 1000  # half the fixture's training questions: fits of a few seconds
    return np.asarray(texts[:n], dtype=object), labels[:n], feats[:n], np.asarray(test_texts, dtype=object), test_labels


@pytest.mark.parametrize(
    "params",
    [
        {},  # the default: the linear student with stacked_kd
        {"module": "mlp", "transfer": "kd", "max_epochs": 10},
        {"module": "mlp", "transfer": "aft_feature", "module__activation": "gelu", "max_epochs": 10},
        {"module": "mlp", "transfer": "none", "module__hidden_sizes": (64, 32), "module__activation": "silu"},
    ],
    ids=["default", "kd-mlp", "aft_feature-gelu", "plain-2-layers-silu"],
)
def test_text_pipeline_is_one_graph_with_the_same_predictions(trec, params):
    X, y, F, X_test, y_test = trec
    # the TF-IDF of the benchmarks: skl2onnx writes sublinear_tf as log(1 + tf), the export mends it
    vectorizer = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2)
    pipe = make_pipeline(vectorizer, AFTClassifier(random_state=0, **params))
    pipe.fit(X, y, aftclassifier__teacher_features=F)
    onx = export.to_onnx(pipe, X_test[:100], options={id(pipe[-1]): {"zipmap": False}})
    assert [i.name for i in onx.graph.input] == ["X"]  # raw texts in
    assert_same_classifier(pipe, onx, X_test)  # the 500 real test questions, string labels out
    majority = DummyClassifier().fit(X, y).score(X_test, y_test)
    assert pipe.score(X_test, y_test) > majority + 0.1  # a model that learned something, exported


def test_demo_tfidf_on_every_sms_test_message():
    """The demo's TF-IDF keeps bigrams whose words max_features dropped ("nokia 3510i" without "3510i"),
    which onnxruntime's TfIdfVectorizer cannot count unless the words join its pool."""
    from sklearn_aft.datasets import load_sms_spam
    from sklearn_aft.demo import _tfidf

    x_tr, y_tr = load_sms_spam(subset="train", return_X_y=True)
    x_te, _ = load_sms_spam(subset="test", return_X_y=True)
    x_tr, x_te = np.asarray(x_tr, dtype=object), np.asarray(x_te, dtype=object)
    pipe = make_pipeline(_tfidf(), AFTClassifier(transfer="none", random_state=0)).fit(x_tr[:2000], y_tr[:2000])
    vectorizer = pipe[0]
    words = {w for term in vectorizer.vocabulary_ for w in term.split(" ")}
    assert words - set(vectorizer.vocabulary_)  # the case at stake is there
    onx = export.to_onnx(pipe, x_te[:10], options={id(pipe[-1]): {"zipmap": False}})
    (tfidf,) = run_graph(export.to_onnx(vectorizer, x_te[:10]), x_te)
    np.testing.assert_allclose(tfidf, vectorizer.transform(x_te).toarray(), atol=1e-6)
    assert_same_classifier(pipe, onx, x_te)


def test_zipmap_and_nocl_follow_skl2onnx(trec):
    X, y, F, X_test, _ = trec
    pipe = make_pipeline(TfidfVectorizer(), AFTClassifier(transfer="none", random_state=0)).fit(X[:400], y[:400])
    label, maps = run_graph(export.to_onnx(pipe, X_test[:20]), X_test[:5])  # skl2onnx's default: ZipMap
    assert isinstance(maps, list) and set(maps[0]) == set(pipe.classes_)
    np.testing.assert_allclose([maps[0][c] for c in pipe.classes_], pipe.predict_proba(X_test[:1])[0], atol=1e-5)
    clf = pipe[-1]
    nocl = export.to_onnx(pipe, X_test[:20], options={id(clf): {"nocl": True, "zipmap": False}})  # checked
    label, _ = run_graph(nocl, X_test[:5])
    np.testing.assert_array_equal(pipe.classes_[label], pipe.predict(X_test[:5]))
    columns = export.to_onnx(pipe, X_test[:20], options={id(clf): {"zipmap": "columns"}})
    assert len(columns.graph.output) == 1 + len(clf.classes_)  # the label, then one output per class


def test_texts_as_a_list_or_a_unicode_array(trec):
    X, y, F, X_test, _ = trec
    pipe = make_pipeline(TfidfVectorizer(), AFTClassifier(transfer="none", random_state=0)).fit(X[:300], y[:300])
    for sample in (list(X_test[:20]), X_test[:20].astype(str)):
        onx = export.to_onnx(pipe, sample, options={id(pipe[-1]): {"zipmap": False}})
        assert_same_classifier(pipe, onx, X_test.astype(str))


def test_sparse_and_dense_input_and_integer_labels(trec):
    X, y, F, X_test, _ = trec
    vec = TfidfVectorizer(min_df=2).fit(X)
    codes = np.unique(y, return_inverse=True)[1]  # integer classes: int64 labels
    sparse_clf = AFTClassifier(module="mlp", max_epochs=2, random_state=0).fit(
        vec.transform(X), codes, teacher_features=F
    )
    onx = export.to_onnx(sparse_clf, vec.transform(X_test[:10]))  # a sparse sample: the graph takes dense rows
    assert_same_classifier(sparse_clf, onx, vec.transform(X_test).toarray())
    dense_clf = AFTClassifier(module="mlp", transfer="none", max_epochs=5, random_state=0).fit(F, codes)
    assert_same_classifier(dense_clf, export.to_onnx(dense_clf, F[:10]), F)


def test_dataframe_with_a_text_column(trec):
    pd = pytest.importorskip("pandas")
    X, y, F, X_test, _ = trec
    frame = pd.DataFrame({"question": X, "length": [float(len(t)) for t in X]})
    test = pd.DataFrame({"question": X_test, "length": [float(len(t)) for t in X_test]})
    columns = make_column_transformer((TfidfVectorizer(), "question"), (StandardScaler(), ["length"]))
    pipe = make_pipeline(columns, AFTClassifier(module="mlp", max_epochs=2, random_state=0))
    pipe.fit(frame, y, aftclassifier__teacher_features=F)
    onx = export.to_onnx(pipe, test[:50], options={id(pipe[-1]): {"zipmap": False}})
    assert sorted(i.name for i in onx.graph.input) == ["length", "question"]  # one input per column
    assert_same_classifier(pipe, onx, test)


@pytest.mark.parametrize("module", ["auto", "mlp"])
def test_regressor_far_from_zero(text_fixture, module):
    texts, stars, F = text_fixture("sst5")["train"]
    test_texts = np.asarray(text_fixture("sst5")["test"][0], dtype=object)
    texts = np.asarray(texts, dtype=object)
    y = np.column_stack([stars * 1000.0 + 5e4, -stars])  # two targets, one of them near 50,000
    pipe = make_pipeline(TfidfVectorizer(), AFTRegressor(module=module, max_epochs=3, random_state=0))
    pipe.fit(texts, y, aftregressor__teacher_features=F)
    onx = export.to_onnx(pipe, test_texts[:50])
    (got,) = run_graph(onx, test_texts)
    np.testing.assert_allclose(got, pipe.predict(test_texts), rtol=1e-4)  # every SST-5 test sentence, accents too


def test_the_check_catches_a_graph_that_tokenizes_otherwise(text_fixture):
    texts, stars, F = text_fixture("sst5")["train"]
    texts = np.asarray(texts, dtype=object)
    pipe = make_pipeline(TfidfVectorizer(), AFTRegressor(transfer="none", random_state=0)).fit(
        texts, stars.astype(float)
    )
    accented = np.array([t for t in texts if "é" in t], dtype=object)
    assert len(accented) >= 5
    ascii_tokens = {id(pipe[0]): {"tokenexp": r"\b\w\w+\b"}}  # RE2's \w: "café" becomes "caf"
    with pytest.raises(export.OnnxExportError, match="differ"):
        export.to_onnx(pipe, accented, options=ascii_tokens)
    export.to_onnx(pipe, accented)  # the default pattern keeps Python's tokens


def test_timm_student_exports_alone_and_is_refused_inside_a_pipeline(cifar_mini):
    pytest.importorskip("timm")
    images, labels = cifar_mini["train"]
    test_images, _ = cifar_mini["test"]
    clf = AFTClassifier(module="timm", module__model_name="test_resnet", transfer="none", max_epochs=1, random_state=0)
    clf.fit(images, labels)
    onx = export.to_onnx(clf, test_images[:8])  # torch.onnx.export, uint8 (N, H, W, C) images in
    assert [o.name for o in onx.graph.output] == ["label", "probabilities"]
    assert_same_classifier(clf, onx, test_images)
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.preprocessing import FunctionTransformer

    pipe = make_pipeline(FunctionTransformer(), clf)
    with pytest.raises(export.OnnxExportError, match="TimmStudent has no ONNX operator form inside a pipeline"):
        export.to_onnx(pipe, initial_types=[("X", FloatTensorType([None, 32, 32, 3]))])


class Doubler(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X * 2


class Spectral(nn.Module):
    """A student with an operator that ONNX does not have (eigenvalues): trainable, not exportable."""

    def __init__(self, input_dim, output_dim):
        super().__init__()
        self.linear = nn.Linear(input_dim, output_dim)

    def forward(self, X):
        import torch

        out = self.linear(X)
        return out + torch.linalg.eigvalsh(out.T @ out).sum() * 0, out


def test_errors_name_the_step():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 6)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(NotFittedError):
        export.to_onnx(AFTClassifier(), X[:5])
    fitted = AFTClassifier(transfer="none", random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but AFTClassifier is expecting 6"):
        export.to_onnx(fitted, X[:5, :5])  # the model's own message, not onnxruntime's shape error
    with pytest.raises(ValueError, match="NaN"):
        export.to_onnx(fitted, np.where(np.eye(5, 6) > 0, np.nan, X[:5]))
    pipe = make_pipeline(Doubler(), AFTClassifier(transfer="none", random_state=0)).fit(X, y)
    with pytest.raises(export.OnnxExportError, match=r"no converter for step 'doubler' \(Doubler\)"):
        export.to_onnx(pipe, X[:5])
    odd = AFTClassifier(module=Spectral, transfer="none", max_epochs=1, random_state=0).fit(X, y)
    with pytest.raises(export.OnnxExportError, match="could not export the student Spectral"):
        export.to_onnx(odd, X[:5])
    floats = AFTClassifier(transfer="none", random_state=0).fit(X, y.astype(float))  # ONNX labels: int64
    assert_same_classifier(floats, export.to_onnx(floats, X[:5], options={id(floats): {"zipmap": False}}), X)


def test_trim_for_prediction_halves_the_pickle_and_keeps_predictions(trec):
    X, y, F, X_test, _ = trec
    vec = TfidfVectorizer(min_df=2).fit(X)
    clf = AFTClassifier(module="mlp", transfer="kd", max_epochs=2, random_state=0).fit(
        vec.transform(X), y, teacher_features=F
    )
    proba = clf.predict_proba(vec.transform(X_test))
    before = len(pickle.dumps(clf))
    trimmed = pickle.loads(pickle.dumps(clf.trim_for_prediction()))
    assert len(pickle.dumps(trimmed)) < 0.55 * before
    np.testing.assert_array_equal(trimmed.predict_proba(vec.transform(X_test)), proba)
    assert len(trimmed.history_) == 0 and trimmed.transfer_ is None
    trimmed.fit(vec.transform(X[:200]), y[:200], teacher_features=F[:200])  # fits afresh
    assert len(trimmed.history_) == 2


def test_cli_export_trims_writes_and_checks(trec, tmp_path, capsys):
    import joblib

    from sklearn_aft.cli import main

    X, y, F, X_test, _ = trec
    pipe = make_pipeline(TfidfVectorizer(), AFTClassifier(random_state=0)).fit(X, y, aftclassifier__teacher_features=F)
    joblib.dump(pipe, tmp_path / "model.joblib")
    (tmp_path / "sample.txt").write_text("\n".join(X_test[:30]), encoding="utf-8")
    assert (
        main(
            [
                "export",
                str(tmp_path / "model.joblib"),
                str(tmp_path / "model.onnx"),
                "--sample",
                str(tmp_path / "sample.txt"),
            ]
        )
        == 0
    )
    assert "checked on 30 sample rows" in capsys.readouterr().out
    import onnx

    assert_same_classifier(pipe, onnx.load(tmp_path / "model.onnx"), X_test)
    joblib.dump({"not": "a model"}, tmp_path / "other.joblib")
    assert main(["export", str(tmp_path / "other.joblib"), str(tmp_path / "x.onnx")]) == 2
    assert "not an sklearn-aft estimator" in capsys.readouterr().err


@pytest.mark.slow
def test_served_from_an_environment_without_torch(trec, tmp_path):
    """The serving example in a fresh venv holding onnxruntime and numpy only."""
    import json
    import os

    X, y, F, X_test, _ = trec
    pipe = make_pipeline(TfidfVectorizer(), AFTClassifier(module="mlp", max_epochs=2, random_state=0))
    pipe.fit(X, y, aftclassifier__teacher_features=F)
    export.to_onnx(pipe, X_test[:50], tmp_path / "model.onnx", options={id(pipe[-1]): {"zipmap": False}})
    venv = tmp_path / "serve-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "onnxruntime", "numpy"], check=True, timeout=900)
    listed = subprocess.run([str(python), "-m", "pip", "list"], check=True, capture_output=True, text=True).stdout
    assert "torch" not in listed and "skorch" not in listed and "scikit-learn" not in listed
    texts = list(X_test[:40])
    out = subprocess.run(
        [str(python), str(EXAMPLES / "serve_onnx.py"), str(tmp_path / "model.onnx")],
        input="\n".join(texts),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    answers = [json.loads(line) for line in out.splitlines()]
    assert [a["label"] for a in answers] == list(pipe.predict(np.array(texts, dtype=object)))
    np.testing.assert_allclose(
        [a["probabilities"] for a in answers], pipe.predict_proba(np.array(texts, dtype=object)), atol=1e-4
    )
