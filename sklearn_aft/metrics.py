"""Scorers for model selection on semi-supervised targets: only the rows whose label is known are scored.

A classifier's unlabeled rows carry the label ``-1`` and a regressor's unknown targets are NaN. The
estimators' own ``score`` leaves those rows out, but scikit-learn's scorers (``scoring="f1_macro"``,
``"neg_mean_squared_error"``, ...) do not know the convention: in ``GridSearchCV`` or ``cross_validate``
they count ``-1`` as a class (or fail on NaN), and a search ranks its candidates on a wrong number without a
word. :func:`labeled_scorer` wraps any of them so that it scores the labeled rows only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from sklearn.base import is_classifier, is_regressor
from sklearn.metrics import check_scoring, get_scorer
from sklearn.utils import _safe_indexing
from sklearn.utils.metadata_routing import get_routing_for_object
from sklearn.utils.validation import _num_samples

from sklearn_aft._classifier import _unlabeled_mask

__all__ = ["LabeledScorer", "labeled_scorer"]


def _labeled_rows(estimator, y) -> np.ndarray:
    """Boolean mask of the rows of ``y`` whose label is known, read as ``estimator`` reads its targets.

    A classifier (``is_classifier``, a pipeline ending in one included): rows not labelled ``-1`` (or the
    string ``"-1"`` among string labels, as :class:`~sklearn_aft.AFTClassifier` reads them); a 2-D ``y``
    has no marker and every row counts. A regressor: rows whose targets are all finite (with several
    outputs, a row with one NaN target is left out whole, since scikit-learn's regression metrics take no
    NaN). An estimator that is neither: float targets are read as a regressor's, other labels as a
    classifier's.
    """
    values = np.asarray(y)
    classifier = is_classifier(estimator) or (not is_regressor(estimator) and values.dtype.kind not in "fc")
    if classifier:
        if values.ndim != 1:
            return np.ones(len(values), dtype=bool)
        return ~_unlabeled_mask(values)
    try:
        values = values.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"a regressor's targets must be numbers, NaN where unknown ({error})") from error
    return np.isfinite(values).reshape(len(values), -1).all(axis=1)


class LabeledScorer:
    """A scorer that scores only the rows of ``(X, y)`` whose label is known; see :func:`labeled_scorer`.

    Parameters
    ----------
    scoring : str, callable or None
        A scikit-learn scorer name, a scorer callable ``scorer(estimator, X, y)``, or None for the
        estimator's own ``score``.
    """

    def __init__(self, scoring: str | Callable | None):
        self.scoring = scoring
        # a name is checked now, not in the first fold
        self._scorer = get_scorer(scoring) if isinstance(scoring, str) else scoring

    def __call__(self, estimator, X, y_true, sample_weight=None, **kwargs):
        """Score ``estimator`` on the labeled rows of ``(X, y_true)``.

        Parameters
        ----------
        estimator : fitted estimator
        X : array-like, sparse matrix, DataFrame or list of shape (n_samples, ...)
        y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True labels, ``-1`` (classifier) or NaN (regressor) where unknown.
        sample_weight : array-like of shape (n_samples,), default=None
        **kwargs
            Metadata for the scorer (metadata routing); per-sample values are restricted to the labeled
            rows as ``sample_weight`` is.

        Returns
        -------
        float or dict
            What the wrapped scorer returns on the labeled rows.

        Raises
        ------
        ValueError
            When no row is labeled. ``GridSearchCV`` and ``cross_validate`` record such a fold as their
            ``error_score`` (NaN by default, with a ``UserWarning``); ``error_score="raise"`` raises.
        """
        n_samples = _num_samples(X)
        labeled = _labeled_rows(estimator, y_true)
        if len(labeled) != n_samples:
            raise ValueError(f"X has {n_samples} samples but y has {len(labeled)}")
        if not labeled.any():
            raise ValueError(
                f"no labeled rows to score: all {n_samples} rows of this split are unlabeled (-1 for a classifier, "
                "NaN for a regressor). Use folds that keep labeled rows in each, e.g. StratifiedKFold on "
                "(y != -1) or on y itself"
            )
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        if not labeled.all():
            rows = np.flatnonzero(labeled)
            X = _safe_indexing(X, rows)
            y_true = _safe_indexing(y_true, rows)
            # per-sample metadata follows the rows, as cross-validation slices it
            kwargs = {k: _safe_indexing(v, rows) if _per_sample(v, n_samples) else v for k, v in kwargs.items()}
        y_true = _numeric_if_numbers(y_true)
        scorer = check_scoring(estimator) if self._scorer is None else self._scorer
        return scorer(estimator, X, y_true, **kwargs)

    def get_metadata_routing(self):
        """The wrapped scorer's metadata request (``sample_weight`` and the like reach it when it asks).

        Returns
        -------
        MetadataRequest
        """
        return get_routing_for_object(self._scorer)

    def set_score_request(self, **kwargs) -> LabeledScorer:
        """Request metadata for the wrapped scorer (metadata routing on), as a scikit-learn scorer does.

        Parameters
        ----------
        **kwargs
            ``param_name=alias`` pairs, e.g. ``sample_weight=True``.

        Returns
        -------
        self
        """
        if not hasattr(self._scorer, "set_score_request"):
            raise AttributeError(f"the scorer {self._scorer!r} takes no metadata requests")
        self._scorer.set_score_request(**kwargs)
        return self

    def __repr__(self) -> str:
        return f"labeled_scorer({self.scoring!r})"


def _per_sample(value, n_samples: int) -> bool:
    if isinstance(value, (str, bytes)) or not (hasattr(value, "__len__") or hasattr(value, "shape")):
        return False
    try:
        return _num_samples(value) == n_samples
    except TypeError:
        return False


def _numeric_if_numbers(y):
    # int labels stored as objects next to the -1 marker: scikit-learn's metrics call such a y "unknown"
    if not (isinstance(y, np.ndarray) and y.dtype.kind == "O"):
        return y
    return np.asarray(y.tolist()) if all(isinstance(v, (int, float, np.number)) for v in y.flat) else y


def labeled_scorer(
    scoring: str | Callable | None | list[str] | tuple[str, ...] | set[str] | Mapping[str, str | Callable],
) -> LabeledScorer | dict[str, LabeledScorer]:
    """Make ``scoring`` score only the rows whose label is known, for ``GridSearchCV`` and ``cross_validate``.

    scikit-learn's scorers know nothing of unlabeled rows: with ``scoring="f1_macro"`` a fold's ``-1`` rows
    count as a class, and the search ranks its candidates on a wrong number. The returned scorer drops the
    unlabeled rows of each held-out fold, then scores the rest as ``scoring`` would. A classifier's
    unlabeled rows are labelled ``-1`` (``"-1"`` among string labels); a regressor's have non-finite
    (NaN) targets, and with several outputs a row is scored only when all its targets are known (the
    metrics take no NaN). Whether the estimator is a classifier or a regressor is read from it at scoring
    time (``sklearn.base.is_classifier``, which sees through pipelines).

    Parameters
    ----------
    scoring : str, callable, None, list, tuple, set or dict
        What ``GridSearchCV(scoring=...)`` takes: a scorer name (``"f1_macro"``,
        ``"neg_mean_absolute_error"``, any of ``sklearn.metrics.get_scorer_names()``), a scorer callable
        ``scorer(estimator, X, y)`` (e.g. from ``make_scorer``), None for the estimator's own ``score``,
        or, for several metrics, a list, tuple or set of names or a dict of names to names or callables.

    Returns
    -------
    LabeledScorer or dict of str to LabeledScorer
        A scorer for one metric; for several, a dict that ``GridSearchCV`` takes as multi-metric
        ``scoring`` (set ``refit`` to one of its keys). It works with metadata routing on or off: with
        routing, the wrapped scorer's requests (``set_score_request``) apply, and per-sample metadata is
        restricted to the labeled rows like ``sample_weight``.

    Raises
    ------
    ValueError
        Here, for an unknown scorer name or an empty or repeated list; when scoring, for a fold without any
        labeled row. ``GridSearchCV`` and ``cross_validate`` turn that error into their ``error_score``
        (NaN by default, with a warning naming the fold) and raise it with ``error_score="raise"``.

    See Also
    --------
    sklearn_aft.AFTClassifier.score : Accuracy on the labeled rows (the default scorer).
    sklearn_aft.AFTRegressor.score : R² on the labeled rows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.metrics import f1_score
    >>> from sklearn.model_selection import cross_validate
    >>> from sklearn_aft import AFTClassifier
    >>> from sklearn_aft.metrics import labeled_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(90, 4)).astype("float32")
    >>> y = np.where(rng.rand(90) < 0.5, -1, (X[:, 0] > 0).astype(int))  # -1: unlabeled
    >>> clf = AFTClassifier(max_epochs=3, random_state=0).fit(X, y, teacher_features=X)
    >>> f1 = labeled_scorer("f1_macro")
    >>> known = y != -1
    >>> bool(f1(clf, X, y) == f1_score(y[known], clf.predict(X[known]), average="macro"))
    True
    >>> scoring = labeled_scorer(["f1_macro", "balanced_accuracy"])
    >>> sorted(scoring)
    ['balanced_accuracy', 'f1_macro']
    >>> clf = AFTClassifier(max_epochs=3, random_state=0)
    >>> cv = cross_validate(clf, X, y, cv=3, scoring=scoring, params={"teacher_features": X})
    >>> cv["test_f1_macro"].shape
    (3,)
    """
    if isinstance(scoring, LabeledScorer):
        return scoring
    if scoring is None or isinstance(scoring, str) or callable(scoring):
        return LabeledScorer(scoring)
    if isinstance(scoring, Mapping):
        if not scoring:
            raise ValueError("scoring is an empty dict: give at least one metric")
        return {name: labeled_scorer(value) for name, value in scoring.items()}
    if isinstance(scoring, (list, tuple, set, frozenset)):
        names = list(scoring)
        if not names or not all(isinstance(name, str) for name in names):
            raise ValueError(f"a list of metrics must hold scorer names (strings), got {scoring!r}")
        if len(set(names)) != len(names):
            raise ValueError(f"scoring names a metric twice: {scoring!r}")
        return {name: LabeledScorer(name) for name in names}
    raise TypeError(
        f"scoring must be a scorer name, a scorer callable, None, a list of names or a dict; got {scoring!r}"
    )
