"""Batches for the private skorch net: student input, targets and transfer targets stay row-aligned.

Sparse inputs reach students that declare ``accepts_sparse`` (the linear student, the MLP) as torch sparse
CSR batches, and other students densified one batch at a time (never the whole matrix). When some rows are unlabeled,
every training batch mixes labeled rows (for the task loss) with unlabeled rows (for the transfer term).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
import torch
from torch.utils.data import BatchSampler, DataLoader, Dataset, Sampler, SequentialSampler

from sklearn_aft._labels import labeled_rows


class TransferDataset(Dataset):
    """Rows of ``X`` (dense float32, uint8 images, CSR, or tokenised texts), optional targets ``y`` and transfer targets
    (what the transfer method's :meth:`~sklearn_aft.transfer.TransferMethod.fit_targets` made of the teacher
    features).

    Indexing by a list of rows (``__getitems__``) returns a whole batch at once:
    ``({"X": tensor, "transfer_targets": tensor}, y_tensor)``.
    """

    def __init__(
        self,
        X,
        y: np.ndarray | None = None,
        transfer_targets: np.ndarray | None = None,
        sparse_batches: bool = False,
    ) -> None:
        self.X = X
        self.y = y
        self.transfer_targets = transfer_targets
        self.sparse_batches = sparse_batches  # CSR rows as torch sparse tensors, for students that take them

    def __len__(self) -> int:
        return self.X.shape[0]

    @property
    def labeled(self) -> np.ndarray:
        """Boolean mask of the rows with a known target (:func:`~sklearn_aft._labels.labeled_rows`)."""
        return np.ones(len(self), dtype=bool) if self.y is None else labeled_rows(self.y)

    def __getitems__(self, indices) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        idx = np.asarray(indices)
        rows = self.X[idx]
        if hasattr(rows, "batch"):  # tokenised texts (TokenizedTexts): one padded id matrix for an EmbeddingBag
            X = {"X": rows.batch()}
        elif sp.issparse(rows) and self.sparse_batches:
            X = {"X": _sparse_tensor(rows)}
        else:
            if sp.issparse(rows):
                rows = rows.toarray()
            # uint8 stays uint8 (images: 4x less memory per batch; image students scale them themselves)
            dtype = np.uint8 if rows.dtype == np.uint8 else np.float32
            X = {"X": torch.from_numpy(np.ascontiguousarray(rows, dtype=dtype))}
        if self.transfer_targets is not None:
            X["transfer_targets"] = torch.from_numpy(np.ascontiguousarray(self.transfer_targets[idx]))
        y = torch.from_numpy(self.y[idx]) if self.y is not None else torch.zeros(len(idx))
        return X, y

    def __getitem__(self, index: int):
        return self.__getitems__([index])


def _sparse_tensor(rows: sp.spmatrix) -> torch.Tensor:
    # CSR to CSR shares the index arrays' layout: no sort and no COO conversion (which cost 5 ms per
    # 3,000-row TF-IDF batch, more than the product itself)
    csr = sp.csr_matrix(rows)
    csr.sum_duplicates()  # canonical: sorted column indices, no duplicates (the invariants torch would check)
    with warnings.catch_warnings():
        # torch warns once per process that its CSR support is "in beta"; the package's own batches are the
        # one place it makes them, and a user's fit on TF-IDF should not print it. Only that message is hidden.
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta", category=UserWarning)
        return torch.sparse_csr_tensor(
            torch.from_numpy(csr.indptr.astype(np.int64)),
            torch.from_numpy(csr.indices.astype(np.int64)),
            torch.from_numpy(csr.data.astype(np.float32, copy=False)),
            size=csr.shape,
            check_invariants=False,  # explicit: the layout is valid by construction (torch warns when left implicit)
        )


class MixedBatchSampler(Sampler[list[int]]):
    """Shuffled training batches; with unlabeled rows, each batch holds both kinds.

    Without unlabeled rows this is a plain shuffled batching whose last batch is dropped only when it
    holds a single row (a one-row batch has no kernel to compare). With unlabeled rows, every batch
    takes ``round(labeled_fraction * batch_size)`` labeled rows (at most all of them) and fills the
    rest with unlabeled rows. An epoch is one pass over the labeled rows, as in plain training; the
    unlabeled rows are drawn without replacement and reshuffled whenever the pool is used up, so they
    are all seen equally often across epochs.
    """

    def __init__(
        self,
        labeled: np.ndarray,
        batch_size: int,
        labeled_fraction: float = 0.5,
        seed: int | None = None,
    ) -> None:
        self.labeled_idx = np.flatnonzero(labeled)
        self.unlabeled_idx = np.flatnonzero(~labeled)
        self.batch_size = int(batch_size)
        self.labeled_fraction = float(labeled_fraction)
        self.rng = np.random.default_rng(seed)
        self._pool: np.ndarray = np.empty(0, dtype=np.int64)

    @property
    def _n_labeled_per_batch(self) -> int:
        if not len(self.unlabeled_idx):
            return self.batch_size
        wanted = max(1, round(self.labeled_fraction * self.batch_size))
        return min(wanted, len(self.labeled_idx), self.batch_size - 1)

    def __len__(self) -> int:
        n, per = len(self.labeled_idx), self._n_labeled_per_batch
        if len(self.unlabeled_idx):
            return math.ceil(n / per)
        return n // per + (n % per > 1)

    def _next_unlabeled(self, k: int) -> np.ndarray:
        taken = []
        while k > 0:
            if not len(self._pool):
                self._pool = self.rng.permutation(self.unlabeled_idx)
            taken.append(self._pool[:k])
            k -= len(taken[-1])
            self._pool = self._pool[len(taken[-1]) :]
        return np.concatenate(taken)

    def __iter__(self) -> Iterator[list[int]]:
        per = self._n_labeled_per_batch
        labeled = self.rng.permutation(self.labeled_idx)
        for start in range(0, len(labeled), per):
            chunk = labeled[start : start + per]
            if len(self.unlabeled_idx):
                chunk = np.concatenate([chunk, self._next_unlabeled(self.batch_size - len(chunk))])
            elif len(chunk) < 2:
                continue
            yield chunk.tolist()


def _whole_batch(batch):
    # __getitems__ already returns a collated batch.
    return batch


def train_loader(
    dataset: TransferDataset,
    batch_size: int,
    labeled_fraction: float = 0.5,
    seed: int | None = None,
    **loader_kwargs,
) -> DataLoader:
    """skorch ``iterator_train``: a DataLoader over :class:`MixedBatchSampler` batches."""
    sampler = MixedBatchSampler(dataset.labeled, batch_size, labeled_fraction, seed)
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=_whole_batch, **loader_kwargs)


def predict_loader(dataset: TransferDataset, batch_size: int, **loader_kwargs) -> DataLoader:
    """skorch ``iterator_valid``: ordered batches for prediction."""
    sampler = BatchSampler(SequentialSampler(dataset), batch_size=batch_size, drop_last=False)
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=_whole_batch, **loader_kwargs)
