"""AFTClassifier: a small torch classifier trained with a transfer regulariser from a frozen teacher."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch
from numpy.typing import ArrayLike
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import _safe_indexing, column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _num_samples, check_consistent_length
from torch import nn

from sklearn_aft._base import BaseAFT
from sklearn_aft._labels import UNLABELED, restrict_to_labeled
from sklearn_aft._probe import C_GRID, probe_student_input, probe_student_input_with_unaided
from sklearn_aft.students.linear import DEFAULT_C

#: Training rows the fitted student predicts to check that it did not collapse to one class.
ONE_CLASS_CHECK_ROWS = 2000

#: Strings that a missing value becomes in a NumPy string array (``np.array(["ham", np.nan])`` holds
#: ``"nan"``): never a class, and not a marker either.
_MISSING_STRINGS = ("", "nan", "None", "NaN", "<NA>")


def _is_missing(value) -> bool:
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    if isinstance(value, (float, np.floating)):
        return bool(np.isnan(value))
    return isinstance(value, str) and value.strip() in _MISSING_STRINGS


def _is_marker(value) -> bool:
    """The integer -1, or its spelling ``"-1"`` in a string array (NumPy turns ``labels + [-1]`` into strings)."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float, np.number)):
        return value == UNLABELED
    return isinstance(value, str) and value.strip() == str(UNLABELED)


def _looks_like_integer(value) -> bool:
    try:
        int(str(value).strip())
    except ValueError:
        return False
    return True


def _unlabeled_mask(y: np.ndarray) -> np.ndarray:
    """Rows marked unlabeled in a 1-D y; raises where a marker could be read as a class or a class as one.

    Numbers: -1. Strings and objects: the integer -1 or the string ``"-1"`` (so that ``labels + [-1]``,
    which NumPy stores as strings, works), unless the other labels are integers written as strings
    ("0", "1", ...): there ``"-1"`` may be a class, and the user must say. Missing values (None, NaN,
    ``""``, ``"nan"``) are refused: they are neither a class nor the marker.
    """
    if y.dtype.kind in "iuf":
        return y == UNLABELED
    if y.dtype.kind not in "OUS":
        return np.zeros(len(y), dtype=bool)
    values = y.astype(str) if y.dtype.kind == "S" else y
    missing = np.fromiter((_is_missing(v) for v in values), bool, len(y))
    if missing.any():
        rows = np.flatnonzero(missing)
        raise ValueError(
            f"y has {len(rows)} missing label(s) ({values[rows[0]]!r} at row {rows[0]}): AFTClassifier marks an "
            f"unlabeled row with -1, e.g. y = np.where(pd.isna(y), -1, y).astype(object); a missing value is "
            "neither a class nor that marker"
        )
    marked = np.fromiter((_is_marker(v) for v in values), bool, len(y))
    spelled = marked & np.fromiter((isinstance(v, str) for v in values), bool, len(y))
    if spelled.any() and all(_looks_like_integer(v) for v in values[~marked]):
        raise ValueError(
            "y holds the string '-1' among labels that are integers written as strings: it could be a class or "
            "the unlabeled marker. Give integer labels (y.astype(int)), where -1 marks unlabeled rows, or "
            "rename that class"
        )
    return marked


