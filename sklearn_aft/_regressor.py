"""AFTRegressor: a small torch regressor trained with a transfer regulariser from a frozen teacher."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import RegressorMixin
from sklearn.utils import check_array
from sklearn.utils.validation import check_consistent_length
from torch import nn

from sklearn_aft._base import BaseAFT
from sklearn_aft._labels import complete_rows, known, labeled_rows, restrict_to_labeled
from sklearn_aft._probe import probe_student_input_ridge, transfer_set_alpha
from sklearn_aft.students.linear import DEFAULT_ALPHA


class AFTRegressor(RegressorMixin, BaseAFT):
    """Regressor that learns from targets and from a frozen teacher's features.

    The same students, training and transfer methods as :class:`AFTClassifier`, with a squared-error task
    loss. Targets may be 1-D or 2-D; a NaN target is unknown and is left out of the task loss (a row whose
    targets are all NaN is unlabeled and enters the transfer term only). Targets are standardised per
    output inside the estimator (mean and standard deviation of the known values) and :meth:`predict`
    returns them in the user's units, so their scale and offset do not matter.

    By default the student is a ridge regression (:class:`~sklearn_aft.students.Linear`, alpha by
    leave-one-out error on the labeled rows, as ``RidgeCV`` picks it) and ``transfer="stacked_kd"``: a
    ridge head on the teacher features predicts the unlabeled rows' targets when its leave-one-out error
    beats the same probe on the student's input, and the student learns them with the labeled rows.
    With labeled rows alone it is ``RidgeCV``; with a teacher weaker than the input, too.

    Parameters
    ----------
    module : "auto", "linear", "mlp", nn.Module class or nn.Module instance, default="auto"
        The student; ``"auto"`` is the one the transfer method asks for (``"linear"`` for the default,
        the MLP for feature methods such as ``"aft_feature"``). See :class:`AFTClassifier`.
    teacher : transformer or None, default=None
        A frozen teacher (see :mod:`sklearn_aft.teachers`) that embeds X, or ``teacher_input``, at fit
        time; see :class:`AFTClassifier`.
    transfer : str or TransferMethod class, default="stacked_kd"
        The transfer method and its ``transfer__*`` parameters; see :class:`AFTClassifier`.
    memory : None, str, path or joblib.Memory, default=None
        Per-sample cache of the teacher's features; see :class:`AFTClassifier`.
    max_epochs : int or "auto", default="auto"
        Training epochs; an epoch is one pass over the labeled rows. ``"auto"`` trains for about 500
        optimizer steps (10 full-batch L-BFGS epochs for the linear student).
    batch_size : int, default=128
        Rows per batch (mini-batch optimizers).
    lr : float or "auto", default="auto"
        Learning rate of the student; ``"auto"``: 1 for L-BFGS, 1e-3 otherwise.
    optimizer : {"auto", "lbfgs", "adam", "adamw", "sgd"} or torch optimizer class, default="auto"
        Optimizer; its arguments as ``optimizer__<name>``. ``"auto"``: full-batch L-BFGS for the linear
        student (up to 200,000 rows, no accelerator), Adam otherwise.
    labeled_fraction : float in (0, 1], default=0.5
        With unlabeled rows and mini-batches, the share of each training batch taken by labeled rows.
    callbacks : list of skorch callbacks, default=None
        Extra skorch callbacks.
    device : "auto", "cpu", "cuda" or torch device string, default="auto"
        Where to train. Ignored with an ``accelerator``.
    accelerator : accelerate.Accelerator or None, default=None
        Train one fit on several devices or with mixed precision through skorch's ``AccelerateMixin``
        (launch the script with ``accelerate launch``); see :class:`AFTClassifier`.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, dropout and batch order.
    verbose : int, default=0
        ``1`` prints one line per phase of fit (teacher embedding, transfer targets, training) and
        skorch's epoch table; ``2`` adds a progress bar over each epoch's batches. 0 prints nothing.
    **kwargs
        Prefixed parameters (``module__*``, ``transfer__*``, ``optimizer__*``, ...).

    Attributes
    ----------
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Input column names, when X has string column names.
    n_outputs_ : int
        Number of regression targets.
    target_mean_, target_scale_ : ndarray of shape (`n_outputs_`,)
        The standardisation of the targets: the student learns ``(y - target_mean_) / target_scale_``.
    net_ : skorch.NeuralNet
        The trained skorch net.
    transfer_ : TransferMethod
        The fitted transfer method (``feature_weights_`` for AFT).
    teacher_blocks_ : tuple of int
        Width of each teacher's block of features.
    history_ : skorch History
        Per-epoch ``train_loss``, ``task_loss`` and ``transfer_loss``.

    See Also
    --------
    AFTClassifier : The same for classification.

    Notes
    -----
    The defaults rest on SST-5 (sentiment as a number) and a table with a text column, with 100, 500 and
    all labels, with and without unlabeled rows, 3 seeds: ``benchmarks/regression.py`` and
    ``docs/defaults.md``. The fitted student equals ``RidgeCV`` with labels alone, and the hand-written
    pseudo-label pipeline (the teacher probe predicts the unlabeled rows, then ``RidgeCV``) with them.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aft import AFTRegressor
    >>> rng = np.random.RandomState(0)
    >>> F = rng.normal(size=(200, 16)).astype("float32")
    >>> y = F[:, 0] + 0.5 * F[:, 1]
    >>> X = F[:, :4] + 0.1 * rng.normal(size=(200, 4))
    >>> reg = AFTRegressor(max_epochs=50, random_state=0).fit(X, y, teacher_features=F)
    >>> reg.score(X, y) > 0.8
    True
    """

    _task = "regression"

    _marker = "NaN"
    _target_name = "target value"

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        teacher_features: ArrayLike | Sequence[ArrayLike] | None = None,
        teacher_input=None,
    ) -> AFTRegressor:
        """Train the student on (X, y) with the transfer term against ``teacher_features``.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Student input.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets; NaN marks an unknown target.
        teacher_features : array-like of shape (n_samples, d) or list of such arrays, default=None
            Frozen teacher features, row-aligned with X. None trains on the task loss alone.

        teacher_input : sequence of length n_samples, default=None
            What the ``teacher`` embeds in place of X, row-aligned with X: e.g. the raw texts when X is
            their TF-IDF matrix in a pipeline (route it with ``set_fit_request(teacher_input=True)``).

        Returns
        -------
        self : AFTRegressor
        """
        return self._fit_transactional(X, y, teacher_features, teacher_input)

    def _prepare_targets(self, y, n_samples: int) -> np.ndarray:
        try:
            y = check_array(y, ensure_2d=False, dtype=np.float64, ensure_all_finite="allow-nan", input_name="y")
        except ValueError as error:
            if "convert" not in str(error):
                raise
            raise ValueError(
                f"AFTRegressor's y must hold numbers ({error}); NaN (or None) marks a row whose target is "
                "unknown. For class labels use AFTClassifier"
            ) from error
        check_consistent_length(np.empty(n_samples), y)
        if not np.isnan(y).any() and y.size and np.mean(y == -1) >= 0.25:
            # -1 is the classifier's unlabeled marker: as a regression target it would be learned as a value
            warnings.warn(
                f"{np.mean(y == -1):.0%} of y is -1 and none of it NaN: AFTRegressor marks unknown targets with NaN, "
                "not -1 (the classifier's marker). If -1 is a real target value, ignore this warning.",
                UserWarning,
                stacklevel=3,
            )
        if y.ndim > 2:
            raise ValueError(f"y must be 1-D or 2-D, got shape {y.shape}")
        if np.isinf(y).any():
            raise ValueError("Input y contains infinity; NaN marks an unknown target, infinity is not allowed")
        self._y_ndim = y.ndim
        y2 = y.reshape(n_samples, -1)
        n_labeled = int(labeled_rows(y2).sum())
        if n_labeled < 2:
            raise ValueError(
                f"AFTRegressor needs at least 2 labeled samples (rows with a known target); got {n_labeled} sample"
                f"{'' if n_labeled == 1 else 's'}"
            )
        self.n_outputs_ = y2.shape[1]
        # Standardised per output from its known values (in float64: y + 1e4 keeps its decimals), so that
        # the student starts near the answer whatever the target's units, and beta, the learning rate and
        # the L2 strength mean the same on every scale; predict undoes it.
        given = known(y2)
        empty = np.flatnonzero(~given.any(axis=0))
        if len(empty):
            raise ValueError(
                f"y's target column(s) {empty.tolist()} have no known value (all NaN): every target needs "
                "some labeled rows"
            )
        mean = np.array([y2[given[:, j], j].mean() for j in range(y2.shape[1])])
        scale = np.array([y2[given[:, j], j].std() for j in range(y2.shape[1])])
        self.target_mean_ = mean
        self.target_scale_ = np.where(scale > 0, scale, 1.0)
        return np.ascontiguousarray((y2 - mean) / self.target_scale_, dtype=np.float32)

    def _probe_input(self, X, y_train: np.ndarray, seed: int, transfer_set: bool):
        return probe_student_input_ridge(X, y_train) if X.ndim == 2 else None

    def _has_auto_penalty(self, module) -> bool:
        return getattr(module, "alpha", None) == "auto"

    def _choose_penalty(self, module, probe, transfer_set: bool) -> None:
        # The labeled rows' leave-one-out choice, with or without a transfer set: a ridge fitted on the
        # labeled rows with this alpha is unchanged by adding rows that carry its own predictions, so a
        # teacher left out of the blend leaves the student exactly as it would be without unlabeled rows.
        module.alpha = probe.alpha if probe is not None else DEFAULT_ALPHA

    def _choose_transfer_set_penalty(self, module, transfer, X, transfer_targets: np.ndarray, seed: int) -> None:
        # A teacher that labels the unlabeled rows makes a different problem: its alpha is chosen on it, as
        # the hand-written pipeline's RidgeCV on all rows does (on SST-5 with 500 labels, 0.32 where the
        # labeled rows chose 0.01, and R^2 0.22 against 0.20).
        values = transfer.student_targets(transfer_targets)
        if values is None or X.ndim != 2 or not transfer.uses_unlabeled_rows:
            return
        chosen = getattr(transfer, "student_alpha_", None)  # stacked_kd chose it while judging its recipes
        module.alpha = chosen if chosen is not None else transfer_set_alpha(X, values, seed)

    def _n_outputs(self) -> int:
        return self.n_outputs_

    def _criterion(self) -> type:
        return nn.MSELoss

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted targets from the student alone.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        out = self._forward_outputs(X).astype(np.float64) * self.target_scale_ + self.target_mean_
        return out.ravel() if self._y_ndim == 1 else out

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """R² on the labeled rows of ``(X, y)``; rows with a NaN target are left out (scikit-learn's R² takes
        no NaN, so a row of several targets counts only when all of them are known, as
        :func:`~sklearn_aft.metrics.labeled_scorer` counts it).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            True targets; a row of NaN is unlabeled.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        y = np.asarray(y, dtype=np.float64)
        labeled = complete_rows(y)
        X, y, sample_weight = restrict_to_labeled(X, y, sample_weight, labeled, "every row has a NaN target")
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
