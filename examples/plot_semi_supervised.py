"""
Semi-supervised transfer: how much does an unlabeled pool help?
===============================================================

Transfer methods learn from the teacher's view of every training row, labeled or not; the task loss
sees the labeled rows only. So with a fixed number of labels, the unlabeled rows are where the
teacher's knowledge reaches the student. This example keeps 100 labeled SMS messages and adds more
and more unlabeled ones (label ``-1``), for the plain student, the default AFT student
(``"aft_feature"``) and task-oriented transfer (``"task_oriented"``).

It then builds the unlabeled set a second way: instead of a random sample from the pool, the pool
rows closest to the labeled rows in the teacher's feature space
(:func:`~sklearn_aft.retrieval.retrieve_transfer_set`, a *retrieval-augmented transfer set*).
"""

# %%
# Data and teacher features
# -------------------------
# The teacher embeds every text once; the per-text cache (``memory``) makes the later calls free.
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

from sklearn_aft import AFTClassifier
from sklearn_aft.datasets import load_sms_spam
from sklearn_aft.retrieval import retrieve_transfer_set
from sklearn_aft.teachers import SentenceEmbedder, embed

texts, y = load_sms_spam(subset="train", return_X_y=True)
test_texts, y_test = load_sms_spam(subset="test", return_X_y=True)
test_texts, _, y_test, _ = train_test_split(test_texts, y_test, train_size=600, stratify=y_test, random_state=0)
labeled, pool = train_test_split(np.arange(len(y)), train_size=100, stratify=y, random_state=0)
pool = np.random.RandomState(0).permutation(pool)[:1600]  # a random order: prefixes are random samples

memory = Path.home() / ".cache" / "sklearn-aft"
teacher = SentenceEmbedder(batch_size=64)
F = embed(teacher, texts, memory=memory)
F_test = embed(teacher, test_texts, memory=memory)
vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2).fit(texts)  # unsupervised: all texts
X, X_test = vectorizer.transform(texts), vectorizer.transform(test_texts)

probe = LogisticRegression(C=10.0, max_iter=2000).fit(F[labeled], y[labeled])
probe_score = balanced_accuracy_score(y_test, probe.predict(F_test))
print(f"{len(labeled)} labels, pool of {len(pool)} unlabeled texts; teacher probe {probe_score:.3f}")


# %%
# Students on a growing random pool
# ---------------------------------
def fit_and_score(method, unlabeled):
    rows = np.concatenate([labeled, unlabeled]).astype(int)
    y_fit = np.concatenate([y[labeled], np.full(len(unlabeled), -1)])
    clf = AFTClassifier(transfer=method, random_state=0).fit(X[rows], y_fit, teacher_features=F[rows])
    return balanced_accuracy_score(y_test, clf.predict(X_test))


sizes = [0, 200, 800, 1600]
methods = ["none", "aft_feature", "task_oriented"]
scores = {m: [fit_and_score(m, pool[:n]) for n in sizes] for m in methods}
for m in methods:
    print(f"{m:14s}", "  ".join(f"{n:>4d} unlabeled: {s:.3f}" for n, s in zip(sizes, scores[m])))

# %%
fig, ax = plt.subplots(figsize=(6, 3.8))
for m, marker in zip(methods, "osD"):
    ax.plot(sizes, scores[m], marker=marker, label="plain student" if m == "none" else m)
ax.axhline(probe_score, color="grey", linestyle="--", label="teacher probe")
ax.set_xlabel("unlabeled training texts (100 labeled)")
ax.set_ylabel("balanced accuracy on test")
ax.legend()
fig.tight_layout()

# %%
# The plain student cannot use unlabeled rows, so its line is flat. Both transfer methods climb
# with the pool, and task-oriented transfer ends above the teacher's own probe: the student learns
# the probe's soft predictions on 1,600 messages, then is fine-tuned on the labels. With no pool the
# methods have only the labeled rows, where (as the :doc:`benchmarks </aft>` also found) transfer
# adds little.
#
# A retrieved transfer set
# ------------------------
# With a budget of 400 unlabeled rows, compare a random draw with the 400-or-so pool rows nearest
# to the labeled ones (4 per labeled text, duplicates merged). ``exclude`` keeps near-copies of the
# test messages (SMS spam repeats itself) out of the transfer set, so the score stays honest.
retrieved = pool[retrieve_transfer_set(F[labeled], F[pool], budget=400, exclude=F_test)]
random_draw = pool[: len(retrieved)]
print(
    f"{len(retrieved)} retrieved rows, {np.mean(y[retrieved] == 1):.0%} spam "
    f"(random draw: {np.mean(y[random_draw] == 1):.0%})"
)
for name, unlabeled in [("random", random_draw), ("retrieved", retrieved)]:
    print(f"aft_feature with a {name:9s} transfer set: {fit_and_score('aft_feature', unlabeled):.3f}")

# %%
# On this data the retrieved set did no better than a random one of the same size. Retrieval pays
# when the pool is large and mostly off-topic (the setting of Vemulapalli et al., 2024, who
# retrieved from web-scale image collections): here every pool message is an SMS from the same
# collection, so a random draw is already in-domain, and the nearest neighbours of 100 messages probably
# cover fewer kinds of message than a random sample does.
