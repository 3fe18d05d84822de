"""Teacher heads and input probes: cross-fitted linear models whose out-of-fold predictions become targets.

A frozen embedder has no task outputs, so the distillation methods fit a head (a logistic or ridge
regression) on the labeled rows' teacher features; the estimators fit the same models on the student's own
input to choose its L2 strength and to weigh the teacher against it (:mod:`sklearn_aft._probe`). Out of fold
on the labeled rows, so that those rows are no more confident than unseen ones.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import KFold, StratifiedKFold
from threadpoolctl import threadpool_limits

from sklearn_aft._labels import complete_rows

_LOG_EPS = 1e-7
_CHUNK = 8192  # rows per prediction call of a head
#: Heads fitted on at most this many labeled rows run with one BLAS thread. Their products are too small
#: to share: on 2 cores, the teacher head's 5-fold choice of C on 1,000 TREC questions took 7.9 s with
#: OpenBLAS's two threads and 0.6 s with one (TF-IDF input: 8.9 s and 0.8 s).
ONE_THREAD_ROWS = 50_000


def _head_threads(n_rows: int):
    return threadpool_limits(1, user_api="blas") if n_rows <= ONE_THREAD_ROWS else contextlib.nullcontext()


def _check_head_rows(y: np.ndarray, classify: bool) -> tuple[np.ndarray, int]:
    labeled = complete_rows(y)
    if not labeled.any():
        raise ValueError("the teacher head needs rows whose targets are all known; there are none")
    n_out = int(y[labeled].max()) + 1 if classify else (1 if y.ndim == 1 else y.shape[1])
    return labeled, n_out


def _head_folds(idx: np.ndarray, y: np.ndarray, cv: int, classify: bool, random_state: int) -> list:
    """(train, test) positions into ``idx`` for cross-fitting; empty when there are too few rows."""
    folds = min(int(cv), len(idx)) if cv else 0
    if classify and folds:  # stratified folds need a class with at least as many rows as folds
        folds = min(folds, int(np.bincount(y[idx].astype(int)).max()))
    if folds < 2:
        return []
    splitter = (StratifiedKFold if classify else KFold)(folds, shuffle=True, random_state=random_state % 2**31)
    with warnings.catch_warnings():
        # a class with fewer rows than folds is missing from some training folds: its rows then get
        # a head that never saw their class, which is the honest out-of-fold answer
        warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
        return list(splitter.split(idx, y[idx]))


def _head_outputs(model, features, rows: np.ndarray, n_out: int, classify: bool) -> np.ndarray:
    """Log-probabilities (n_rows, n_out) in code order, or predictions (n_rows, n_targets)."""
    if len(rows) > _CHUNK:  # in chunks: memory-mapped features are never read in whole
        return np.vstack(
            [_head_outputs(model, features, rows[i : i + _CHUNK], n_out, classify) for i in range(0, len(rows), _CHUNK)]
        )
    if not classify:
        return np.asarray(model.predict(features[rows])).reshape(len(rows), -1)
    proba = np.full((len(rows), n_out), _LOG_EPS)
    proba[:, model.classes_.astype(int)] = model.predict_proba(features[rows])  # a fold may miss classes
    return np.log(np.clip(proba, _LOG_EPS, 1.0))


def teacher_head_predictions(
    head, features: np.ndarray, y: np.ndarray, cv: int, random_state: int, *, task: str
) -> tuple[np.ndarray, object]:
    """The head's predictions on every row, and the head fitted on all labeled rows.

    Out-of-fold for the labeled rows (cross-fitting, so they are no more confident than on unseen rows),
    from the head fitted on all labeled rows for the others.

    ``task="classification"`` (``y`` = class codes, -1 unlabeled): log-probabilities ``(n, n_classes)``, columns in
    code order. ``task="regression"`` (``y`` float, NaN unknown): predictions ``(n, n_targets)``; the head learns from
    the rows whose targets are all known.
    """
    classify = task == "classification"
    labeled, n_out = _check_head_rows(y, classify)
    if classify and not is_classifier(head):
        raise TypeError(f"transfer__head must be a classifier with predict_proba for a classifier, got {head!r}")
    if not classify and n_out == 1:
        y = y.reshape(-1)  # single-output heads (SVR, boosting) want 1-D targets
    out = np.zeros((len(y), n_out), dtype=np.float64)
    idx = np.flatnonzero(labeled)
    with _head_threads(len(idx)):
        full = clone(head).fit(features[idx], y[idx])
        if (~labeled).any():
            out[~labeled] = _head_outputs(full, features, np.flatnonzero(~labeled), n_out, classify)
        splits = _head_folds(idx, y, cv, classify, random_state)
        for train, test in splits:
            fold_head = clone(head).fit(features[idx[train]], y[idx[train]])
            out[idx[test]] = _head_outputs(fold_head, features, idx[test], n_out, classify)
        if not splits:
            out[idx] = _head_outputs(full, features, idx, n_out, classify)
    return out.astype(np.float32), full


def best_logistic_head(
    features, y: np.ndarray, Cs, cv: int, random_state: int, max_iter: int = 1000
) -> tuple[float, np.ndarray, object, float]:
    """:func:`teacher_head_predictions` of a ``LogisticRegression`` for each C in ``Cs``; the C with the best
    out-of-fold accuracy on the labeled rows wins (ties: the first in ``Cs``). Returns
    ``(C, log_proba, fitted_head, accuracy)``.

    Only the winning C is refitted on all labeled rows (the others' full fits were a sixth of the default
    fit's time). Each fit starts cold: warm-starting along the C path (as ``LogisticRegressionCV`` does)
    was faster but stopped the weakly penalised heads elsewhere within the solver's tolerance, which
    changed the chosen C on TREC with 100 labels (seed 0: 1 against 1000, the student 0.662 against 0.776).
    """
    return best_logistic_heads(features, y, [Cs], cv, random_state, max_iter)[0]


def best_logistic_heads(
    features, y: np.ndarray, grids, cv: int, random_state: int, max_iter: int = 1000
) -> list[tuple[float, np.ndarray, object, float]]:
    """:func:`best_logistic_head` for each grid of ``grids``, on one set of out-of-fold fits: each C of their
    union is cross-fitted once (the estimator's two probes share three of their Cs)."""
    labeled, n_out = _check_head_rows(y, classify=True)
    grids = [[float(C) for C in grid] for grid in grids]
    union = list(dict.fromkeys(C for grid in grids for C in grid))
    with _head_threads(int(labeled.sum())):
        idx = np.flatnonzero(labeled)
        oof = np.zeros((len(union), len(idx), n_out))
        splits = _head_folds(idx, y, cv, True, random_state)
        for train, test in splits:
            for i, C in enumerate(union):
                head = LogisticRegression(C=C, max_iter=max_iter).fit(features[idx[train]], y[idx[train]])
                oof[i, test] = _head_outputs(head, features, idx[test], n_out, True)
        fulls = {}
        if not splits:  # too few rows to cross-fit: in-sample predictions of each C's head
            for i, C in enumerate(union):
                fulls[C] = LogisticRegression(C=C, max_iter=max_iter).fit(features[idx], y[idx])
                oof[i] = _head_outputs(fulls[C], features, idx, n_out, True)
        accuracy = dict(zip(union, (oof.argmax(axis=2) == y[idx]).mean(axis=1)))
        results = []
        for grid in grids:
            top = max(accuracy[C] for C in grid)
            best = next(C for C in grid if accuracy[C] >= top - 1e-12)
            if best not in fulls:
                fulls[best] = LogisticRegression(C=best, max_iter=max_iter).fit(features[idx], y[idx])
            out = np.zeros((len(y), n_out), dtype=np.float64)
            out[idx] = oof[union.index(best)]
            if (~labeled).any():
                out[~labeled] = _head_outputs(fulls[best], features, np.flatnonzero(~labeled), n_out, True)
            results.append((best, out.astype(np.float32), fulls[best], float(accuracy[best])))
    return results


#: Candidate strengths of every ridge head and probe: RidgeCV's usual decade range, in half decades
#: (leave-one-out costs one fit, whatever their number).
RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(-2, 3, 11))


def best_ridge_head(features, y: np.ndarray, alphas=RIDGE_ALPHAS) -> tuple[float, np.ndarray, object, float]:
    """``RidgeCV`` on the rows whose targets are all known, alpha by leave-one-out squared error.

    Returns ``(alpha, predictions, fitted_head, loo_mse)``: ``predictions`` ``(n, n_targets)`` are
    leave-one-out on the labeled rows (as out of fold as cross-fitting, and exact for ridge at the cost
    of one fit) and from the fitted head on the other rows.
    """
    labeled = complete_rows(y)
    if labeled.sum() < 2:
        raise ValueError(f"a ridge head needs at least 2 rows whose targets are all known; y has {int(labeled.sum())}")
    y2 = y.reshape(len(y), -1).astype(np.float64)
    idx = np.flatnonzero(labeled)
    head = RidgeCV(alphas=tuple(alphas), store_cv_results=True, scoring="neg_mean_squared_error")
    head.fit(features[idx], y2[idx])
    out = np.zeros(y2.shape, dtype=np.float64)
    # cv_results_ holds the leave-one-out predictions for each alpha: keep the chosen alpha's
    loo = head.cv_results_.reshape(len(idx), y2.shape[1], len(head.alphas))
    out[idx] = loo[:, :, list(head.alphas).index(head.alpha_)]
    rest = np.flatnonzero(~labeled)
    for start in range(0, len(rest), _CHUNK):  # in chunks: memory-mapped features are never read in whole
        rows = rest[start : start + _CHUNK]
        out[rows] = np.asarray(head.predict(features[rows])).reshape(len(rows), -1)
    mse = float(np.mean((out[idx] - y2[idx]) ** 2))
    return float(head.alpha_), out, head, mse
