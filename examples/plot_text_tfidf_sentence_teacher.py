"""
Text: a TF-IDF student taught by a sentence embedder, in one pipeline
=====================================================================

The usual way to deploy a sentence embedder is *teacher + linear probe*: every prediction runs the
transformer. Here the teacher runs during ``fit`` only. A :class:`~sklearn.pipeline.Pipeline` of
:class:`~sklearn.feature_extraction.text.TfidfVectorizer` and :class:`~sklearn_aft.AFTClassifier` is
fitted on raw texts; the student's step receives the same raw texts as ``teacher_input`` (through
scikit-learn's metadata routing) and hands them to its ``teacher``. Prediction is TF-IDF and an MLP.

We compare three models on the bundled SMS spam messages, with 150 labeled and 850 unlabeled
training texts:

- the teacher pipeline: all-MiniLM-L6-v2 embeddings + logistic regression on the labeled texts;
- the plain student: TF-IDF + MLP on the labeled texts;
- the AFT student: the same pipeline, trained with the teacher's view of all 1,000 texts.
"""

# %%
# Data
# ----
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sklearn_aft import AFTClassifier
from sklearn_aft.datasets import load_sms_spam
from sklearn_aft.teachers import SentenceEmbedder

sms = load_sms_spam(subset="train")
test = load_sms_spam(subset="test")
texts, _, y, _ = train_test_split(sms.data, sms.target, train_size=1000, stratify=sms.target, random_state=0)
test_texts, _, y_test, _ = train_test_split(
    test.data, test.target, train_size=600, stratify=test.target, random_state=0
)
labeled, _ = train_test_split(np.arange(len(y)), train_size=150, stratify=y, random_state=0)
y_semi = np.full_like(y, -1)  # -1: unlabeled
y_semi[labeled] = y[labeled]
print(f"classes {sms.target_names}; {len(labeled)} labeled and {len(y) - len(labeled)} unlabeled texts")

# %%
# The teacher pipeline
# --------------------
# ``memory`` names a folder where the teacher's embeddings are cached per text, so refits, other
# examples and grid searches never embed a text twice. The probe is fitted on the labeled texts only.
memory = Path.home() / ".cache" / "sklearn-aft"
teacher = SentenceEmbedder(batch_size=64)
probe = make_pipeline(SentenceEmbedder(batch_size=64), LogisticRegression(C=10.0, max_iter=2000))
probe.fit([texts[i] for i in labeled], y[labeled])

# %%
# The students
# ------------
# With metadata routing on, ``set_fit_request(teacher_input=True)`` asks the pipeline to pass
# ``teacher_input`` to the student's ``fit``; the vectorizer never sees it. The plain student is the
# same pipeline with ``transfer="none"``: it ignores the unlabeled rows.
sklearn.set_config(enable_metadata_routing=True)


def student_pipeline(transfer):
    student = AFTClassifier(transfer=transfer, module="mlp", teacher=teacher, memory=memory, random_state=0)
    student.set_fit_request(teacher_input=True)
    return make_pipeline(TfidfVectorizer(sublinear_tf=True, min_df=2, ngram_range=(1, 2)), student)


plain = student_pipeline("none").fit(texts, y_semi, teacher_input=texts)
aft = student_pipeline("aft_feature").fit(texts, y_semi, teacher_input=texts)
sklearn.set_config(enable_metadata_routing=False)

# %%
# Accuracy and prediction speed
# -----------------------------
# Throughput is measured on the test texts, after one warm-up call. The students' numbers do not
# include the teacher because ``predict`` never calls it.


def texts_per_second(model, inputs):
    model.predict(inputs[:8])
    start = time.perf_counter()
    model.predict(inputs)
    return len(inputs) / (time.perf_counter() - start)


rows = []
for name, model in [("teacher + probe", probe), ("plain student", plain), ("AFT student", aft)]:
    pred = model.predict(test_texts)
    rows.append((name, balanced_accuracy_score(y_test, pred), texts_per_second(model, test_texts)))
    print(f"{name:16s} balanced accuracy {rows[-1][1]:.3f}   {rows[-1][2]:9,.0f} texts/s")
print(f"the AFT student predicts {rows[2][2] / rows[0][2]:.0f}x faster than the teacher pipeline")

# %%
fig, (acc_ax, speed_ax) = plt.subplots(1, 2, figsize=(9, 2.6), sharey=True)
names = [r[0] for r in rows]
acc_ax.barh(names, [r[1] for r in rows], color=["grey", "tab:blue", "tab:orange"])
acc_ax.set_xlim(0.5, 1.0)
acc_ax.set_xlabel("balanced accuracy")
speed_ax.barh(names, [r[2] for r in rows], color=["grey", "tab:blue", "tab:orange"])
speed_ax.set_xscale("log")
speed_ax.set_xlim(left=10)
speed_ax.set_xlabel("texts per second (log scale)")
acc_ax.invert_yaxis()
fig.tight_layout()

# %%
# What the fitted pipeline holds
# ------------------------------
# The student step keeps its teacher as a *parameter* (so ``clone`` and ``get_params`` see it,
# ``teacher__batch_size`` can be searched), but nothing fitted of it: the network it trained is the
# whole model.
student = aft[-1]
print(student.get_params()["teacher__batch_size"], type(student.net_.module_).__name__, student.teacher_blocks_)
