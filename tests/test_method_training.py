"""Every built-in transfer method trained through the estimators: it fits, predicts, pickles and clones; teacher
heads, stages, adapters and transfer sets do what they say. The terms' own arithmetic: test_loss_terms.py."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split

from sklearn_aft import AFTClassifier, AFTRegressor, available_transfers
from sklearn_aft.transfer import LogitKD
from sklearn_aft.transfer._heads import teacher_head_predictions

METHODS = ["none", "aft", "aft_feature", "fitnet", "rkd", "kd", "hybrid", "task_oriented", "talking", "combined"]


def test_every_method_is_registered():
    assert set(METHODS) <= set(available_transfers())


def _semi(y, n_labeled=60, seed=0):
    y = y.copy()
    y[np.random.RandomState(seed).permutation(len(y))[n_labeled:]] = -1
    return y


@pytest.mark.parametrize("method", METHODS)
def test_method_trains_predicts_pickles_and_clones(toy, method, baseline):
    X, y, F = toy
    params = {"transfer__terms": {"kd": 1.0, "aft": 0.5}} if method == "combined" else {}
    clf = AFTClassifier(transfer=method, max_epochs=15, random_state=0, **params)
    clf.fit(X, _semi(y), teacher_features=F)
    proba = clf.predict_proba(X)
    # within 6 points of a logistic regression on the same 60 labels (measured: 0.91-0.96 against 0.956)
    assert proba.shape == (len(y), 2) and clf.score(X, y) >= baseline(X, _semi(y), X, y) - 0.06
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), proba)
    assert clone(clf).get_params()["transfer"] == method
    if method != "none":
        assert np.isfinite(clf.history_[:, "transfer_loss"]).all()


@pytest.mark.parametrize("method", ["fitnet", "rkd", "kd", "hybrid", "task_oriented", "talking"])
def test_regressor_methods(toy, method, baseline):
    X, _, F = toy
    target = F[:, 0] + F[:, 1]
    semi = target.copy()
    semi[80:] = np.nan
    reg = AFTRegressor(transfer=method, max_epochs=30, random_state=0).fit(X, semi, teacher_features=F)
    assert reg.score(X, target) >= baseline(X, semi, X, target) - 0.02  # measured: 0.958-0.965, RidgeCV 0.963


def test_kd_uses_unlabeled_rows_through_the_teacher_head():
    """16 labels; the teacher's features hold the label cleanly, the student sees it noisily among 10 noise
    columns: KD's soft targets on the 384 unlabeled rows beat the labels alone (measured: 0.805 vs 0.73 and
    0.79 vs 0.675 on two label draws)."""
    rng = np.random.RandomState(0)
    F = rng.normal(size=(600, 4)).astype(np.float32)
    y = (F[:, 0] > 0).astype(int)
    X = np.hstack([F[:, :1] + 0.5 * rng.normal(size=(600, 1)), rng.normal(size=(600, 10))]).astype(np.float32)
    X_test, y_test, X, y, F = X[400:], y[400:], X[:400], y[:400], F[:400]
    semi = _semi(y, n_labeled=16)
    plain = AFTClassifier(transfer="none", max_epochs=60, random_state=0).fit(X, semi)
    kd = AFTClassifier(transfer="kd", max_epochs=60, random_state=0).fit(X, semi, teacher_features=F)
    assert kd.score(X_test, y_test) > plain.score(X_test, y_test) + 0.04


def test_teacher_head_is_cross_fitted_on_labeled_rows():
    rng = np.random.RandomState(0)
    F = rng.normal(size=(120, 150))  # more dimensions than rows: a head can memorise its training rows
    y = rng.randint(0, 3, size=120)  # labels the features cannot predict: an in-sample head overfits them
    y[100:] = -1
    head = LogisticRegression(C=100.0, max_iter=2000)
    crossed = np.exp(teacher_head_predictions(head, F, y, cv=5, random_state=0, task="classification")[0])
    in_sample = np.exp(teacher_head_predictions(head, F, y, cv=0, random_state=0, task="classification")[0])
    labeled = y >= 0
    np.testing.assert_allclose(crossed.sum(1), 1, atol=1e-4)
    hit = lambda p: p[labeled][np.arange(labeled.sum()), y[labeled]].mean()  # noqa: E731
    assert hit(in_sample) > 0.9 > 0.5 > hit(crossed)  # out-of-fold targets are not overconfident
    np.testing.assert_allclose(crossed[~labeled], in_sample[~labeled])  # unlabeled rows: the full head


def test_kd_head_parameter_and_errors(toy):
    X, y, F = toy
    clf = AFTClassifier(transfer="kd", transfer__head=LogisticRegression(C=0.1), max_epochs=2, random_state=0)
    assert clf.fit(X, y, teacher_features=F).transfer_.head_.C == 0.1
    with pytest.raises(TypeError, match="classifier with predict_proba"):
        AFTClassifier(transfer="kd", transfer__head=Ridge(), max_epochs=1).fit(X, y, teacher_features=F)
    with pytest.raises(ValueError, match="temperature"):
        AFTClassifier(transfer="kd", transfer__temperature=0, max_epochs=1).fit(X, y, teacher_features=F)
    with pytest.raises(ValueError, match="cv"):
        AFTClassifier(transfer="kd", transfer__cv=1, max_epochs=1).fit(X, y, teacher_features=F)


def test_combined_terms_params_and_errors(toy):
    X, y, F = toy
    clf = AFTClassifier(
        transfer="combined",
        transfer__terms={"kd": 1.0, "aft": 2.0},
        transfer__kd__temperature=4.0,
        transfer__aft__learn_weights=False,
        max_epochs=3,
        random_state=0,
    ).fit(X, y, teacher_features=F)
    terms = clf.transfer_.terms
    assert terms["kd"].temperature == 4.0 and not terms["aft"].learn_weights
    assert clf.transfer_.weights == {"kd": 1.0, "aft": 2.0}
    with pytest.raises(ValueError, match="must map one or more registered method names"):
        AFTClassifier(transfer="combined", max_epochs=1).fit(X, y, teacher_features=F)
    with pytest.raises(TypeError, match="<term>__<parameter>"):
        AFTClassifier(transfer="combined", transfer__terms={"kd": 1.0}, transfer__fitnet__lr=0.1, max_epochs=1).fit(
            X, y, teacher_features=F
        )


def test_task_oriented_stages(toy):
    X, y, F = toy
    clf = AFTClassifier(transfer="task_oriented", transfer__distill_fraction=0.5, max_epochs=10, random_state=0)
    clf.fit(X, _semi(y), teacher_features=F)
    weights = [clf.transfer_.task_weight_at(e, 10) for e in range(1, 11)]
    assert weights == [0.0] * 5 + [1.0] * 5
    lrs = [clf.transfer_.student_lr_scale_at(e, 10) for e in (5, 6)]
    assert lrs == [1.0, 0.3]  # applied by the net: see test_staged_learning_rate_leaves_lr_schedulers_alone
    losses = clf.history_[:, "task_loss"]
    assert losses[-1] < losses[4]  # fine-tuning on the labels lowers the task loss
    with pytest.raises(ValueError, match="distill_fraction"):
        AFTClassifier(transfer="task_oriented", transfer__distill_fraction=1.0, max_epochs=1).fit(
            X, y, teacher_features=F
        )


def test_talking_adapters_train_and_are_discarded(toy):
    X, y, F = toy
    clf = AFTClassifier(transfer="talking", transfer__message_dim=8, max_epochs=5, random_state=0)
    clf.fit(X, _semi(y), teacher_features=F)
    assert clf.transfer_.adapters is None  # not in the fitted model
    losses = clf.history_[:, "transfer_loss"]
    assert losses[-1] < losses[0]  # the exchange was learned
    with pytest.raises(ValueError, match="adapter"):
        AFTClassifier(transfer="talking", transfer__adapter="rnn", max_epochs=1).fit(X, y, teacher_features=F)


def test_retrieved_transfer_set_is_in_domain_deduplicated_and_leak_free():
    from sklearn_aft.retrieval import retrieve_transfer_set

    rng = np.random.RandomState(0)
    centre = np.zeros(16)
    centre[0] = 1.0
    in_domain = centre + 0.1 * rng.normal(size=(50, 16))
    off_domain = -centre + 0.1 * rng.normal(size=(200, 16))
    pool = np.vstack([in_domain, off_domain])
    queries = centre + 0.1 * rng.normal(size=(10, 16))
    idx = retrieve_transfer_set(queries, pool, budget=40)
    assert (idx < 50).all() and len(idx) == len(set(idx)) and 4 <= len(idx) <= 40  # 4 per query, overlapping
    test_rows = pool[:5] + 1e-4  # near-copies of pool rows 0-4 are in the test set
    kept = retrieve_transfer_set(queries, pool, n_neighbors=50, exclude=test_rows, exclude_similarity=0.999)
    assert not set(range(5)) & set(kept) and set(range(5, 50)) <= set(kept)
    with pytest.raises(ValueError, match="either budget"):
        retrieve_transfer_set(queries, pool)
    assert 1 <= len(retrieve_transfer_set(queries, pool, budget=5)) <= 10  # a budget under one per query: one
    with pytest.raises(ValueError, match="The 'n_neighbors' parameter of retrieve_transfer_set must be"):
        retrieve_transfer_set(queries, pool, n_neighbors=0)


def test_staged_learning_rate_leaves_lr_schedulers_alone(toy):
    from skorch.callbacks import Callback, LRScheduler
    from torch.optim.lr_scheduler import StepLR

    X, y, F = toy
    seen = []

    class Record(Callback):
        def on_epoch_begin(self, net, **kwargs):  # after the net has applied the stage's scale
            seen.append(net.optimizer_.param_groups[0]["lr"])

    scheduler = ("lr", LRScheduler(StepLR, step_size=1, gamma=0.5))
    for method, expected in [
        ("aft_feature", [1e-3 * 0.5**k for k in range(4)]),
        ("task_oriented", [1e-3, 5e-4, 0.3 * 2.5e-4, 0.3 * 1.25e-4]),
    ]:
        seen.clear()
        AFTClassifier(
            transfer=method,
            max_epochs=4,
            callbacks=[scheduler, ("record", Record())],
            random_state=0,
        ).fit(X, y, teacher_features=F)
        np.testing.assert_allclose(seen, expected, rtol=1e-6)


def test_release_leaves_no_training_state_in_the_fitted_model(toy):
    X, y, F = toy
    talking = AFTClassifier(transfer="talking", max_epochs=2, random_state=0).fit(X, y, teacher_features=F)
    plain = AFTClassifier(transfer="none", module="mlp", max_epochs=2, random_state=0).fit(X, y)
    student = set(talking.net_.module_.parameters())
    in_optimizer = {p for g in talking.net_.optimizer_.param_groups for p in g["params"]}
    assert in_optimizer == student and not talking.net_.optimizer_.state  # no adapters, no moments
    assert len(pickle.dumps(talking)) < 1.5 * len(pickle.dumps(plain))


def test_combined_lr_and_staged_terms(toy):
    X, y, F = toy
    hybrid = AFTClassifier(transfer="hybrid", transfer__lr=0.02, max_epochs=1, random_state=0)
    groups = hybrid.fit(X, y, teacher_features=F).transfer_.param_groups(1e-3)
    assert [g["lr"] for g in groups] == [0.02]  # the FitNet regressor at the method's lr, not the student's
    with pytest.raises(ValueError, match="cannot be combined"):
        AFTClassifier(transfer="combined", transfer__terms={"task_oriented": 1.0}, max_epochs=1).fit(
            X, y, teacher_features=F
        )


def test_kd_regressor_with_partly_unknown_targets(toy):
    X, _, F = toy
    targets = np.column_stack([F[:, 0], F[:, 1]]).astype(np.float64)
    targets[::3, 1] = np.nan  # the second target unknown on a third of the rows
    targets[100:] = np.nan
    reg = AFTRegressor(transfer="kd", max_epochs=10, random_state=0).fit(X, targets, teacher_features=F)
    complete = ~np.isnan(targets).any(axis=1)
    assert reg.transfer_.head_.n_features_in_ == F.shape[1] and reg.predict(X).shape == (len(X), 2)
    assert complete.sum() < 100  # the head learnt from the complete rows only


def test_task_oriented_keeps_a_finetuning_epoch():
    from sklearn_aft.transfer import TaskOriented

    term = TaskOriented(4, [4], distill_fraction=0.9)
    assert [term.task_weight_at(e, 5) for e in range(1, 6)] == [0.0] * 4 + [1.0]
    assert term.task_weight_at(1, 1) == 0.0  # one epoch: distillation only


def test_teacher_names_that_need_arguments(toy):
    X, y, _ = toy
    with pytest.raises(TypeError, match="teacher='torch' cannot be built without arguments"):
        AFTClassifier(teacher="torch", max_epochs=1).fit(X, y)


def test_default_teacher_head_sees_a_minority_class_in_normalised_embeddings(text_fixture):
    """Regression: the default head was LogisticRegression(C=1), which on L2-normalised sentence embeddings
    with 100 labels never predicted a 16% class, so kd/task_oriented students learned the majority class.

    Real MiniLM features of TREC questions, "location?" against the rest, 100 labeled rows.
    """
    (_, labels, F), (_, labels_test, F_test) = text_fixture("trec")["train"], text_fixture("trec")["test"]
    y = (labels == "LOC").astype(int)
    y_test = (labels_test == "LOC").astype(int)
    labeled, _ = train_test_split(np.arange(len(y)), train_size=100, stratify=y, random_state=0)
    y_semi = np.full_like(y, -1)
    y_semi[labeled] = y[labeled]

    kd = LogitKD(student_dim=8, teacher_dims=[F.shape[1]])
    targets = kd.fit_targets(F, y_semi, random_state=0, task="classification")
    assert (targets.argmax(1)[y_semi == -1] == 1).mean() > 0.05  # the unlabeled rows are taught "LOC" too
    assert balanced_accuracy_score(y_test, kd.head_.predict(F_test)) > 0.65  # C=1 gave 0.5 (never LOC)
    old = LogisticRegression(C=1.0, max_iter=1000).fit(F[labeled], y[labeled])
    assert balanced_accuracy_score(y_test, old.predict(F_test)) < 0.55  # the failure this guards against
