import numpy as np
import pytest


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
    import io
    import tarfile
    from pathlib import Path

    from PIL import Image

    out = {"train": ([], []), "test": ([], [])}
    with tarfile.open(Path(__file__).parent / "data" / "cifar10_mini.tar.gz") as tf:
        for member in sorted(tf.getmembers(), key=lambda m: m.name):
            split, label, _ = member.name.split("/")
            image = Image.open(io.BytesIO(tf.extractfile(member).read())).convert("RGB")
            out[split][0].append(np.asarray(image))
            out[split][1].append(CIFAR_CLASSES.index(label))
    return {k: (np.stack(images), np.asarray(labels)) for k, (images, labels) in out.items()}


@pytest.fixture(scope="session")
def cifar_mini():
    return load_cifar_mini()
