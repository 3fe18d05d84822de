"""ONNX export of table pipelines (pandas string and float64 columns, an imputer's missing-value indicator),
the likely cause named when a text graph differs (upper-case Greek), and the CLI on an unreadable file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.compose import make_column_transformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklearn_aft import AFTClassifier, AFTRegressor

ort = pytest.importorskip("onnxruntime")
pd = pytest.importorskip("pandas")
export = pytest.importorskip("sklearn_aft.export")

WINE = Path(__file__).resolve().parents[1] / "benchmarks" / "data" / "winemag130k_first2985.csv.gz"
CATEGORIES = ["country", "province", "variety", "taster_name"]


def run_graph(onx, X):
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, export.input_feed(onx, X))


def table_features():
    """The gallery's table (examples/plot_table_with_text.py): TF-IDF of the review, one-hot categories, the
    imputed and scaled log price with its missing-value indicator."""
    return make_column_transformer(
        (TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2)), "description"),
        (OneHotEncoder(handle_unknown="ignore", min_frequency=3), CATEGORIES),
        (make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), ["log_price"]),
    )


@pytest.fixture(scope="module")
def wine():
    """400 reviews as pandas reads them: ``str`` text and categories (pandas 3), float64 prices, some missing."""
    df = pd.read_csv(WINE, nrows=400)
    df[CATEGORIES] = df[CATEGORIES].fillna("unknown")
    df["log_price"] = np.log1p(df["price"])
    train, test = df.iloc[:300], df.iloc[300:].reset_index(drop=True)
    assert df["log_price"].dtype == np.float64 and test["log_price"].isna().any() and train["log_price"].isna().any()
    assert df["description"].dtype != object or pd.__version__ < "3"  # pandas 3: the str dtype at stake
    regressor = make_pipeline(table_features(), AFTRegressor(transfer="none", random_state=0))
    regressor.fit(train, train["points"].to_numpy(float))
    return train, test, regressor


def test_table_pipeline_with_pandas_strings_and_float64(wine):
    train, test, regressor = wine
    onx = export.to_onnx(regressor, test[:50])  # checked on the sample: no error is parity
    kinds = {i.name: i.type.tensor_type.elem_type for i in onx.graph.input}
    string, float32 = 8, 1  # TensorProto.STRING, TensorProto.FLOAT
    # the columns the model reads, typed by the export; id, points, title... are not inputs
    assert kinds == {**dict.fromkeys(["description", *CATEGORIES], string), "log_price": float32}
    (got,) = run_graph(onx, test)
    np.testing.assert_allclose(got.ravel(), regressor.predict(test), rtol=1e-4)  # every row, missing prices too
    # the same frame cast to objects, as users work around pandas' strings: the same graph inputs
    as_objects = export.to_onnx(regressor, test.astype(object)[:50])
    assert {i.name: i.type.tensor_type.elem_type for i in as_objects.graph.input} == kinds
    (got,) = run_graph(as_objects, test.astype(object))
    np.testing.assert_allclose(got.ravel(), regressor.predict(test), rtol=1e-4)


def test_table_classifier_and_the_imputer_indicator(wine):
    train, test, _ = wine
    excellent = (train["points"] >= 90).astype(int).to_numpy()
    clf = make_pipeline(table_features(), AFTClassifier(transfer="none", random_state=0)).fit(train, excellent)
    onx = export.to_onnx(clf, test, options={id(clf[-1]): {"zipmap": False}})
    label, proba = run_graph(onx, test)
    np.testing.assert_array_equal(label, clf.predict(test))
    np.testing.assert_allclose(proba, clf.predict_proba(test), atol=1e-4)
    imputer = clf[0].named_transformers_["pipeline"][0]
    (imputed,) = run_graph(export.to_onnx(imputer, test[["log_price"]]), test[["log_price"]])
    assert imputed.shape == (len(test), 2)  # the value, then skl2onnx's missing piece: the indicator column
    np.testing.assert_allclose(imputed, imputer.transform(test[["log_price"]]), rtol=1e-6)


def greek_reviews(n: int = 200):
    """Short reviews, half of them in upper case: the words that decide the label hold Greek capitals."""
    rng = np.random.default_rng(0)
    good, bad = ["ΚΑΛΟΣ", "ΩΡΑΙΟΣ", "ΥΠΕΡΟΧΟ", "καλός"], ["ΚΑΚΟΣ", "ΑΣΧΗΜΟΣ", "ΧΑΛΙΑ", "κακός"]
    filler = ["το", "φαγητό", "ήταν", "πολύ", "the", "food", "was", "εστιατόριο", "ΣΕΡΒΙΣ"]
    texts, y = [], np.arange(n) % 2
    for label in y:
        words = [*rng.choice(filler, 4), rng.choice(good if label else bad)]
        rng.shuffle(words)
        texts.append(" ".join(words))
    return np.asarray(texts, dtype=object), y


def test_a_text_difference_names_its_cause_and_the_option():
    texts, y = greek_reviews()
    pipe = make_pipeline(TfidfVectorizer(), AFTClassifier(transfer="none", random_state=0)).fit(texts, y)
    # the default locale "C" lower-cases ASCII letters only: "ΚΑΛΟΣ" stays upper case in the graph
    with pytest.raises(export.OnnxExportError, match=r"locale 'C', ASCII letters only.*'Σ'.*lowercase=False"):
        export.to_onnx(pipe, texts[:50])
    locales = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=False).stdout.split()
    if {"C.UTF-8", "C.utf8"} & set(locales):  # lower-cases Greek, letter by letter: "ΚΑΛΟΣ" -> "καλοσ", not "καλος"
        with pytest.raises(export.OnnxExportError, match=r"letter by letter.*final 'Σ' is 'ς'.*lowercase=False"):
            export.to_onnx(pipe, texts[:50], options={TfidfVectorizer: {"locale": "C.UTF-8"}})
    # the fix named: lower-case in Python, lowercase=False; the graph then matches on every text
    lowered = np.asarray([t.lower() for t in texts], dtype=object)
    fixed = make_pipeline(TfidfVectorizer(lowercase=False), AFTClassifier(transfer="none", random_state=0))
    fixed.fit(lowered, y)
    label, _ = run_graph(export.to_onnx(fixed, lowered[:50], options={id(fixed[-1]): {"zipmap": False}}), lowered)
    np.testing.assert_array_equal(label, fixed.predict(lowered))
    # a tokenizer pattern with RE2's ASCII-only \w: named too
    ascii_tokens = {id(fixed[0]): {"tokenexp": r"\b\w\w+\b"}}
    with pytest.raises(export.OnnxExportError, match=r"ASCII-only \\w.*tokenexp"):
        export.to_onnx(fixed, lowered[:50], options=ascii_tokens)


def test_the_hint_finds_the_text_column_of_a_table(wine):
    train, test, regressor = wine
    shouting = test.copy()
    shouting["description"] = shouting["description"].str.upper() + " ΚΑΛΟΣ ΟΙΝΟΣ"
    hint = export._text.text_mismatch_hint(regressor, shouting, None)
    assert "TfidfVectorizer on column 'description'" in hint and "'Κ'" in hint


def test_cli_refuses_an_unreadable_model_in_one_line(wine, tmp_path, capsys):
    import joblib

    from sklearn_aft.cli import main

    _, test, regressor = wine
    joblib.dump(regressor, tmp_path / "model.joblib")
    data = (tmp_path / "model.joblib").read_bytes()
    (tmp_path / "truncated.joblib").write_bytes(data[: len(data) // 2])
    (tmp_path / "garbage.joblib").write_bytes(bytes(range(256)) * 4)
    for name in ("truncated.joblib", "garbage.joblib", "absent.joblib"):
        assert main(["export", str(tmp_path / name), str(tmp_path / "x.onnx")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("sklearn-aft export: error:"), err
        assert ("no model file" if name == "absent.joblib" else "cannot read") in err
    # the command itself, as the user ran it: one line on stderr, no traceback
    out = subprocess.run(
        [sys.executable, "-m", "sklearn_aft", "export", str(tmp_path / "truncated.joblib"), str(tmp_path / "x.onnx")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert "cannot read" in out.stderr and "truncated or damaged" in out.stderr
    # a table pipeline with a CSV sample: exported and checked
    test.to_csv(tmp_path / "rows.csv", index=False)
    sample = ["--sample", str(tmp_path / "rows.csv")]
    assert main(["export", str(tmp_path / "model.joblib"), str(tmp_path / "table.onnx"), *sample]) == 0
    assert "checked on 100 sample rows" in capsys.readouterr().out
