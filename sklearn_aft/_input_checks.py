"""Checks of what reaches the student and the teacher, with errors that say how to route the data.

Raw texts given where the student takes numbers (vectorise them first), and a numeric matrix given to a
text teacher (in a pipeline X reaches the estimator already vectorised: route the texts as
``teacher_input``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.utils import get_tags


def holds_text(X) -> bool:
    """Whether X is (or contains a column of) strings: raw texts given where numeric features belong."""
    if hasattr(X, "dtypes"):  # a DataFrame
        return any(getattr(dtype, "kind", "") == "O" or str(dtype) in ("string", "str") for dtype in X.dtypes)
    values = np.asarray(X, dtype=object) if not sp.issparse(X) else None
    if values is None or not values.size:
        return False
    return any(isinstance(v, str) for v in values.ravel()[:1000])


def holds_raw_texts(X) -> bool:
    """Whether X is a 1-D sequence of texts (list, tuple, 1-D array or Series of str): the static student's
    input, which ``module="auto"`` routes to it."""
    if isinstance(X, str) or sp.issparse(X) or hasattr(X, "columns"):
        return False
    if hasattr(X, "ndim") and X.ndim != 1:
        return False
    try:
        head = list(X[:100] if not hasattr(X, "iloc") else X.iloc[:100])
    except (IndexError, KeyError, TypeError):
        return False
    return any(isinstance(value, str) for value in head)


def check_text_teacher_input(teacher, raw, given: bool, estimator: str) -> None:
    """A text teacher handed a numeric matrix (e.g. a TfidfVectorizer's output in a pipeline) would fail
    deep inside its library: say what happened and how to route the raw texts."""
    tags = get_tags(teacher)
    if not tags.input_tags.string or tags.input_tags.two_d_array:
        return
    numeric = sp.issparse(raw) or (isinstance(raw, np.ndarray) and raw.dtype.kind in "iufb" and raw.ndim == 2)
    if not numeric:
        return
    what = "a scipy sparse matrix" if sp.issparse(raw) else f"a numeric array of shape {raw.shape}"
    source = "teacher_input" if given else "X"
    step = estimator.lower()
    raise TypeError(
        f"The text teacher {type(teacher).__name__} got {what} from {source}, not texts. In a pipeline X reaches the "
        "student already vectorised, so route the raw texts to the teacher as teacher_input: "
        f"{estimator}(teacher=...).set_fit_request(teacher_input=True) and "
        f"pipe.fit(texts, y, teacher_input=texts) with sklearn.set_config(enable_metadata_routing=True), or, "
        f"without routing, pipe.fit(texts, y, {step}__teacher_input=texts)"
    )
