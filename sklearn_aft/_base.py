"""What AFTClassifier and AFTRegressor share: parameters, validation, building and fitting the net."""

from __future__ import annotations

import copy
import inspect
import os
import warnings

import joblib
import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import _num_samples, check_is_fitted, validate_data
from skorch.callbacks import ProgressBar

from sklearn_aft._accelerate import AcceleratedTransferNet
from sklearn_aft._constraints import (
    HasMethods,
    Integral,
    InvalidParameterError,
    Number,
    Real,
    StrOptions,
    check_declared,
    unknown_parameters_error,
)
from sklearn_aft._data import MixedBatchSampler, TransferDataset, predict_loader, train_loader
from sklearn_aft._device import resolve_device
from sklearn_aft._features import validate_teacher_features
from sklearn_aft._input_checks import check_text_teacher_input, holds_raw_texts, holds_text
from sklearn_aft._labels import complete_rows
from sklearn_aft._net import TransferNet
from sklearn_aft._optim import SparseDenseAdam
from sklearn_aft.registry import get_student, get_teacher, get_transfer
from sklearn_aft.students.base import student_traits
from sklearn_aft.students.static import check_texts_input
from sklearn_aft.teachers.cache import embed
from sklearn_aft.transfer import NoTransfer

#: skorch-style prefixed parameters the estimators accept as ``<prefix>__<name>=value``.
PARAM_PREFIXES = ("module", "transfer", "optimizer", "iterator_train", "iterator_valid", "callbacks")

#: Training length of ``max_epochs="auto"``, in optimizer steps (see the estimators' Notes).
AUTO_STEPS = 500

#: Full-batch L-BFGS (``optimizer="lbfgs"``): epochs of ``max_epochs="auto"`` and iterations per epoch
#: (``optimizer__max_iter``); a converged solve returns at once, so later epochs cost little.
LBFGS_EPOCHS = 10
LBFGS_ITERATIONS = 20
#: ``optimizer="auto"`` solves a ``full_batch`` student (the linear one) with L-BFGS up to this many rows
#: (one batch holds them all); above, and for every other student, it uses Adam on mini-batches.
FULL_BATCH_MAX_ROWS = 200_000

_OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "lbfgs": torch.optim.LBFGS,
}
_DEFAULT_LR = {torch.optim.LBFGS: 1.0}  # lr="auto": 1 for L-BFGS (its line search sets the step), else 1e-3


def _is_prefixed(key: str) -> bool:
    return any(key.startswith(p + "__") for p in PARAM_PREFIXES)


class BaseAFT(BaseEstimator):
    """Shared machinery; see :class:`~sklearn_aft.AFTClassifier` for the parameters."""

    #: Handed to students that take a ``task`` argument (the linear student's penalty convention) and to
    #: the transfer method's ``fit_targets``.
    _task = "classification"

    _parameter_constraints: dict = {
        "module": [str, type, torch.nn.Module],
        "teacher": [str, HasMethods(["transform"]), None],
        "transfer": [str, type],
        "memory": [str, os.PathLike, joblib.Memory, None],
        "max_epochs": [Number(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Number(Integral, 2, None, closed="left")],
        "lr": [Number(Real, 0, np.inf, closed="neither"), StrOptions({"auto"})],
        "optimizer": [StrOptions({"auto", *_OPTIMIZERS}), type],
        "labeled_fraction": [Number(Real, 0, 1, closed="right")],
        "callbacks": [list, tuple, None],
        "device": [str, torch.device, None],
        "accelerator": [HasMethods(["prepare", "backward", "reduce"]), None],  # an accelerate.Accelerator
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # The defaults of both estimators (a linear student with stacked_kd): their docstrings say why.
    def __init__(
        self,
        module="auto",
        *,
        teacher=None,
        transfer="stacked_kd",
        memory=None,
        max_epochs="auto",
        batch_size=128,
        lr="auto",
        optimizer="auto",
        labeled_fraction=0.5,
        callbacks=None,
        device="auto",
        accelerator=None,
        random_state=None,
        verbose=0,
        **kwargs,
    ):
        self.module = module
        self.teacher = teacher
        self.transfer = transfer
        self.memory = memory
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.labeled_fraction = labeled_fraction
        self.callbacks = callbacks
        self.device = device
        self.accelerator = accelerator
        self.random_state = random_state
        self.verbose = verbose
        # Unknown keywords are kept (so clone keeps them) and rejected at fit, never in __init__.
        vars(self).update(kwargs)

    # -- parameters ---------------------------------------------------------------------------------
    def _extra_param_names(self) -> list[str]:
        # skorch's rule: any public attribute that is not fitted state (no trailing "_") is a parameter.
        named = set(self._get_param_names())
        return [k for k in vars(self) if k not in named and not k.startswith("_") and not k.endswith("_")]

    def get_params(self, deep: bool = True) -> dict:
        params = super().get_params(deep=deep)
        params.update({k: getattr(self, k) for k in self._extra_param_names()})
        return params

    def set_params(self, **params):
        # Prefixed parameters (transfer__beta, module__hidden_sizes, ...) are stored as they are and
        # used at the next fit, as in skorch; the rest follows scikit-learn's rules. An unknown name is
        # refused at once, with the message fit gives for one passed to __init__ (which construction keeps,
        # so that clone does, and fit refuses).
        for key in [k for k in params if _is_prefixed(k)]:
            setattr(self, key, params.pop(key))
        names = self.get_params(deep=False)  # as scikit-learn's rule: what get_params names may be set
        unknown = [k for k in params if k.split("__", 1)[0] not in names]
        if unknown:
            raise self._unknown_params_error(unknown)
        if params:
            super().set_params(**params)
        return self

    def _unknown_params_error(self, unknown) -> InvalidParameterError:
        # the message every owner gives (transfer methods and students too), the prefixes listed as "module__*"
        accepted = [*self._get_param_names(), *(p + "__*" for p in PARAM_PREFIXES)]
        return unknown_parameters_error(type(self).__name__, unknown, accepted)

    def _params_for(self, prefix: str) -> dict:
        start = prefix + "__"
        return {k[len(start) :]: v for k, v in vars(self).items() if k.startswith(start)}

    def _check_params(self, X=None) -> tuple[type, type | torch.nn.Module]:
        """Every parameter, before any work: the declared constraints (``_parameter_constraints``, the names
        of the transfer method and the student, then their declarations for ``transfer__*`` and
        ``module__*``) and the rules that join two parameters. Each failure is an ``InvalidParameterError``.
        Returns the transfer method's class and the student (a class, or the instance given); ``module="auto"``
        looks at X (raw texts take the static student)."""
        unknown = [k for k in self._extra_param_names() if not _is_prefixed(k)]
        if unknown:
            raise self._unknown_params_error(unknown)
        self._validate_params()
        transfer_cls = get_transfer(self.transfer)
        student_cls = (
            self.module if isinstance(self.module, torch.nn.Module) else get_student(self._module_name(transfer_cls, X))
        )
        owner = type(self).__name__
        transfer_cls.check_params(self._params_for("transfer"), owner=owner, prefix="transfer__")
        if isinstance(student_cls, type):
            check_declared(student_cls, self._params_for("module"), owner, prefix="module__")
        if self.accelerator is not None and _OPTIMIZERS.get(self.optimizer) is torch.optim.LBFGS:
            raise InvalidParameterError(
                f"The 'optimizer' parameter of {owner} cannot be 'lbfgs' under an accelerator (skorch's "
                "AccelerateMixin has no closure optimizers); use optimizer='adam'"
            )
        return transfer_cls, student_cls

    # -- fitting -------------------------------------------------------------------------------------
    def _validate_X(self, X, reset: bool, student):
        """Check the student's input against what the student (class or instance) declares: its
        ``input_ndim``, and a ``prepare_input`` that checks and lays out image-like input itself."""
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
        traits = student_traits(student)
        if traits.input_kind == "text":  # raw texts: the built student checks and tokenises them
            if isinstance(student, torch.nn.Module):
                return student.tokenize(X)
            texts = check_texts_input(X, type(self).__name__)
            if len(texts) < 2:
                raise ValueError(f"fit needs at least 2 texts; got {len(texts)}")
            return texts
        input_ndim, prepare = traits.input_ndim, traits.prepare_input
        if prepare is not None and getattr(X, "ndim", 2) > 2:
            X = prepare(np.asarray(X))  # images: no n_features_in_; the student checks layout, dtype and range
            if reset and X.shape[0] < 2:
                raise ValueError(f"fit needs at least 2 samples; X has {X.shape[0]}")
        else:
            if getattr(X, "ndim", 2) > 2:
                self._check_rank(X, input_ndim)  # before scikit-learn's less specific message
            try:
                X = validate_data(
                    self,
                    X,
                    reset=reset,
                    accept_sparse="csr",
                    allow_nd=input_ndim != 2,
                    dtype=np.float32,
                    ensure_min_samples=1 if not reset else 2,
                )
            except ValueError as error:
                if "could not convert string to float" not in str(error) and "Expected 2D array" not in str(error):
                    raise
                if not holds_text(X):
                    raise
                name = type(self).__name__
                raise ValueError(
                    f"{name}'s student takes numeric features, and X holds text ({error}). Vectorise it first, "
                    f"e.g. make_pipeline(TfidfVectorizer(), {name}(...)); for a table with text columns, "
                    "make_column_transformer((TfidfVectorizer(), 'text_column'), ...) in front of the estimator. "
                    "A text teacher then takes the raw texts as teacher_input. Or train the static student on the "
                    f"raw texts: {name}(teacher=SentenceEmbedder()) (its table is distilled from the teacher), or "
                    "module='static', module__source=<a model2vec or sentence-transformers folder>"
                ) from error
        self._check_rank(X, input_ndim)
        return X

    def _check_rank(self, X, input_ndim: int | None) -> None:
        if input_ndim is not None and X.ndim != input_ndim:
            hint = ". Images need an image student, e.g. module='timm'" if input_ndim == 2 else ""
            raise ValueError(
                f"the student module={self.module!r} takes {input_ndim}-D input; X has shape {X.shape}{hint}"
            )

    def _fit_transactional(self, X, y, teacher_features, teacher_input):
        # A failed fit leaves a previously fitted estimator exactly as it was.
        before = dict(vars(self))
        try:
            return self._fit(X, y, teacher_features, teacher_input)
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise

    def _teacher_features(self, X_raw, teacher_input, n_samples: int):
        """Features of the ``teacher`` parameter for the rows being fitted (cached per sample with ``memory``)."""
        raw = X_raw if teacher_input is None else teacher_input
        if _num_samples(raw) != n_samples:
            raise ValueError(
                f"teacher_input has {_num_samples(raw)} samples but X has {n_samples}: give the teacher one "
                "input per row of X, in the same order"
            )
        teacher = self._teacher_instance()
        check_text_teacher_input(teacher, raw, given=teacher_input is not None, estimator=type(self).__name__)
        self._say(f"embedding {n_samples} rows with the teacher {type(teacher).__name__}")
        return embed(teacher, raw, memory=self.memory)

    def _fit(self, X, y, teacher_features, teacher_input):
        transfer_cls, student_cls = self._check_params(X)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        if self.teacher is not None and teacher_features is not None:
            raise ValueError(
                "got both teacher=... and teacher_features: give the teacher (its features are computed from X, "
                "or from teacher_input) or precomputed teacher_features, not both"
            )
        if teacher_input is not None and self.teacher is None:
            raise ValueError("teacher_input is what the teacher embeds: it needs the teacher parameter to be set")
        X_raw = X
        X = self._validate_X(X, reset=True, student=student_cls)
        n_samples = _num_samples(X)
        y_train = self._prepare_targets(y, n_samples)
        if self.teacher is not None and transfer_cls.requires_teacher:
            teacher_features = self._teacher_features(X_raw, teacher_input, n_samples)
        blocks = ()
        if teacher_features is not None:
            teacher_features, blocks = validate_teacher_features(teacher_features, n_samples)
        if not transfer_cls.requires_teacher:
            teacher_features, blocks = None, ()
        # The method that runs, decided once: without teacher features, the task loss alone.
        method_cls = transfer_cls if teacher_features is not None else NoTransfer
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        device = str(self.accelerator.device) if self.accelerator is not None else resolve_device(self.device)
        fork_devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
        with torch.random.fork_rng(devices=fork_devices):
            torch.manual_seed(seed)
            module = self._build_student(student_cls, X.shape[1] if getattr(X, "ndim", 1) > 1 else None)
            probe_X = X
            if student_traits(module).input_kind == "text":
                # the student's batches are token ids; what its input knows unaided is its frozen pooled view
                X = module.tokenize(X)
                probe_X = module.pooled(X)
            transfer = self._build_transfer(method_cls, module, X, blocks)
            transfer_targets = None
            uses_input = teacher_features is not None and transfer.uses_student_input
            auto_penalty = self._has_auto_penalty(module)
            transfer_set = teacher_features is not None and not complete_rows(y_train).all()
            probe = None
            if uses_input or auto_penalty:
                probe = self._probe_input(probe_X, y_train, seed, transfer_set)
            if auto_penalty:
                self._choose_penalty(module, probe, transfer_set)
            if teacher_features is not None:  # what the term compares the student with (e.g. a teacher head's logits)
                width = teacher_features.shape[1]
                self._say(f"fitting the targets of transfer={self.transfer!r} on {width} teacher features")
                extra = {"student_input": probe} if uses_input else {}
                transfer_targets = transfer.fit_targets(teacher_features, y_train, seed, task=self._task, **extra)
                transfer_targets = np.asarray(transfer_targets, dtype=np.float32)
                if auto_penalty:
                    self._choose_transfer_set_penalty(module, transfer, X, transfer_targets, seed)
            sparse_batches = student_traits(student_cls).accepts_sparse
            dataset = TransferDataset(X, y_train, transfer_targets, sparse_batches=sparse_batches)
            labeled = dataset.labeled
            if transfer_targets is None and not labeled.all():  # unlabeled rows carry nothing without a teacher
                warnings.warn(
                    f"{int((~labeled).sum())} rows of y are marked unlabeled ({self._marker}) and go unused: they "
                    "train the student only through a teacher's features (and a transfer method other than "
                    f"'none'). If {self._marker} is a real {self._target_name} here, recode it.",
                    UserWarning,
                    stacklevel=4,
                )
                dataset = TransferDataset(X[labeled], y_train[labeled], sparse_batches=sparse_batches)
            elif not labeled.all() and not transfer.uses_unlabeled_rows:
                # the method set its teacher aside: the student learns the labeled rows alone, as it would
                # without unlabeled rows (their own L2 strength included)
                dataset = TransferDataset(
                    X[labeled], y_train[labeled], transfer_targets[labeled], sparse_batches=sparse_batches
                )
                if auto_penalty:
                    self._choose_penalty(module, probe, transfer_set=False)
            optimizer, full_batch = self._resolve_optimizer(module, len(dataset))
            net = self._build_net(module, transfer, device, seed, dataset, optimizer, full_batch)
            self._say(
                f"training the student {type(module).__name__} on {len(dataset)} rows with {optimizer.__name__} "
                f"({net.max_epochs} epochs) on {device}"
            )
            net.fit(dataset, None)
        # The fitted model keeps the student, not the training state: training-only parts of the method
        # (Talking Models' adapters) go, and the optimizer restarts empty (no moments, no released parameters).
        net.transfer_.release()
        net.initialize_optimizer()
        if self.accelerator is not None:  # unwrapped after training: an ordinary net on the accelerator's device
            net.device = device

        self.net_ = net
        self.transfer_ = net.transfer_
        self.teacher_blocks_ = blocks
        return self

    def _build_student(self, student_cls, n_features: int | None) -> torch.nn.Module:
        if isinstance(student_cls, torch.nn.Module):  # an instance: its weights are the initialisation
            return copy.deepcopy(student_cls)
        kwargs = self._params_for("module")
        accepted = inspect.signature(student_cls).parameters
        given = (("input_dim", n_features), ("output_dim", self._n_outputs()), ("task", self._task))
        if "source" in accepted and kwargs.get("source") is None:  # the static student: the teacher's model
            given += (("source", self._teacher_source()),)
        if "memory" in accepted:
            given += (("memory", self.memory),)
        for name, value in given:
            if name in accepted and kwargs.get(name) is None:
                kwargs[name] = value
        try:
            return student_cls(**kwargs)
        except InvalidParameterError:
            raise
        except TypeError as exc:
            raise TypeError(f"could not build module={self.module!r} with module__ parameters {kwargs}: {exc}") from exc

    def _teacher_instance(self):
        """The ``teacher`` parameter as an instance (a registered name is built without arguments), or None."""
        if not isinstance(self.teacher, str):
            return self.teacher
        try:
            return get_teacher(self.teacher)()
        except TypeError as exc:
            raise TypeError(
                f"teacher={self.teacher!r} cannot be built without arguments ({exc}); pass an instance, e.g. "
                f"teacher={get_teacher(self.teacher).__name__}(...)"
            ) from exc

    def _has_text_source(self) -> bool:
        """A table for the static student: ``module__source``, or a teacher with a model to distil."""
        if getattr(self, "module__source", None) is not None:
            return True
        return hasattr(self._teacher_instance(), "static_source")

    def _teacher_source(self):
        """The folder of the text teacher's model, from which the static student's table is distilled."""
        teacher = self._teacher_instance()
        if teacher is None:
            return None
        source = getattr(teacher, "static_source", None)
        if source is None:
            raise InvalidParameterError(
                f"the static student takes its token table from a text teacher's model, and the teacher "
                f"{type(teacher).__name__} has none to distil (no static_source()). Pass module__source=<a model2vec "
                "or sentence-transformers folder>, or use teacher=SentenceEmbedder(...)"
            )
        return source()

    def _build_transfer(self, method_cls, module, X, blocks):
        """The transfer method for this student and these teacher blocks (``NoTransfer`` without a teacher)."""
        student_dim = student_traits(module).feature_dim
        if student_dim is None:  # ask the module: one forward pass on two rows
            probe = X[:2].toarray() if sp.issparse(X) else X[:2]
            was_training = module.training
            module.eval()
            with torch.no_grad():
                out = module(torch.from_numpy(np.ascontiguousarray(probe)))
            module.train(was_training)
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise TypeError("the student module must return a tuple (output, features) from forward")
            student_dim = int(out[1].shape[1])
        if method_cls is NoTransfer:
            return NoTransfer()
        params = self._params_for("transfer")
        try:
            return method_cls(student_dim=student_dim, teacher_dims=blocks, **params)
        except InvalidParameterError:
            raise
        except TypeError as exc:
            raise TypeError(
                f"transfer={self.transfer!r} does not accept transfer__ parameters {params}: {exc}"
            ) from exc

    def _module_name(self, transfer_cls, X=None):
        """``module="auto"``: the static student for raw texts, else the student the transfer method asks for
        (linear, or the MLP for feature methods)."""
        if isinstance(self.module, str) and self.module == "auto":
            if X is not None and holds_raw_texts(X) and self._has_text_source():
                return "static"
            return getattr(transfer_cls, "default_student", "mlp")
        return self.module

    def _say(self, message: str) -> None:
        """One line per phase of fit when ``verbose`` (scikit-learn's ``[Estimator] ...`` style, on stdout)."""
        if self.verbose:
            print(f"[{type(self).__name__}] {message}", flush=True)

    def _probe_input(self, X, y_train: np.ndarray, seed: int, transfer_set: bool):
        """The cross-validated linear model on the labeled rows of X (2-D X only); see the subclasses.
        ``transfer_set``: unlabeled rows carry teacher targets, and the probe serves to weigh the teacher."""
        raise NotImplementedError

    def _has_auto_penalty(self, module) -> bool:
        """Whether the student's L2 strength is the estimator's to choose (the linear student's "auto")."""
        raise NotImplementedError

    def _choose_penalty(self, module, probe, transfer_set: bool) -> None:
        """Set the student's "auto" L2 strength from the input probe (``transfer_set``: unlabeled rows
        carry teacher targets)."""
        raise NotImplementedError

    def _choose_transfer_set_penalty(self, module, transfer, X, transfer_targets: np.ndarray, seed: int) -> None:
        """Once the transfer method's targets are known: revise the "auto" L2 strength for them (no-op here)."""

    def _resolve_optimizer(self, module, n_rows: int) -> tuple[type, bool]:
        """The optimizer class, and whether it trains on the whole training set as one batch (L-BFGS)."""
        traits = student_traits(module)
        if self.optimizer == "auto":
            full = traits.full_batch and n_rows <= FULL_BATCH_MAX_ROWS and self.accelerator is None
            optimizer = torch.optim.LBFGS if full else torch.optim.Adam
        else:
            optimizer = _OPTIMIZERS.get(self.optimizer, self.optimizer)
        if optimizer is torch.optim.Adam and traits.sparse_gradients:  # Adam refuses sparse gradients
            optimizer = SparseDenseAdam
        return optimizer, issubclass(optimizer, torch.optim.LBFGS)

    def _n_epochs(self, dataset: TransferDataset, full_batch: bool = False) -> int:
        if self.max_epochs != "auto":
            return self.max_epochs
        if full_batch:
            return LBFGS_EPOCHS
        steps_per_epoch = len(MixedBatchSampler(dataset.labeled, self.batch_size, self.labeled_fraction))
        return max(1, -(-AUTO_STEPS // max(steps_per_epoch, 1)))

    def _build_net(
        self, module, transfer, device: str, seed: int, dataset: TransferDataset, optimizer: type, full_batch: bool
    ) -> TransferNet:
        callbacks = list(self.callbacks or [])
        if self.verbose and self.verbose > 1:  # per batch: noise at one line per phase and epoch
            callbacks.append(("progress_bar", ProgressBar()))
        prefixed = {k: v for k, v in vars(self).items() if k.startswith(("optimizer__", "iterator_", "callbacks__"))}
        lr = self.lr
        if lr == "auto":
            lr = _DEFAULT_LR.get(optimizer, student_traits(module).default_lr or 1e-3)
        labeled_fraction = self.labeled_fraction
        if full_batch:  # one batch of every row per epoch; L-BFGS's line search, a few iterations per epoch
            prefixed = {
                "optimizer__line_search_fn": "strong_wolfe",
                "optimizer__max_iter": LBFGS_ITERATIONS,
                "optimizer__tolerance_change": 1e-7,  # on a mean loss of order 1: converged for prediction
                **prefixed,
            }
            prefixed.setdefault("iterator_train__batch_size", len(dataset))
            labeled_fraction = 1.0
        net_class, placement = TransferNet, {"device": device}
        if self.accelerator is not None:
            # The accelerator places modules and batches (skorch's device=None) and shards the batches.
            # skorch prints the epoch table through accelerator.print whatever verbose says; plain print
            # keeps verbose=0 quiet (and accelerator.print, main process only, is used when verbose).
            net_class = AcceleratedTransferNet
            placement = {
                "device": None,
                "accelerator": self.accelerator,
                "callbacks__print_log__sink": "auto" if self.verbose else print,
            }
        return net_class(
            module=module,
            criterion=self._criterion(),
            transfer=transfer,
            optimizer=optimizer,
            lr=lr,
            max_epochs=self._n_epochs(dataset, full_batch),
            batch_size=self.batch_size,
            iterator_train=train_loader,
            iterator_train__labeled_fraction=labeled_fraction,
            iterator_train__seed=seed,
            iterator_valid=predict_loader,
            train_split=None,
            callbacks=callbacks or None,
            verbose=self.verbose,
            **placement,
            **prefixed,
        )

    # -- prediction ----------------------------------------------------------------------------------
    def _forward_outputs(self, X) -> np.ndarray:
        """Student outputs (after the criterion's non-linearity) for X; never touches a teacher."""
        check_is_fitted(self, "net_")
        X = self._validate_X(X, reset=False, student=self.net_.module_)
        sparse_batches = student_traits(self.net_.module_).accepts_sparse
        return self.net_.predict_proba(TransferDataset(X, sparse_batches=sparse_batches))

    @property
    def history_(self):
        """The skorch history of the last fit (per epoch: train_loss, task_loss, transfer_loss, ...)."""
        check_is_fitted(self, "net_")
        return self.net_.history

    def trim_for_prediction(self):
        """Drop what only training needs, in place: the optimizer's state, the history and the transfer
        method's fitted state (teacher heads, AFT's weights), and the second copy of the student that the
        pickle of a skorch net holds (the module parameter, next to the initialised ``module_``). Predictions
        are unchanged; the pickle of an MLP student halves. After it, ``history_`` is empty and
        ``transfer_`` is None; ``fit`` trains afresh as before.

        Returns
        -------
        self
            The trimmed estimator.

        Examples
        --------
        >>> import pickle
        >>> import numpy as np
        >>> from sklearn_aft import AFTClassifier
        >>> X = np.random.default_rng(0).normal(size=(60, 20)).astype(np.float32)
        >>> clf = AFTClassifier(module="mlp", transfer="none", max_epochs=2, random_state=0).fit(X, X[:, 0] > 0)
        >>> before = len(pickle.dumps(clf))
        >>> proba = clf.predict_proba(X)
        >>> after = len(pickle.dumps(clf.trim_for_prediction()))
        >>> after < before, bool(np.allclose(clf.predict_proba(X), proba))
        (True, True)
        """
        from skorch.history import History

        check_is_fitted(self, "net_")
        net = self.net_
        # skorch pickles its initialised parts (module_, optimizer_, ...) apart from its parameters, so the
        # student instance passed as the module parameter was saved a second time: keep its class only.
        net.module = type(net.module_)
        net.optimizer_ = None
        net.history = History()
        net.transfer = net.transfer_ = NoTransfer()
        self.transfer_ = None
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.non_deterministic = False
        return tags
