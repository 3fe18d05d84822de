"""Streaming teacher features into a .npy memory map: same features, resumable, no recomputation."""

import json
import tracemalloc

import numpy as np
import pytest
from sklearn.decomposition import PCA

from sklearn_aft import AFTClassifier
from sklearn_aft.teachers import FunctionEmbedder, embed_to_file, make_teacher_union

CALLS = {"rows": 0, "fail_after": None}


def counted_tanh(X):
    """A teacher function that counts the rows it embeds and can fail part-way (an interrupted run)."""
    if CALLS["fail_after"] is not None and CALLS["rows"] + len(X) > CALLS["fail_after"]:
        raise KeyboardInterrupt("simulated interruption")
    CALLS["rows"] += len(X)
    return np.tanh(np.asarray(X)[:, :3] * 2.0)  # a chunk of an iterator arrives as a list of rows


@pytest.fixture(autouse=True)
def reset_counter():
    CALLS.update(rows=0, fail_after=None)


@pytest.fixture
def X():
    return np.random.RandomState(0).normal(size=(1000, 5)).astype(np.float32)


def test_streamed_features_equal_the_teachers_and_are_a_read_only_map(X, tmp_path):
    teacher = FunctionEmbedder(counted_tanh)
    F = embed_to_file(teacher, X, tmp_path / "f.npy", chunk_size=128)
    assert isinstance(F, np.memmap) and not F.flags.writeable
    np.testing.assert_array_equal(F, np.tanh(X[:, :3] * 2.0))
    assert CALLS["rows"] == 1000
    assert json.loads((tmp_path / "f.npy.progress.json").read_text())["done"] == 1000
    np.testing.assert_array_equal(np.load(tmp_path / "f.npy"), F)  # an ordinary .npy file


def test_an_interrupted_run_resumes_without_recomputing_finished_chunks(X, tmp_path):
    teacher, path = FunctionEmbedder(counted_tanh), tmp_path / "f.npy"
    CALLS["fail_after"] = 450
    with pytest.raises(KeyboardInterrupt):
        embed_to_file(teacher, X, path, chunk_size=100)
    assert json.loads((tmp_path / "f.npy.progress.json").read_text())["done"] == 400  # 4 whole chunks
    CALLS.update(rows=0, fail_after=None)
    F = embed_to_file(teacher, X, path, chunk_size=100)
    assert CALLS["rows"] == 600  # only the rows after the last finished chunk
    np.testing.assert_array_equal(F, np.tanh(X[:, :3] * 2.0))
    CALLS["rows"] = 0
    again = embed_to_file(teacher, X, path, chunk_size=100)
    assert CALLS["rows"] == 0  # a finished file comes back without embedding anything
    np.testing.assert_array_equal(again, F)


def test_an_iterator_of_inputs_streams_and_resumes(X, tmp_path):
    teacher, path = FunctionEmbedder(counted_tanh), tmp_path / "f.npy"

    def rows():  # one input at a time, as from a file too large to load
        yield from X

    CALLS["fail_after"] = 250
    with pytest.raises(KeyboardInterrupt):
        embed_to_file(teacher, rows(), path, n_samples=len(X), chunk_size=100)
    CALLS.update(rows=0, fail_after=None)
    F = embed_to_file(teacher, rows(), path, n_samples=len(X), chunk_size=100)
    assert CALLS["rows"] == 800
    np.testing.assert_array_equal(F, np.tanh(X[:, :3] * 2.0))
    with pytest.raises(TypeError, match="n_samples"):
        embed_to_file(teacher, rows(), tmp_path / "g.npy")
    with pytest.raises(ValueError, match="ran out"):
        embed_to_file(teacher, iter(X[:50]), tmp_path / "h.npy", n_samples=100, chunk_size=30)


def test_another_teacher_or_row_count_is_refused_unless_overwriting(X, tmp_path):
    path = tmp_path / "f.npy"
    embed_to_file(FunctionEmbedder(counted_tanh), X, path)
    with pytest.raises(ValueError, match="another teacher configuration"):
        embed_to_file(FunctionEmbedder(np.cos), X, path)
    with pytest.raises(ValueError, match="another teacher configuration"):
        embed_to_file(FunctionEmbedder(counted_tanh), X[:10], path)
    F = embed_to_file(FunctionEmbedder(np.cos), X, path, overwrite=True)
    np.testing.assert_allclose(F, np.cos(X), rtol=1e-6)


def test_bad_arguments(X, tmp_path):
    with pytest.raises(TypeError, match="requires_fit"):
        embed_to_file(PCA(2), X, tmp_path / "f.npy")
    with pytest.raises(ValueError, match=".npy"):
        embed_to_file(FunctionEmbedder(np.cos), X, tmp_path / "f.bin")
    with pytest.raises(ValueError, match="chunk_size"):
        embed_to_file(FunctionEmbedder(np.cos), X, tmp_path / "f.npy", chunk_size=0)
    with pytest.raises(ValueError, match="no inputs"):
        embed_to_file(FunctionEmbedder(np.cos), X[:0], tmp_path / "f.npy")


def test_a_union_keeps_its_blocks_and_the_estimator_fits_on_the_map(X, tmp_path):
    union = make_teacher_union(FunctionEmbedder(counted_tanh), FunctionEmbedder(np.cos))
    F = embed_to_file(union, X, tmp_path / "f.npy", chunk_size=300)
    assert F.blocks == (3, 5) and F.shape == (1000, 8)
    y = (X[:, 0] > 0).astype(int)
    y[200:] = -1
    clf = AFTClassifier(max_epochs=2, random_state=0).fit(X, y, teacher_features=F)
    assert clf.teacher_blocks_ == (3, 5)


def test_fit_reads_memory_mapped_teacher_features_without_copying_them(tmp_path):
    """The 1M-row path: teacher features stay on disk; only batches are read into memory."""
    n, d = 50_000, 256
    F = np.lib.format.open_memmap(tmp_path / "F.npy", mode="w+", dtype=np.float32, shape=(n, d))
    rng = np.random.default_rng(0)
    for start in range(0, n, 10_000):
        F[start : start + 10_000] = rng.standard_normal((10_000, d), dtype=np.float32)
    F.flush()
    del F
    F = np.load(tmp_path / "F.npy", mmap_mode="r")
    X = np.ascontiguousarray(F[:, :16] + 0.1)  # the student's input (in memory)
    y = (X[:, 0] > 0).astype(int)
    y[5_000:] = -1  # most rows unlabeled, as at scale
    # the feature-space term reads the features batch by batch (distillation heads copy the labeled rows)
    params = dict(module="mlp", transfer="aft_feature", max_epochs=1, batch_size=256, random_state=0)
    AFTClassifier(**params).fit(X[:500], y[:500], teacher_features=F[:500])  # imports and first-call caches
    tracemalloc.start()
    try:
        clf = AFTClassifier(**params).fit(X, y, teacher_features=F)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < F.nbytes / 4, f"fit allocated {peak / 1e6:.1f} MB for {F.nbytes / 1e6:.1f} MB of teacher features"
    assert clf.predict(X[:10]).shape == (10,)
