"""
Several teachers at once
========================

Two text embedders of different families see the same messages: all-MiniLM-L6-v2
(:class:`~sklearn_aft.teachers.SentenceEmbedder`, a sentence-transformers model) and multilingual
E5-small (:class:`~sklearn_aft.teachers.E5Embedder`, a 4-bit model run by a small C engine). A
:class:`~sklearn_aft.teachers.TeacherUnion` embeds with both and returns their features side by side,
as :class:`~sklearn_aft.TeacherFeatures` that remember which columns came from which teacher.

AFT learns how much of each teacher dimension to transfer. After ``fit``,
``transfer_.feature_weights_`` holds one weight per teacher dimension, and
``transfer_.split_by_teacher`` splits them per teacher: a view of which teacher the student leaned on.
"""

# %%
# Data and the two teachers
# -------------------------
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

from sklearn_aft import AFTClassifier
from sklearn_aft.datasets import load_sms_spam
from sklearn_aft.teachers import E5Embedder, SentenceEmbedder, embed, make_teacher_union

texts, y = load_sms_spam(subset="train", return_X_y=True)
test_texts, y_test = load_sms_spam(subset="test", return_X_y=True)
texts, _, y, _ = train_test_split(texts, y, train_size=600, stratify=y, random_state=0)
test_texts, _, y_test, _ = train_test_split(test_texts, y_test, train_size=400, stratify=y_test, random_state=0)
labeled, _ = train_test_split(np.arange(len(y)), train_size=100, stratify=y, random_state=0)
y_semi = np.full_like(y, -1)
y_semi[labeled] = y[labeled]

teachers = make_teacher_union(SentenceEmbedder(batch_size=64), E5Embedder())
memory = Path.home() / ".cache" / "sklearn-aft"  # each teacher caches its own embeddings per text
F = embed(teachers, texts, memory=memory)
F_test = embed(teachers, test_texts, memory=memory)
print(type(F).__name__, F.shape, "blocks:", F.blocks)

vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2).fit(texts)
X, X_test = vectorizer.transform(texts), vectorizer.transform(test_texts)

# %%
# One student per teacher, and one with both
# ------------------------------------------
# Slicing the columns by ``F.blocks`` gives each teacher's features alone. The teacher probes
# (logistic regression on the labeled rows' features) show what each teacher knows about the task.
bounds = np.cumsum([0, *F.blocks])
features = {
    "MiniLM": (F[:, bounds[0] : bounds[1]], F_test[:, bounds[0] : bounds[1]]),
    "E5": (F[:, bounds[1] : bounds[2]], F_test[:, bounds[1] : bounds[2]]),
    "both": (F, F_test),
}
plain = AFTClassifier(transfer="none", module="mlp", random_state=0).fit(X, y_semi)  # the same MLP, no teacher
print(f"plain student: {balanced_accuracy_score(y_test, plain.predict(X_test)):.3f}")
students = {}
for name, (train_f, test_f) in features.items():
    probe = LogisticRegression(C=10.0, max_iter=2000).fit(train_f[labeled], y[labeled])
    students[name] = AFTClassifier(transfer="aft_feature", random_state=0).fit(X, y_semi, teacher_features=train_f)
    print(
        f"{name:7s} probe {balanced_accuracy_score(y_test, probe.predict(test_f)):.3f}   "
        f"AFT student {balanced_accuracy_score(y_test, students[name].predict(X_test)):.3f}"
    )

# %%
# Which teacher did the student use?
# ----------------------------------
# For AFT's feature form, a dimension's weight is the norm of the column of the learned map
# from the teacher's features to the student's. A weight says how much a *unit* of that dimension
# moves the student, so it depends on the dimension's spread: both embeddings have norm 1, but E5's
# coordinates vary about half as much as MiniLM's, and the map must weigh them twice as much to get
# the same effect. Multiplying each weight by its dimension's standard deviation gives what the
# dimension actually contributes; that is the number to compare across teachers.
transfer = students["both"].transfer_
weights = transfer.split_by_teacher(transfer.feature_weights_)  # one array per teacher
spread = transfer.split_by_teacher(F.std(axis=0))
contributions = [w * s for w, s in zip(weights, spread)]
total = sum(c.sum() for c in contributions)
for name, w, s, c in zip(["MiniLM", "E5"], weights, spread, contributions):
    print(
        f"{name:7s} mean weight {w.mean():.2f}, mean std {s.mean():.3f}, "
        f"share of the contributions {c.sum() / total:.0%}"
    )

fig, (w_ax, c_ax) = plt.subplots(1, 2, figsize=(10, 3.5))
labels = ["MiniLM dimensions", "E5 dimensions"]
w_ax.hist(weights, bins=40, label=labels, histtype="stepfilled", alpha=0.6)
w_ax.set_xlabel("learned weight of a teacher dimension")
w_ax.set_ylabel("dimensions")
c_ax.hist(contributions, bins=40, label=labels, histtype="stepfilled", alpha=0.6)
c_ax.set_xlabel("weight x standard deviation (contribution)")
c_ax.legend()
fig.tight_layout()

# %%
# Raw weights favour E5 only because its coordinates are narrower; by contribution the two
# teachers are close to even, although E5 alone made the better probe: the student takes from both
# what it can express (the exact shares vary with the seed and the data). Standardising
# each block before ``fit`` (for example ``F / F.std(axis=0)``) makes the raw weights comparable
# directly.
#
# The union is also a teacher in its own right: ``AFTClassifier(teacher=teachers, memory=memory)``
# embeds raw inputs with both at ``fit`` time (route the texts as ``teacher_input`` when the student
# sees something else, as in the TF-IDF pipeline example), and its parameters are searchable as
# ``teacher__sentenceembedder__batch_size`` and so on.
print(sorted(k for k in teachers.get_params() if k.endswith("batch_size")))
