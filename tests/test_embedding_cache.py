"""The per-sample embedding cache (memory=): right keys, no stale features, safe to share and to clear."""

import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.preprocessing import FunctionTransformer

from sklearn_aft.teachers import FunctionEmbedder, TimmEmbedder, embed
from sklearn_aft.teachers import cache as cache_module
from sklearn_aft.teachers.cache import clear_embedding_cache, sample_keys

ROWS: list[int] = []


def row_sum(X):
    """A module-level teacher that counts the rows it embeds."""
    ROWS.append(len(X))
    return np.asarray([[float(np.sum(np.asarray(x, dtype=float)))] for x in X])


def scaled(X, factor):
    return X * factor


def _forget_memory_stores():
    cache_module._STORES.clear()  # what a new process starts with


def test_dataframe_rows_with_large_arrays_get_distinct_keys(tmp_path):
    pd = pytest.importorskip("pandas")
    a, b = np.zeros(2000), np.zeros(2000)
    b[1000] = 1.0  # the same repr as a: numpy abbreviates long arrays
    assert repr(a) == repr(b)
    frame = pd.DataFrame({"x": [a, b]})
    F = embed(FunctionEmbedder(lambda df: row_sum(df["x"])), frame, memory=tmp_path)
    np.testing.assert_array_equal(F[:, 0], [0.0, 1.0])
    numeric = pd.DataFrame({"u": [1.0, 1.0], "v": [2, 3]})
    keys = sample_keys(numeric)
    assert keys[0] != keys[1] and keys != sample_keys(numeric.rename(columns={"v": "w"}))


def test_editing_a_teacher_function_changes_its_key(tmp_path):
    namespace: dict = {}
    exec("def teacher(X):\n    return X * 2", namespace)
    twice = embed(FunctionEmbedder(namespace["teacher"]), np.ones((2, 1)), memory=tmp_path)
    exec("def teacher(X):\n    return X * 3", namespace)  # same module and name, new body
    thrice = embed(FunctionEmbedder(namespace["teacher"]), np.ones((2, 1)), memory=tmp_path)
    np.testing.assert_array_equal(twice, 2.0)
    np.testing.assert_array_equal(thrice, 3.0)
    # a lambda is keyed by its code too, and cached
    ROWS.clear()
    for _ in range(2):
        embed(FunctionEmbedder(lambda X: row_sum(X)), np.arange(6.0).reshape(3, 2), memory=tmp_path)
    assert sum(ROWS) == 3


class HoldsALambda:
    def __init__(self):
        self.inner = lambda X: row_sum(X)  # copied by clone, but cannot be pickled: no key across processes

    def __call__(self, X):
        return self.inner(X)


def test_an_unhashable_teacher_is_computed_without_the_cache(tmp_path):
    with pytest.warns(UserWarning, match="not cached"):
        F = embed(FunctionEmbedder(HoldsALambda()), np.ones((3, 2)), memory=tmp_path)
    np.testing.assert_array_equal(F[:, 0], 2.0)
    assert not list(tmp_path.rglob("*.npz"))


def test_shards_are_read_back_from_disk_and_clearing_works(tmp_path):
    X = np.arange(12.0).reshape(6, 2)
    ROWS.clear()
    first = embed(FunctionEmbedder(row_sum), X, memory=tmp_path)
    _forget_memory_stores()  # a new process: only the files remain
    np.testing.assert_array_equal(embed(FunctionEmbedder(row_sum), X, memory=str(tmp_path)), first)
    assert sum(ROWS) == 6
    memory = joblib.Memory(tmp_path, verbose=0)
    memory.clear(warn=False)  # joblib's own clear removes the embeddings too
    embed(FunctionEmbedder(row_sum), X, memory=memory)
    assert sum(ROWS) == 12
    clear_embedding_cache(tmp_path)
    assert not list(tmp_path.rglob("*.npz"))
    embed(FunctionEmbedder(row_sum), X, memory=tmp_path)
    assert sum(ROWS) == 18


def test_a_damaged_shard_is_recomputed(tmp_path):
    X = np.arange(8.0).reshape(4, 2)
    expected = embed(FunctionEmbedder(row_sum), X, memory=tmp_path)
    (shard,) = tmp_path.rglob("*.npz")
    shard.write_bytes(b"damaged")
    _forget_memory_stores()
    with pytest.warns(UserWarning, match="unreadable embedding cache file"):
        np.testing.assert_array_equal(embed(FunctionEmbedder(row_sum), X, memory=tmp_path), expected)


