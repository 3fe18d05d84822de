"""
Quickstart
==========

Train a small TF-IDF student on a handful of labeled SMS messages, with help from a sentence
embedder (the *teacher*), and compare it with the same student trained on the labels alone and with
Adaptive Feature Transfer on an MLP student.

The teacher (all-MiniLM-L6-v2, loaded from a local pip package) embeds the training texts once. Those
embeddings are passed to :meth:`~sklearn_aft.AFTClassifier.fit` as ``teacher_features``; prediction then
runs the cheap student only.
"""

# %%
# Data: a small, stratified slice of the bundled SMS spam collection
# -------------------------------------------------------------------
# 600 training texts, of which only 100 keep their label; the other 500 are marked ``-1``
# (unlabeled). Unlabeled rows carry no task loss, but the teacher still sees them, and that is where
# transfer usually helps most. About 13 % of the messages are spam, so we report balanced accuracy
# next to accuracy.
import pickle

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

from sklearn_aft import AFTClassifier
from sklearn_aft.datasets import load_sms_spam
from sklearn_aft.teachers import SentenceEmbedder

texts, labels = load_sms_spam(subset="train", return_X_y=True)
test_texts, test_labels = load_sms_spam(subset="test", return_X_y=True)
texts, _, y, _ = train_test_split(texts, labels, train_size=600, stratify=labels, random_state=0)
test_texts, _, y_test, _ = train_test_split(
    test_texts, test_labels, train_size=500, stratify=test_labels, random_state=0
)

rng = np.random.RandomState(0)
y_semi = np.full_like(y, -1)
labeled = rng.choice(len(y), size=100, replace=False)
y_semi[labeled] = y[labeled]
print(f"{(y_semi != -1).sum()} labeled, {(y_semi == -1).sum()} unlabeled, {len(y_test)} test texts")

# %%
# Student input and teacher features
# ----------------------------------
# The student sees a sparse TF-IDF matrix (fitted on all training texts: no labels involved). The
# teacher embeds the raw texts into 384-dimensional vectors; this is the expensive step, done once.
vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2).fit(texts)
X, X_test = vectorizer.transform(texts), vectorizer.transform(test_texts)
teacher = SentenceEmbedder()
F = teacher.fit_transform(texts)
print("student input:", X.shape, " teacher features:", F.shape)

# %%
# Fit the student with and without transfer
# -----------------------------------------
# ``transfer="none"`` trains the default student, a logistic regression on the TF-IDF, on the labeled
# rows only: the baseline. The default, ``transfer="stacked_kd"``, gives every unlabeled row a soft label
# from a head fitted on the teacher's features (blended with a probe of the student's own input, so a
# weak teacher is not followed) and trains the same student on all of them. ``transfer="aft_feature"``
# (Adaptive Feature Transfer) works on a student with hidden features, here the MLP: it pulls them
# towards what a linear map of the teacher's features can explain.
plain = AFTClassifier(transfer="none", random_state=0).fit(X, y_semi)
student = AFTClassifier(random_state=0).fit(X, y_semi, teacher_features=F)
aft = AFTClassifier(transfer="aft_feature", random_state=0).fit(X, y_semi, teacher_features=F)

for name, model in [("plain student", plain), ("default student", student), ("AFT (MLP) student", aft)]:
    pred = model.predict(X_test)
    acc, bal = np.mean(pred == y_test), balanced_accuracy_score(y_test, pred)
    print(f"{name:18s} accuracy {acc:.3f}  balanced accuracy {bal:.3f}")
print("teacher share of the soft labels:", student.transfer_.teacher_share_)

# %%
# The training history
# --------------------
# ``history_`` is skorch's history: one row per epoch. For the MLP with AFT it holds the task loss
# (labeled rows) and the transfer loss; the transfer term's weight ramps up over the first half of
# training (``transfer__warmup=0.5``), so the total loss is not monotone.
history = aft.history_
epochs = history[:, "epoch"]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(epochs, history[:, "task_loss"], label="task loss")
ax.plot(epochs, history[:, "transfer_loss"], label="transfer loss")
ax.set_xlabel("epoch")
ax.set_ylabel("loss")
ax.set_yscale("log")
ax.legend()
fig.tight_layout()

# %%
# Prediction needs no teacher
# ---------------------------
# The fitted estimator holds the student only: it pickles to a small file and predicts the same
# after reloading, without ever loading the sentence embedder.
blob = pickle.dumps(student)
restored = pickle.loads(blob)
print(f"pickled default student: {len(blob) / 1e6:.2f} MB")
print("same predictions after reloading:", np.array_equal(restored.predict(X_test), student.predict(X_test)))
