import functools
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture
def toy():
    """A small task where the teacher features hold the label and the student sees a noisy part of them."""
    rng = np.random.RandomState(0)
    F = rng.normal(size=(160, 12)).astype(np.float32)
    y = (F[:, 0] + F[:, 1] > 0).astype(int)
    X = F[:, :5] + 0.2 * rng.normal(size=(160, 5))
    return X.astype(np.float32), y, F


CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def load_cifar_mini() -> dict:
    """The bundled CIFAR-10 slice: {"train": (uint8 (300, 32, 32, 3), labels), "test": (200 images, labels)}."""
    from pathlib import Path

    from sklearn_aft.datasets import load_image_folder

    archive = Path(__file__).parent / "data" / "cifar10_mini.tar.gz"
    out = {s: load_image_folder(archive, subset=s) for s in ("train", "test")}
    assert out["train"].target_names == CIFAR_CLASSES  # label ids are CIFAR-10's
    return {s: (b.images, b.target) for s, b in out.items()}


@pytest.fixture(scope="session")
def cifar_mini():
    return load_cifar_mini()


@functools.cache
def _text_fixture(name: str) -> dict:
    with gzip.open(DATA / f"{name}_texts.json.gz", "rt", encoding="utf-8") as fh:
        texts = json.load(fh)
    with np.load(DATA / f"{name}_minilm.npz") as z:
        feats = {k: z[k].astype(np.float32) for k in z.files}
    return {s: (texts[s]["texts"], np.asarray(texts[s]["labels"]), feats[s]) for s in ("train", "test")}


@pytest.fixture(scope="session")
def text_fixture():
    """Loader of the real-data text fixtures of tests/data (``"trec"``, ``"sst5"``, built by make_fixture.py):
    ``text_fixture(name)["train" or "test"]`` is ``(texts, labels, float32 all-MiniLM-L6-v2 features)``."""
    return _text_fixture


def input_baseline(X_fit, y_fit, X_eval, y_eval) -> float:
    """What a user writes by hand on the student's own input, the bar the package's tests compare with:
    ``LogisticRegression`` (labels; -1 unlabeled) or ``RidgeCV`` (float targets; NaN unknown) fitted on the
    labeled rows of ``(X_fit, y_fit)``, scored (accuracy or R^2) on ``(X_eval, y_eval)``."""
    from sklearn.linear_model import LogisticRegression, RidgeCV

    y_fit = np.asarray(y_fit)
    regression = y_fit.dtype.kind == "f"
    labeled = ~np.isnan(y_fit).reshape(len(y_fit), -1).any(axis=1) if regression else y_fit != -1
    model = RidgeCV() if regression else LogisticRegression(max_iter=2000)
    return float(model.fit(X_fit[labeled], y_fit[labeled]).score(X_eval, y_eval))


@pytest.fixture(scope="session")
def baseline():
    """:func:`input_baseline`, as a fixture."""
    return input_baseline
