"""Grid search across processes with Dask: same results as in one process, teacher features shipped once."""

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV, KFold, RandomizedSearchCV

from sklearn_aft import AFTClassifier

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow

PICKLED = {"count": 0}


class CountedFeatures(np.ndarray):
    """Teacher features that count how often they are pickled, i.e. sent to a worker."""

    def __reduce__(self):
        PICKLED["count"] += 1
        return np.asarray(self).__reduce__()  # the workers receive a plain array


@pytest.fixture(scope="module")
def client():
    # Two worker processes on loopback only, one thread each, no dashboard.
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    F = rng.normal(size=(900, 384)).astype(np.float32)
    X = F[:, :12] + 0.3 * rng.normal(size=(900, 12)).astype(np.float32)
    y = (F[:, 0] + F[:, 1] > 0).astype(int)
    y[300:] = -1  # unlabeled rows stay in the training folds
    return X, y, F


def _search(X, y, F, randomized=False):
    estimator = AFTClassifier(max_epochs=3, random_state=0).set_fit_request(teacher_features=True)
    grid = {"transfer__beta": [0.3, 1.0, 3.0]}
    cv = KFold(3, shuffle=True, random_state=0)
    if randomized:
        search = RandomizedSearchCV(estimator, grid, n_iter=3, cv=cv, random_state=0)
    else:
        search = GridSearchCV(estimator, grid, cv=cv)
    return search.fit(X, y, teacher_features=F)


@pytest.mark.parametrize("randomized", [False, True], ids=["grid", "randomized"])
def test_dask_search_matches_one_process_and_ships_teacher_features_once(client, data, randomized):
    X, y, F = data
    with sklearn.config_context(enable_metadata_routing=True):
        local = _search(X, y, F, randomized)
        PICKLED["count"] = 0
        with joblib.parallel_config(backend="dask"):
            remote = _search(X, y, F.view(CountedFeatures), randomized)
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
    assert remote.best_params_ == local.best_params_
    # 9 fits ran on the workers (3 candidates x 3 folds); the routed features went over once, scattered by
    # joblib's dask backend, not once per fit.
    assert PICKLED["count"] <= 2, PICKLED["count"]
    workers = {w for w in client.scheduler_info()["workers"]}
    assert len(workers) == 2
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))  # the refit runs here, without the teacher


def test_ray_joblib_backend_matches_one_process(data):
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    X, y, F = data
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    try:
        register_ray()
        with sklearn.config_context(enable_metadata_routing=True):
            local = _search(X, y, F)
            with joblib.parallel_config(backend="ray"):
                remote = _search(X, y, F)
    finally:
        ray.shutdown()
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
