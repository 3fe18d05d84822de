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
