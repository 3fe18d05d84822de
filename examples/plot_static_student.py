"""
Raw texts and a teacher: the static student
===========================================

The shortest path from texts to a cheap model: give :class:`~sklearn_aft.AFTClassifier` the raw texts and a
text teacher, no vectoriser. ``module="auto"`` then trains the *static student*
(:class:`~sklearn_aft.students.StaticStudent`): a token-embedding table distilled from the teacher's own model
(model2vec's ``distill``, data-free, about 20 s once), mean-pooled and followed by a linear head, trained end to
end on the labels and on the teacher's soft labels for the unlabeled texts (``stacked_kd``). It starts from the
teacher's knowledge of words and predicts with a look-up and one matrix product.

Here: 100 labeled SMS messages and 900 unlabeled ones, against TF-IDF + ``LogisticRegressionCV`` on the labels,
the hand-written pseudo-label pipeline and the teacher's own probe.
"""

# %%
# Data and teacher
# ----------------
import tempfile
import warnings

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline

from sklearn_aft import AFTClassifier
from sklearn_aft.datasets import load_sms_spam
from sklearn_aft.export import to_static_pipeline
from sklearn_aft.teachers import SentenceEmbedder

texts, y = load_sms_spam(subset="train", return_X_y=True)
texts_te, y_te = load_sms_spam(subset="test", return_X_y=True)
texts, y = list(texts[:1000]), np.asarray(y[:1000])
texts_te, y_te = list(texts_te[:1000]), np.asarray(y_te[:1000])
labeled = np.zeros(len(y), dtype=bool)
labeled[np.random.default_rng(0).permutation(len(y))[:100]] = True
y_semi = y.astype(object)
y_semi[~labeled] = -1  # unlabeled: they reach the student through the teacher only

teacher = SentenceEmbedder(batch_size=64)
F, F_te = teacher.fit_transform(texts), teacher.transform(texts_te)  # for the references below

# %%
# The static student
# ------------------
# ``teacher_features=F`` saves a second pass of the teacher; ``AFTClassifier(teacher=teacher).fit(texts, y_semi)``
# is the same fit with the teacher run inside.
clf = AFTClassifier(module__source=teacher.static_source(), random_state=0)
clf.fit(texts, y_semi, teacher_features=F)
print(type(clf.net_.module_).__name__, "with a", clf.net_.module_.embedding.weight.shape, "table")

# %%
# Next to what one writes by hand
# -------------------------------
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    tfidf = make_pipeline(TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2)), LogisticRegressionCV(max_iter=1000))
    tfidf.fit(np.asarray(texts)[labeled], y[labeled])
    probe = LogisticRegressionCV(max_iter=1000).fit(F[labeled], y[labeled])
    pseudo = make_pipeline(
        TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2)), LogisticRegression(C=10, max_iter=1000)
    )
    pseudo.fit(texts, np.where(labeled, y, probe.predict(F)))

rows = {
    "TF-IDF + LogisticRegressionCV (100 labels)": tfidf.predict(texts_te),
    "pseudo-labels (probe labels the pool, TF-IDF)": pseudo.predict(texts_te),
    "teacher probe (runs MiniLM to predict)": probe.predict(F_te),
    "static student (AFTClassifier on raw texts)": clf.predict(texts_te),
}
for name, pred in rows.items():
    print(f"{name:48s} accuracy {np.mean(pred == y_te):.3f}  macro-F1 {f1_score(y_te, pred, average='macro'):.3f}")

# %%
# Serving without torch
# ---------------------
# The fitted student is a tokenizer, a table and a head: model2vec's ``StaticModelPipeline`` format, which loads
# with numpy and ``tokenizers`` alone. :func:`~sklearn_aft.export.to_static_pipeline` writes it and checks that it
# predicts what the model predicts.
with tempfile.TemporaryDirectory() as folder:
    served = to_static_pipeline(clf, folder, X_sample=texts_te[:200])
    print(served.predict(["WINNER! Claim your free prize now", "see you at lunch?"], use_multiprocessing=False))
