"""Retrieval-augmented transfer sets: the pool rows nearest to the labeled rows, in teacher-feature space.

Task-oriented transfer (Vemulapalli et al., 2024) found that the transfer set's distribution matters: an
in-domain set retrieved from a large pool with the labeled rows as queries beat a random one. The helper
returns pool indices; the chosen rows join the labeled ones as unlabeled rows (label ``-1``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_array

from sklearn_aft._constraints import Integral, Number, Real, validate_params


@validate_params(
    {
        "queries": ["array-like"],
        "pool": ["array-like"],
        "budget": [Number(Integral, 1, None, closed="left"), None],
        "n_neighbors": [Number(Integral, 1, None, closed="left"), None],
        "exclude": ["array-like", None],
        "exclude_similarity": [Number(Real, -1, 1, closed="both")],
    },
    prefer_skip_nested_validation=True,
)
def retrieve_transfer_set(
    queries: ArrayLike,
    pool: ArrayLike,
    *,
    budget: int | None = None,
    n_neighbors: int | None = None,
    exclude: ArrayLike | None = None,
    exclude_similarity: float = 0.95,
) -> np.ndarray:
    """Indices of the pool rows most similar (cosine) to the queries, de-duplicated.

    Each query takes its ``k`` nearest pool rows, with ``k = budget // n_queries`` (the paper's scheme)
    or ``n_neighbors``; the union is returned, sorted. Pool rows closer than ``exclude_similarity`` to
    any row of ``exclude`` (e.g. the test set's teacher features) are dropped first, so that the
    transfer set does not leak evaluation data. A pool that contains the labeled rows themselves returns
    them too (each query is its own nearest neighbour): pass them in ``exclude`` as well.

    Parameters
    ----------
    queries : array-like of shape (n_queries, d)
        Teacher features of the labeled rows.
    pool : array-like of shape (n_pool, d)
        Teacher features of the candidate unlabeled rows.
    budget : int, default=None
        About how many rows to return (before de-duplication; at least one per query); give this or
        ``n_neighbors``.
    n_neighbors : int, default=None
        Neighbours per query.
    exclude : array-like of shape (n_exclude, d), default=None
        Rows whose near-duplicates must not be returned.
    exclude_similarity : float, default=0.95
        Cosine similarity above which a pool row counts as a near-duplicate of an excluded row.

    Returns
    -------
    ndarray of int, sorted
        Row indices into ``pool``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_aft.retrieval import retrieve_transfer_set
    >>> pool = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.0]])
    >>> retrieve_transfer_set([[1.0, 0.05]], pool, n_neighbors=2)
    array([0, 1])
    >>> retrieve_transfer_set([[1.0, 0.05]], pool, n_neighbors=2, exclude=[[1.0, 0.0]], exclude_similarity=0.999)
    array([1, 2])
    """
    queries = check_array(queries, dtype=np.float64, input_name="queries")
    pool = check_array(pool, dtype=np.float64, input_name="pool")
    if queries.shape[1] != pool.shape[1]:
        raise ValueError(f"queries have {queries.shape[1]} features but the pool has {pool.shape[1]}")
    if (budget is None) == (n_neighbors is None):
        raise ValueError("give either budget (rows in all) or n_neighbors (rows per query)")
    k = n_neighbors if n_neighbors is not None else max(1, budget // len(queries))
    candidates = np.arange(len(pool))
    if exclude is not None:
        exclude = check_array(exclude, dtype=np.float64, input_name="exclude")
        nearest = NearestNeighbors(n_neighbors=1, metric="cosine").fit(exclude)
        distance, _ = nearest.kneighbors(pool)
        candidates = candidates[1.0 - distance[:, 0] <= exclude_similarity]
    if not len(candidates):
        return candidates
    index = NearestNeighbors(n_neighbors=min(int(k), len(candidates)), metric="cosine").fit(pool[candidates])
    _, neighbours = index.kneighbors(queries)
    return np.unique(candidates[neighbours.ravel()])
