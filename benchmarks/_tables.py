"""Tables with a text column, for the regression benchmark.

``wine``: the first 2,985 WineEnthusiast reviews of the Kaggle "Wine Reviews" set (``benchmarks/data``,
source, license and quirks in its README): the target is the review's score (``points``, 80-100). Exact
duplicates are dropped, the rows shuffled (seed 0; the file is grouped by taster and score band) and
1,000 of them held out as the test set. The student sees ``make_column_transformer`` features: a TF-IDF of
the review, one-hot country, province, variety and taster, and the scaled log price with a missing flag.
The teacher sees all-MiniLM-L6-v2's embedding of the review joined by the same table columns (dense), so it
knows what the student knows and more.
"""

from __future__ import annotations

import numpy as np
from _data import CACHE_DIR, DATA_DIR, minilm_embed

TABLES = ("wine",)
WINE_FILE = "winemag130k_first2985.csv.gz"
N_TEST = 1000
CATEGORIES = ["country", "province", "variety", "taster_name"]


def wine_frame():
    """The deduplicated, shuffled reviews (``description``, the table columns, ``points``)."""
    import pandas as pd

    df = pd.read_csv(DATA_DIR / WINE_FILE)
    df = df.drop_duplicates(subset=[c for c in df.columns if c != "id"])
    df = df.sample(frac=1.0, random_state=0).reset_index(drop=True)
    df[CATEGORIES] = df[CATEGORIES].fillna("unknown")
    df["log_price"] = np.log1p(df["price"])
    return df


def _wine_embeddings(texts: list[str]) -> np.ndarray:
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / "minilm_wine.npz"
    if path.exists():
        with np.load(path) as z:
            if len(z["emb"]) == len(texts):
                return z["emb"]
    emb = minilm_embed(texts)
    np.savez_compressed(path, emb=emb)
    return emb


def table_columns():
    """The student's ``make_column_transformer``: TF-IDF text, one-hot categories, scaled log price."""
    from sklearn.compose import make_column_transformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    return make_column_transformer(
        (TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2), max_features=20000), "description"),
        (OneHotEncoder(handle_unknown="ignore", min_frequency=3), CATEGORIES),
        (make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), ["log_price"]),
    )


def load_table(name: str, pool: int | None):
    """``(X, y, F, X_test, y_test, F_test)`` of the first ``pool`` training rows (None: all) and the test rows."""
    if name != "wine":
        raise ValueError(f"unknown table {name!r}; choose one of {TABLES}")
    import scipy.sparse as sp

    df = wine_frame()
    emb = _wine_embeddings(df["description"].tolist())
    train, test = df.iloc[N_TEST:], df.iloc[:N_TEST]
    emb_train, emb_test = emb[N_TEST:], emb[:N_TEST]
    if pool is not None:
        train, emb_train = train.iloc[:pool], emb_train[:pool]
    columns = table_columns().fit(train)
    X, X_te = (sp.csr_matrix(columns.transform(part), dtype=np.float32) for part in (train, test))
    n_text = len(columns.named_transformers_["tfidfvectorizer"].vocabulary_)
    # the teacher: the review's embedding and the table's own columns (everything after the TF-IDF block)
    F = np.hstack([emb_train, X[:, n_text:].toarray()]).astype(np.float32)
    F_te = np.hstack([emb_test, X_te[:, n_text:].toarray()]).astype(np.float32)
    return X, train["points"].to_numpy(float), F, X_te, test["points"].to_numpy(float), F_te
