import numpy as np
import pytest

from sklearn_aft._data import MixedBatchSampler


def _epoch(sampler):
    return [np.asarray(b) for b in sampler]


def test_labeled_only_shuffles_and_drops_only_a_single_row_tail():
    labeled = np.ones(129, dtype=bool)
    s = MixedBatchSampler(labeled, batch_size=32, seed=0)
    batches = _epoch(s)
    assert [len(b) for b in batches] == [32, 32, 32, 32]  # the tail of one row is dropped
    assert len(s) == 4
    s2 = MixedBatchSampler(np.ones(130, dtype=bool), batch_size=32, seed=0)
    assert [len(b) for b in _epoch(s2)] == [32, 32, 32, 32, 2] and len(s2) == 5
    first, second = np.concatenate(_epoch(s2)), np.concatenate(_epoch(s2))
    assert sorted(first) == list(range(130)) and not np.array_equal(first, second)


@pytest.mark.parametrize("n_labeled, fraction, per_batch", [(40, 0.5, 16), (10, 0.5, 10), (100, 0.25, 8)])
def test_every_batch_mixes_labeled_and_unlabeled(n_labeled, fraction, per_batch):
    labeled = np.zeros(500, dtype=bool)
    labeled[:n_labeled] = True
    s = MixedBatchSampler(labeled, batch_size=32, labeled_fraction=fraction, seed=0)
    seen_unlabeled = []
    for _ in range(20):
        batches = _epoch(s)
        assert len(batches) == len(s) == int(np.ceil(n_labeled / per_batch))
        for b in batches:
            assert len(b) == 32
            n_lab = labeled[b].sum()
            assert 1 <= n_lab <= per_batch and (~labeled[b]).sum() >= 1
        assert sorted(np.concatenate(batches)[labeled[np.concatenate(batches)]]) == list(range(n_labeled))
        seen_unlabeled += [i for b in batches for i in b if not labeled[i]]
    counts = np.bincount(seen_unlabeled, minlength=500)[n_labeled:]
    assert counts.max() - counts.min() <= 1  # the pool is drawn without replacement, then reshuffled


def test_same_seed_same_batches():
    labeled = np.arange(300) % 3 == 0
    a = [_epoch(MixedBatchSampler(labeled, 32, seed=5)) for _ in range(2)]
    assert all(np.array_equal(x, y) for x, y in zip(a[0], a[1]))