class AFTClassifier(ClassifierMixin, BaseAFT):
    """Classifier that learns from labels and from a frozen teacher's features.

    A small torch network (the *student*: a linear model by default, an
    :class:`~sklearn_aft.students.MLP`, a timm network or any module) is trained with skorch on
    ``task loss + beta * transfer term``, where the transfer term brings in a large pretrained model
    (the *teacher*) through its precomputed features, passed to :meth:`fit` as ``teacher_features`` (or
    computed by ``teacher``). Only :meth:`fit` uses them: :meth:`predict` runs the student alone, and
    the fitted estimator holds no teacher.

    The default, ``transfer="stacked_kd"`` (:class:`~sklearn_aft.transfer.StackedKD`), distils soft
    labels for the unlabeled rows from a logistic-regression head on the teacher features, blended with
    a cross-validated probe of the student's own input so that a teacher weaker than the input is not
    followed. Adaptive Feature Transfer (Qiu et al., ICML 2024) comes in the authors' two forms, for
    students with hidden features (``module="mlp"`` or a pretrained network): ``"aft_feature"``
    penalises the part of the student's features that a learned linear map of the teacher features
    cannot explain; ``"aft"`` matches the student's batch kernel to the teacher's kernel under learned
    per-dimension teacher weights. See the Notes for why the default is not AFT.

    Rows labelled ``-1`` are unlabeled (scikit-learn's semi-supervised convention): they enter the
    transfer term only. When there are such rows, every training batch mixes labeled and unlabeled
    rows (see ``labeled_fraction``). With string labels the marker may be the integer ``-1`` (an object
    array) or the string ``"-1"`` that NumPy makes of it in ``np.array(labels + [-1])``; missing values
    (None, NaN, ``""``) are refused rather than read as a class, and so is ``"-1"`` among labels that are
    integers written as strings, where it could be either.

    Parameters
    ----------
    module : "auto", "linear", "mlp", "static", "timm", nn.Module class or nn.Module instance, default="auto"
        The student. ``"auto"`` on raw texts (a list, 1-D array or Series of str) with a text teacher or
        ``module__source`` takes ``"static"`` (:class:`~sklearn_aft.students.StaticStudent`: a token table
        distilled from the teacher's model, mean-pooled, then a head; ``docs/static.md``); otherwise the one
        the transfer method names: ``"linear"`` for
        ``"stacked_kd"`` and ``"none"``, ``"mlp"`` for the methods that compare hidden features
        (``"aft"``, ``"aft_feature"``, ``"fitnet"``, ...) and for ``"kd"`` and ``"task_oriented"``.
        Its ``forward(X)`` must return ``(output, features)``. Classes (and registered
        names) are built with the ``module__*`` parameters, plus ``input_dim`` and ``output_dim`` from
        the data when the constructor accepts them. An instance is copied and used as the start point.
        ``"linear"`` (:class:`~sklearn_aft.students.Linear`) is a logistic regression whose L2
        strength ``module__C`` is chosen by cross-validation on the labeled rows (``"auto"``).
    teacher : transformer or None, default=None
        A frozen teacher, e.g. :class:`~sklearn_aft.teachers.SentenceEmbedder` or
        :class:`~sklearn_aft.teachers.TimmEmbedder`. At fit time it embeds X (or ``teacher_input``)
        into the teacher features; ``predict`` never runs it and the fitted estimator holds none of its
        weights. Its parameters are tunable as ``teacher__<name>``. Give it or ``teacher_features``,
        not both.
    transfer : str or TransferMethod class, default="stacked_kd"
        The transfer method: ``"stacked_kd"`` (distillation from the teacher head stacked with a probe
        of X), ``"aft_feature"`` (feature-space AFT), ``"aft"`` (kernel AFT), ``"none"`` (task loss
        only: the baseline), or any name in :func:`sklearn_aft.available_transfers`.
        Its parameters are given as ``transfer__<name>``, e.g. ``transfer__beta=3.0``; see
        :class:`~sklearn_aft.transfer.StackedKD`, :class:`~sklearn_aft.transfer.AFTFeature` and
        :class:`~sklearn_aft.transfer.AFTKernel`.
    memory : None, str, path or joblib.Memory, default=None
        Where to cache the teacher's features, per sample: each distinct sample goes through a teacher
        configuration once, across folds, candidates and refits of a grid search (parameters such as
        ``batch_size`` or ``device`` do not change the key). None computes them at every fit.
    max_epochs : int or "auto", default="auto"
        Training epochs. With mini-batches an epoch is one pass over the labeled rows and ``"auto"``
        trains for about 500 optimizer steps whatever the number of labeled rows (at least one epoch);
        with full-batch L-BFGS an epoch is one L-BFGS step of up to ``optimizer__max_iter`` (20)
        iterations over every row, and ``"auto"`` is 10 epochs.
    batch_size : int, default=128
        Rows per training batch (labeled and unlabeled together; L-BFGS takes every row at once) and
        per prediction batch.
    lr : float or "auto", default="auto"
        Learning rate of the student (the transfer method's own parameters use ``transfer__lr``).
        ``"auto"``: 1 for L-BFGS (its line search scales the step), 1e-3 otherwise.
    optimizer : {"auto", "lbfgs", "adam", "adamw", "sgd"} or torch optimizer class, default="auto"
        Optimizer; its other arguments as ``optimizer__<name>`` (e.g. ``optimizer__weight_decay``).
        ``"auto"`` solves the linear student (a convex problem) with full-batch L-BFGS (strong Wolfe
        line search) up to 200,000 rows, and uses Adam on mini-batches otherwise. L-BFGS trains every
        parameter, the transfer method's too, at one learning rate.
    labeled_fraction : float in (0, 1], default=0.5
        With unlabeled rows, the share of each training batch taken by labeled rows (at most all of
        them; the labeled rows are cycled, the unlabeled pool is reshuffled when used up).
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra skorch callbacks (``EarlyStopping``, ``LRScheduler``, ...); tune them with
        ``callbacks__<name>__<param>``.
    device : "auto", "cpu", "cuda" or torch device string, default="auto"
        Where to train; ``"auto"`` uses CUDA when available. Ignored with an ``accelerator``.
    accelerator : accelerate.Accelerator or None, default=None
        Train one fit on several devices or with mixed precision through skorch's ``AccelerateMixin``
        (launch the script with ``accelerate launch``): the student is wrapped for distributed data
        parallel training, each process takes its share of every epoch's batches and computes the
        transfer term on its own batch, and the transfer method's learned parameters (AFT's teacher
        weights) are averaged across processes at every step. Every process must call ``fit`` with the
        same data. None trains in this process on ``device``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout and batch order. An int makes CPU results identical
        run to run; torch's global random state is left untouched.
    verbose : int, default=0
        ``1`` prints one line per phase of fit (teacher embedding, transfer targets, training) and
        skorch's epoch table; ``2`` adds a progress bar over each epoch's batches. 0 prints nothing.
    **kwargs
        Prefixed parameters: ``module__*``, ``transfer__*``, ``optimizer__*``, ``iterator_train__*``,
        ``iterator_valid__*``, ``callbacks__*``. They survive ``clone``, ``set_params`` and grid search.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels seen among the labeled rows.
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Input column names, when X has string column names.
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the student network.
    transfer_ : TransferMethod
        The fitted transfer method; for AFT, ``transfer_.feature_weights_`` holds the learned weight
        of every teacher dimension.
    teacher_blocks_ : tuple of int
        Width of each teacher's block of features (empty when fitted without a teacher).
    history_ : skorch History
        Per-epoch ``train_loss``, ``task_loss`` and ``transfer_loss``.

    See Also
    --------
    AFTRegressor : The same for regression.

    Notes
    -----
    The defaults are measured against what a user writes by hand: on SST-2, TREC (6 and 50 classes) and
    SMS spam, with few and more labels, with and without unlabeled rows, a TF-IDF student and
    all-MiniLM-L6-v2 teacher features, next to TF-IDF + ``LogisticRegressionCV``, the pseudo-label pipeline
    (a cross-validated probe on the teacher features labels the unlabeled rows, then a TF-IDF logistic
    regression learns them) and ``SelfTrainingClassifier``. The figures are in ``docs/defaults.md`` and
    ``benchmarks/results/baselines.md`` (``benchmarks/baselines.py``); what follows says why.

    - The linear student: a logistic regression solved exactly (full-batch L-BFGS, C by cross-validation)
      matches ``LogisticRegressionCV`` on the same input, where the earlier default MLP lost to it.
    - ``transfer="stacked_kd"``: distilling a teacher head's soft labels on the unlabeled rows is what the
      pseudo-label pipeline does with hard labels; the out-of-fold blend with a probe of the student's
      input keeps a teacher weaker than the input (TREC's 50 classes) from pulling the student down. Soft
      labels are sharpened (temperature 0.5), and the student's C is 10 when it learns a transfer set
      (the cross-validated C of a few labeled rows was far too strong there).
    - AFT (``"aft_feature"``, ``"aft"``) and the other feature methods need a student with hidden
      features; on a from-scratch MLP over TF-IDF they did not reach the pseudo-label pipeline, and the
      kernel form mostly lost to the plain MLP: keep it for pretrained students (``docs/aft.md``).
    - For the MLP: ``max_epochs="auto"`` (500 steps, where the plain MLP peaked), a warm-up over half the
      epochs for AFT (without it the kernel term's gradient dominates the task's at initialisation).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aft import AFTClassifier
    >>> rng = np.random.RandomState(0)
    >>> F = rng.normal(size=(200, 16)).astype("float32")       # teacher features
    >>> y = (F[:, 0] > 0).astype(int)
    >>> X = F[:, :4] + 0.1 * rng.normal(size=(200, 4))          # what the student sees
    >>> clf = AFTClassifier(transfer="aft", transfer__beta=1.0, max_epochs=20, random_state=0)
    >>> clf.fit(X, y, teacher_features=F).score(X, y) > 0.9
    True
    >>> clf.predict(X[:3]).shape
    (3,)
    """

    _marker = "-1"
    _target_name = "class"

    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        teacher_features: ArrayLike | Sequence[ArrayLike] | None = None,
        teacher_input=None,
    ) -> AFTClassifier:
        """Train the student on (X, y) with the transfer term against ``teacher_features``.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Student input. Sparse matrices stay sparse: the MLP multiplies sparse batches, other students
            get each batch densified. Image students take image arrays (see :mod:`sklearn_aft.teachers`).
        y : array-like of shape (n_samples,)
            Labels (ints or strings); ``-1`` (or ``"-1"`` among string labels) marks an unlabeled row.
        teacher_features : array-like of shape (n_samples, d) or list of such arrays, default=None
            Frozen teacher features, row-aligned with X; a list holds one array per teacher (or use
            :func:`~sklearn_aft.concat_teachers`, which also survives cross-validation slicing).
            None trains the student on the task loss alone.

        teacher_input : sequence of length n_samples, default=None
            What the ``teacher`` embeds in place of X, row-aligned with X: e.g. the raw texts when X is
            their TF-IDF matrix in a pipeline (route it with ``set_fit_request(teacher_input=True)``).

        Returns
        -------
        self : AFTClassifier
        """
        self._fit_transactional(X, y, teacher_features, teacher_input)
        self._warn_if_one_class(X)
        return self

    def _warn_if_one_class(self, X) -> None:
        """Warn when the fitted student predicts a single class on its training rows although y has several:
        a collapse to the majority class (rare classes, soft labels that taught "always the majority") has
        the majority rate for accuracy and no other sign."""
        if len(self.classes_) < 2:
            return
        n = _num_samples(X)
        sample = X
        if n > ONE_CLASS_CHECK_ROWS:
            sample = _safe_indexing(X, np.sort(np.random.default_rng(0).choice(n, ONE_CLASS_CHECK_ROWS, replace=False)))
        with torch.random.fork_rng(devices=[]):  # the prediction loader draws a seed: fit leaves the RNG as it was
            predicted = np.unique(np.argmax(self._forward_outputs(sample), axis=1))
        if len(predicted) == 1:
            warnings.warn(
                f"the fitted student predicts one class ({self.classes_[predicted[0]]!r}) for every training row "
                f"although y has {len(self.classes_)}: it collapsed to one class. Check the macro-F1 of "
                "transfer='none' on the labeled rows; more labeled rows of the rare classes, a smaller "
                "transfer__beta or transfer__temperature=1 let the rare classes back in.",
                UserWarning,
                stacklevel=3,
            )

    def _probe_input(self, X, y_train: np.ndarray, seed: int, transfer_set: bool):
        if X.ndim != 2:
            return None
        if not transfer_set:
            return probe_student_input(X, y_train, seed, Cs=C_GRID)
        return probe_student_input_with_unaided(X, y_train, seed)

    def _has_auto_penalty(self, module) -> bool:
        return getattr(module, "C", None) == "auto"

    def _choose_penalty(self, module, probe, transfer_set: bool) -> None:
        # By cross-validation when the student learns the labeled rows alone. With a teacher's soft labels
        # on every row, the labeled rows' choice (often C=1 at 100 labels) is far too strong, and C=10 (the
        # hand-written pseudo-label pipeline's) was the better one.
        # A transfer method that set its teacher aside trains the labeled rows alone: their own choice.
        if probe is not None and not transfer_set:
            module.C = (probe.unaided or probe).C
        else:
            module.C = DEFAULT_C

    def _prepare_targets(self, y, n_samples: int) -> np.ndarray:
        y = column_or_1d(y, warn=True)
        check_consistent_length(np.empty(n_samples), y)
        if y.dtype.kind == "f" and not np.isfinite(y).all():
            raise ValueError(
                "Input y contains NaN or infinity. Mark unlabeled rows with -1 (AFTClassifier); NaN marks them "
                "only for AFTRegressor"
            )
        unlabeled = _unlabeled_mask(y)
        labeled_y = y[~unlabeled]
        if labeled_y.dtype.kind == "O" and all(isinstance(v, (int, float, np.number)) for v in labeled_y):
            # e.g. int labels stored as objects next to the -1 marker: give them back a numeric dtype
            labeled_y = np.asarray(labeled_y.tolist())
        if not len(labeled_y):
            raise ValueError("y has no labeled rows (every label is -1); the task loss needs some labels")
        check_classification_targets(labeled_y)
        encoder = LabelEncoder().fit(labeled_y)
        if len(encoder.classes_) < 2:
            hint = " (label -1 marks unlabeled rows, not a class)" if unlabeled.any() else ""
            raise ValueError(
                f"AFTClassifier needs at least 2 classes in the labeled rows of y; got 1 class: "
                f"{encoder.classes_[0]!r}{hint}"
            )
        codes = np.full(n_samples, UNLABELED, dtype=np.int64)
        codes[~unlabeled] = encoder.transform(labeled_y)
        self.classes_ = encoder.classes_
        return codes

    def _n_outputs(self) -> int:
        return len(self.classes_)

    def _criterion(self) -> type:
        return nn.CrossEntropyLoss

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities from the student alone.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        proba = self._forward_outputs(X).astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        outputs = self._forward_outputs(X)  # first: it raises NotFittedError before classes_ is read
        return self.classes_[np.argmax(outputs, axis=1)]

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """Mean accuracy on the labeled rows of ``(X, y)``; rows labelled ``-1`` are left out.

        Unlabeled rows cannot be scored, and leaving them out keeps ``GridSearchCV`` and
        ``cross_validate`` right when the folds hold some (as they do in semi-supervised fits).

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            True labels; ``-1`` marks an unlabeled row.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
        """
        y = np.asarray(y)
        labeled = ~_unlabeled_mask(y) if y.ndim == 1 else np.ones(len(y), dtype=bool)
        X, y, sample_weight = restrict_to_labeled(X, y, sample_weight, labeled, "every label is -1")
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags
