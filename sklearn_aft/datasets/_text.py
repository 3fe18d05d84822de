"""Text datasets shipped inside the package (see ``data/README.md`` for sources and licenses)."""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

_SUBSETS = ("train", "test", "all")


def _read_text(name: str) -> str:
    return (resources.files(__package__) / "descr" / name).read_text(encoding="utf-8")


def _stratified_test_mask(labels: np.ndarray, test_size: float, seed: int) -> np.ndarray:
    """A fixed stratified split: the same rows for every caller and platform (numpy's PCG64 stream)."""
    rng = np.random.default_rng(seed)
    test = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        test[rng.choice(idx, size=int(round(test_size * len(idx))), replace=False)] = True
    return test


def load_sms_spam(*, subset: str = "all", return_X_y: bool = False, as_frame: bool = False):
    """Load the SMS Spam Collection (binary text classification, 5,574 messages, CC BY 4.0).

    The data ships with the package, so no download happens. Read more in ``DESCR``.

    Parameters
    ----------
    subset : {"all", "train", "test"}, default="all"
        Which rows to return. ``"train"`` (3,902 messages) and ``"test"`` (1,672) are a fixed stratified
        70/30 split, the one the sklearn-aft benchmarks report on.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        Return ``data`` as a pandas DataFrame with one column ``"text"`` and ``target`` as a Series;
        the Bunch then also holds ``frame`` (both columns).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``data`` (list of str, or DataFrame), ``target`` (ndarray of int: 0 ham, 1 spam, or Series),
        ``target_names`` (``["ham", "spam"]``), ``feature_names`` (``["text"]``), ``frame``, ``DESCR``.
    (data, target) : tuple if ``return_X_y`` is True

    Examples
    --------
    >>> from sklearn_aft.datasets import load_sms_spam
    >>> sms = load_sms_spam(subset="train")
    >>> len(sms.data), sms.target.mean().round(3)
    (3902, np.float64(0.134))
    >>> sms.target_names
    ['ham', 'spam']
    """
    if subset not in _SUBSETS:
        raise ValueError(f"subset must be one of {_SUBSETS}, got {subset!r}")
    path = resources.files(__package__) / "data" / "sms_spam.tsv.gz"
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as fh:
        lines = [line.rstrip("\n") for line in fh if line.strip()]
    rows = [line.split("\t", 1) for line in lines[1:]]  # line 0 is the header "Label<TAB>SMS"
    texts = [text for _, text in rows]
    target = np.asarray([int(label == "spam") for label, _ in rows])
    if subset != "all":
        test = _stratified_test_mask(target, test_size=0.3, seed=0)
        keep = test if subset == "test" else ~test
        texts = [t for t, k in zip(texts, keep) if k]
        target = target[keep]
    return _bunch(texts, target, ["ham", "spam"], _read_text("sms_spam.rst"), return_X_y, as_frame)


def _bunch(texts: list[str], target: np.ndarray, target_names: list[str], descr: str, return_X_y: bool, as_frame: bool):
    data, frame = texts, None
    if as_frame:
        import pandas as pd

        frame = pd.DataFrame({"text": texts, "target": target})
        data, target = frame[["text"]], frame["target"]
    if return_X_y:
        return data, target
    return Bunch(data=data, target=target, target_names=target_names, feature_names=["text"], frame=frame, DESCR=descr)