def test_configurations_and_inputs_are_keyed_apart(tmp_path):
    X = np.ones((3, 2))
    one = embed(FunctionEmbedder(scaled, kw_args={"factor": 1.0}), X, memory=tmp_path)
    two = embed(FunctionEmbedder(scaled, kw_args={"factor": 2.0}), X, memory=tmp_path)
    assert one.sum() * 2 == two.sum()
    # the same values in another dtype or shape are other samples
    assert sample_keys(np.ones((1, 4), np.float32)) != sample_keys(np.ones((1, 4), np.float64))
    assert sample_keys(np.ones((1, 2, 2))) != sample_keys(np.ones((1, 4)))


def test_sparse_keys_are_canonical():
    dense = np.array([[0, 2.0, 0], [1.0, 0, 0]])
    coo = sp.coo_matrix(([1.0, 1.0, 1.0], ([0, 0, 1], [1, 1, 0])), shape=(2, 3))  # a duplicate entry
    csr64 = sp.csr_matrix(dense)
    csr64.indices = csr64.indices.astype(np.int64)
    assert sample_keys(coo) == sample_keys(sp.csr_matrix(dense)) == sample_keys(csr64)
    assert sample_keys(sp.csr_matrix(dense))[0] != sample_keys(sp.csr_matrix(dense[::-1]))[0]


def test_long_texts_with_a_teacher_that_takes_file_paths(tmp_path):
    teacher = FunctionTransformer(lambda texts: np.asarray([[len(t)] for t in texts], dtype=float))
    texts = ["word " * 80, "short", "nul\x00byte"]  # not valid file names
    np.testing.assert_array_equal(embed(teacher, texts, memory=tmp_path)[:, 0], [400, 5, 8])


def test_an_edited_image_file_is_embedded_again(tmp_path):
    pytest.importorskip("timm")
    from PIL import Image

    teacher = TimmEmbedder("test_vit", weights="random", image_size=32)
    path = tmp_path / "image.png"
    rng = np.random.RandomState(0)
    first, second = (rng.randint(0, 256, (32, 32, 3)).astype(np.uint8) for _ in range(2))
    Image.fromarray(first).save(path)
    before = embed(teacher, [str(path)], memory=tmp_path / "cache")
    Image.fromarray(second).resize((40, 40)).save(path)  # another size, another modification time
    after = embed(teacher, [str(path)], memory=tmp_path / "cache")
    np.testing.assert_allclose(after, teacher.transform([str(path)]), rtol=1e-5)
    assert not np.allclose(before, after)
    # an untrained network is built under a fixed seed: the same features in every process and load
    from sklearn_aft.teachers import clear_model_cache

    clear_model_cache()
    np.testing.assert_allclose(teacher.transform([str(path)]), after, rtol=1e-5)


@pytest.mark.slow
def test_parallel_grid_search_shares_the_cache(tmp_path):
    """Two loky workers write shards side by side; the search scores as the sequential one."""
    from sklearn.model_selection import GridSearchCV

    from sklearn_aft import AFTClassifier

    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 5)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    clf = AFTClassifier(teacher=FunctionEmbedder(np.tanh), memory=tmp_path, max_epochs=3, random_state=0)
    grid = {"transfer__beta": [0.5, 2.0]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parallel = GridSearchCV(clf, grid, cv=3, n_jobs=2).fit(X, y)
    sequential = GridSearchCV(clf, grid, cv=3, n_jobs=1).fit(X, y)
    np.testing.assert_allclose(parallel.cv_results_["mean_test_score"], sequential.cv_results_["mean_test_score"])
    _forget_memory_stores()
    keys = set()
    for shard in tmp_path.rglob("*.npz"):
        with np.load(shard) as data:
            keys.update(data["keys"].tolist())
    assert keys == set(sample_keys(X))


def test_the_documented_cache_path_is_where_the_shards_go(tmp_path):
    from pathlib import Path

    from sklearn_aft.teachers.cache import cache_location

    docs = (Path(__file__).resolve().parents[1] / "docs" / "teachers.md").read_text()
    assert "`<memory>/joblib/sklearn_aft_embeddings/`" in docs
    assert cache_location(tmp_path) == tmp_path / "joblib" / "sklearn_aft_embeddings"
