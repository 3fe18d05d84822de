"""
A table with a text column: ``make_column_transformer`` feeding the student, the text feeding the teacher
==========================================================================================================

Many real tables carry a free-text column next to categories and numbers: a product's description, a
listing's blurb, a review. Here each row is a wine review (WineEnthusiast, from the Kaggle "Wine Reviews"
set: the benchmark copy in this repository's ``benchmarks/data``, non-commercial use): the review's text,
the country, province, variety and taster, and the price. The target is the review's score, 80-100 points.

The student sees what a user of scikit-learn would build: a
:func:`~sklearn.compose.make_column_transformer` of a TF-IDF of the text, one-hot categories and the
scaled log price. The teacher, all-MiniLM-L6-v2 (:class:`~sklearn_aft.teachers.SentenceEmbedder`), embeds
the raw text, routed to the student's ``fit`` as ``teacher_input``; prediction never runs it. 300 rows
are labeled, the rest of the training rows are unlabeled (target NaN, label -1).

Each student sits next to what a user would write by hand on the same features (the column transformer
fitted on every training row, as the students' pipelines fit it): ``RidgeCV`` (or a cross-validated
``LogisticRegression``) on the labeled rows, and the pseudo-label pipeline (a ridge probe on the teacher's
embedding predicts the unlabeled rows, then ``RidgeCV`` on the table's features learns every row).
"""

# %%
# Data
# ----
from pathlib import Path

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import make_column_transformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sklearn_aft
from sklearn_aft import AFTClassifier, AFTRegressor
from sklearn_aft.teachers import SentenceEmbedder, embed

# The reviews are not shipped with the package (their license is non-commercial): they are read from the
# repository checkout that the package is installed from (``pip install -e .``).
repository = Path(sklearn_aft.__file__).resolve().parents[1]
data = repository / "benchmarks" / "data" / "winemag130k_first2985.csv.gz"
df = pd.read_csv(data).drop(columns=["id"]).drop_duplicates()
df = df.sample(frac=1.0, random_state=0).reset_index(drop=True)  # the file is grouped by taster and score
categories = ["country", "province", "variety", "taster_name"]
df[categories] = df[categories].fillna("unknown")
df["log_price"] = np.log1p(df["price"])
test, train = df.iloc[:1000], df.iloc[1000:]
labeled = np.zeros(len(train), dtype=bool)
labeled[np.random.default_rng(0).permutation(len(train))[:300]] = True
print(f"{len(train)} training rows ({labeled.sum()} labeled), {len(test)} test rows")


def table_features():
    return make_column_transformer(
        (TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2)), "description"),
        (OneHotEncoder(handle_unknown="ignore", min_frequency=3), categories),
        (make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), ["log_price"]),
    )


# %%
# The teacher's embeddings are cached per text in ``memory``, so the probe below and both students embed
# each review once.
memory = Path.home() / ".cache" / "sklearn-aft"
texts = train["description"].tolist()
teacher = SentenceEmbedder(batch_size=64)
embeddings = embed(teacher, texts, memory=memory)

# %%
# Regression: the score
# ---------------------
# The student's step asks for ``teacher_input`` with ``set_fit_request``; metadata routing passes the raw
# texts to it, and the column transformer never sees them.
y = np.where(labeled, train["points"], np.nan)
sklearn.set_config(enable_metadata_routing=True)
student = AFTRegressor(teacher=teacher, memory=memory, random_state=0).set_fit_request(teacher_input=True)
regressor = make_pipeline(table_features(), student).fit(train, y, teacher_input=texts)
sklearn.set_config(enable_metadata_routing=False)

features = table_features().fit(train)  # unsupervised: it may see the unlabeled rows too
X, X_test = features.transform(train), features.transform(test)
points = train["points"].to_numpy()
alphas = np.logspace(-2, 3, 11)
ridge = RidgeCV(alphas=alphas).fit(X[labeled], points[labeled])
probe = RidgeCV(alphas=alphas).fit(embeddings[labeled], points[labeled])
pseudo = RidgeCV(alphas=alphas).fit(X, np.where(labeled, points, probe.predict(embeddings)))

scores = {
    "RidgeCV, labeled rows": r2_score(test["points"], ridge.predict(X_test)),
    "pseudo-labels by hand": r2_score(test["points"], pseudo.predict(X_test)),
    "AFTRegressor()": r2_score(test["points"], regressor.predict(test)),
}
for name, r2 in scores.items():
    print(f"{name:24s} R^2 {r2:.3f}")
print(f"teacher's share of the unlabeled rows' targets: {regressor[-1].transfer_.teacher_share_:.0f}")

# %%
# Here the table's own columns (the price, the taster) say more about the score than the teacher's view of
# the text alone, and the default sees it out of fold: a teacher share of 0 leaves the unlabeled rows to the
# student's own predictions, and the student is ``RidgeCV`` on the labeled rows. The hand-written pipeline
# follows the teacher's probe wherever it is. (``benchmarks/regression.py`` has the same table with a
# teacher that also sees the columns, over 3 seeds and two label budgets.)
#
# Classification: is it a 90-point wine?
# ---------------------------------------
# The same table, the same teacher and routing, with :class:`~sklearn_aft.AFTClassifier`: unlabeled rows
# are -1.
excellent = (train["points"] >= 90).astype(int).to_numpy()
y_class = np.where(labeled, excellent, -1)
sklearn.set_config(enable_metadata_routing=True)
student = AFTClassifier(teacher=teacher, memory=memory, random_state=0).set_fit_request(teacher_input=True)
classifier = make_pipeline(table_features(), student).fit(train, y_class, teacher_input=texts)
sklearn.set_config(enable_metadata_routing=False)

logistic = GridSearchCV(LogisticRegression(max_iter=2000), {"C": [0.1, 1.0, 10.0, 100.0]})
logistic.fit(X[labeled], excellent[labeled])
test_excellent = (test["points"] >= 90).astype(int)
print(f"{'LogisticRegression, CV':24s} accuracy {logistic.score(X_test, test_excellent):.3f}")
print(f"{'AFTClassifier()':24s} accuracy {classifier.score(test, test_excellent):.3f}")
