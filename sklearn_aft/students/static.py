"""A text student that inherits the teacher's knowledge of words: a static token-embedding table, mean-pooled.

The table comes from the teacher itself (model2vec's data-free distillation of a sentence-transformers model)
or from a model2vec folder, and is trained end to end with the head: the student starts where the teacher's
words are, and is cheap at prediction (tokenise, look up, average, one matrix product).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import joblib
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sklearn_aft._constraints import Integral, InvalidParameterError, Number, Real
from sklearn_aft._static_table import StaticTable, load_static_table
from sklearn_aft.registry import register_student
from sklearn_aft.students.base import Student
from sklearn_aft.teachers.base import as_1d_sequence

#: What ``module="static"`` needs when neither ``module__source`` nor a text teacher names a model.
NO_SOURCE = (
    "the static student needs a model to take its token table from: pass module__source=<a model2vec or "
    "sentence-transformers folder>, or teacher=SentenceEmbedder() (its model is distilled)"
)


@dataclass(frozen=True)
class TokenizedTexts:
    """Texts as token ids, ragged: the ids of text ``i`` are ``ids[offsets[i]:offsets[i + 1]]``.

    What a text student's batches are cut from: indexing by rows gives another ``TokenizedTexts``, and
    :meth:`batch` one padded id matrix (``pad_id`` fills the rows; skorch needs one tensor per batch).
    """

    ids: np.ndarray
    offsets: np.ndarray
    pad_id: int

    @property
    def shape(self) -> tuple[int]:
        return (len(self.offsets) - 1,)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __getitem__(self, rows) -> TokenizedTexts:
        rows = np.arange(len(self))[rows]
        starts, lengths = self.offsets[:-1][rows], self.lengths[rows]
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        take = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        return TokenizedTexts(self.ids[take], offsets, self.pad_id)

    def batch(self) -> torch.Tensor:
        """The ids as an ``(n_texts, longest)`` matrix, ``pad_id`` after each text's tokens (at least one column)."""
        lengths = self.lengths
        out = np.full((len(self), max(1, int(lengths.max(initial=0)))), self.pad_id, dtype=np.int64)
        rows = np.repeat(np.arange(len(self)), lengths)
        cols = np.arange(len(self.ids)) - np.repeat(self.offsets[:-1], lengths)
        out[rows, cols] = self.ids
        return torch.from_numpy(out)


def check_texts_input(X, owner: str) -> list[str]:
    """X as a list of str (list, tuple, 1-D array, Series or one-column frame); a clear error otherwise."""
    values = list(as_1d_sequence(X, name=owner, kind="texts"))
    for i, text in enumerate(values):
        if not isinstance(text, str):
            missing = text is None or (isinstance(text, float) and np.isnan(text))
            fix = "fill them first, e.g. X.fillna('')" if missing else "convert them with str, or drop the row"
            raise TypeError(
                f"{owner} takes texts, but item {i} of X is {type(text).__name__} {text!r}: {fix}. Numeric "
                "features belong to module='linear' or 'mlp'"
            )
    return values


@register_student("static")
class StaticStudent(Student):
    """Text student: a token-embedding table taken from the teacher, mean-pooled, L2-normalised, then a head.

    ``forward`` returns ``(output, features)``: the features are the pooled (normalised) text embedding,
    which transfer methods compare with the teacher's. The whole table trains with the head, with sparse
    gradients: a batch updates only the rows of the tokens it holds.

    The estimators give it raw texts as X (list, 1-D array or Series of str) and tokenise them with
    :meth:`tokenize`; ``module="auto"`` picks it when X holds texts.

    Parameters
    ----------
    output_dim : int
        Number of outputs; the estimators set it.
    source : str, path or None, default=None
        Where the table comes from: a model2vec folder (read as it is) or a sentence-transformers folder
        (distilled with model2vec's ``distill``, data-free, once per folder and ``pca_dims``). None: the
        estimators fill in the model of a :class:`~sklearn_aft.teachers.SentenceEmbedder` teacher.
    pca_dims : int or None, default=256
        Width of a distilled table; None keeps the teacher's width. Ignored for a model2vec folder.
    hidden_sizes : sequence of int, default=()
        Hidden layers of the head (ReLU); empty: one linear layer on the pooled embedding.
    dropout : float, default=0.0
        Dropout on the pooled embedding before the head.
    max_tokens : int, default=512
        Tokens per text; a longer text counts by its first ``max_tokens`` tokens (as model2vec's encode).
    freeze : bool, default=False
        Keep the table fixed and train the head alone.
    ngram_buckets : int, default=0
        The hybrid: a linear model on the texts' token uni- and bigrams, hashed into this many buckets, added
        to the head's outputs (what TF-IDF sees where the table's mean blurs it, e.g. question words). 0: the
        table alone (the only form :func:`~sklearn_aft.export.to_static_pipeline` exports).
    memory : None, str, path or joblib.Memory, default=None
        Disk cache of the distilled table; the estimators pass their own ``memory``.
    task : {"classification", "regression"}, default="classification"
        Set by the estimators (unused: the head is the same).

    Attributes
    ----------
    tokenizer : tokenizers.Tokenizer
        The table's tokenizer.
    feature_dim : int
        Width of the table (the features).

    Examples
    --------
    >>> from sklearn_aft.students import StaticStudent
    >>> student = StaticStudent(output_dim=2)  # doctest: +SKIP
    >>> batch = student.tokenize(["a fine film", "a dull one"]).batch()  # doctest: +SKIP
    >>> [tuple(t.shape) for t in student(batch)]  # doctest: +SKIP
    [(2, 2), (2, 256)]
    """

    parameter_constraints = {
        "source": [str, os.PathLike, None],
        "pca_dims": [Number(Real, 2, None, closed="left"), None],
        "hidden_sizes": ["array-like"],
        "dropout": [Number(Real, 0, 1, closed="left")],
        "max_tokens": [Number(Integral, 1, None, closed="left")],
        "freeze": ["boolean"],
        "ngram_buckets": [Number(Integral, 0, None, closed="left")],
        "memory": [str, os.PathLike, joblib.Memory, None],
    }
    #: X is raw text: the estimators check it with :func:`check_texts_input` and tokenise it with the module.
    input_kind = "text"
    #: The table's gradients are sparse (the rows of a batch's tokens): Adam becomes
    #: :class:`~sklearn_aft.SparseDenseAdam` (torch's SparseAdam for the table), 10x faster a step.
    sparse_gradients = True
    #: Adam's step for ``lr="auto"``. 1e-2 (the rate of model2vec-style fine-tuning in the issue's trial) moved
    #: the table too far from the teacher's vectors: TREC, 100 labels + 1,900 unlabeled, 0.628 against 0.680 at
    #: 1e-3 (5e-4: 0.674; head at 1e-2 and table at 1e-3: 0.634); ``benchmarks/results/static.md`` has both.
    default_lr = 1e-3

    def __init__(
        self,
        output_dim: int,
        source=None,
        *,
        pca_dims: int | None = 256,
        hidden_sizes: Sequence[int] = (),
        dropout: float = 0.0,
        max_tokens: int = 512,
        freeze: bool = False,
        ngram_buckets: int = 0,
        memory=None,
        task: str = "classification",
    ) -> None:
        super().__init__()
        if source is None:
            raise InvalidParameterError(NO_SOURCE)
        table: StaticTable = load_static_table(
            source, pca_dims=None if pca_dims is None else int(pca_dims), memory=memory
        )
        from tokenizers import Tokenizer

        self.source = str(source)
        self.max_tokens = int(max_tokens)
        self.tokenizer = Tokenizer.from_str(table.tokenizer_json)
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        vocab = self.tokenizer.get_vocab()
        unk = getattr(self.tokenizer.model, "unk_token", None)
        self.unk_token_id = vocab.get(unk) if unk is not None else None
        # model2vec cuts a text at max_tokens times the median token length before tokenising it
        self.median_token_length = int(np.median([len(token) for token in vocab]))
        # one more row, zero and never trained, pads the batches: EmbeddingBag leaves it out of the mean
        vectors = np.vstack([table.vectors, np.zeros((1, table.dim), dtype=np.float32)])
        self.pad_id = len(table.vectors)
        self.embedding = nn.EmbeddingBag.from_pretrained(
            torch.from_numpy(vectors), freeze=bool(freeze), mode="mean", sparse=True, padding_idx=self.pad_id
        )
        self.feature_dim = table.dim
        layers: list[nn.Module] = []
        width = table.dim
        for h in hidden_sizes:
            layers += [nn.Linear(width, int(h)), nn.ReLU()]
            width = int(h)
        self.body = nn.Sequential(*layers)
        self.dropout = nn.Dropout(float(dropout))
        self.head = nn.Linear(width, int(output_dim))
        # the sparse side of the hybrid: a linear model on hashed token uni- and bigrams, straight to the outputs
        # (what TF-IDF + logistic regression sees), added to the table's head; starts at zero
        self.ngram_buckets = int(ngram_buckets)
        self.ngrams = None
        if self.ngram_buckets:
            self.ngrams = nn.EmbeddingBag(
                self.ngram_buckets + 1, int(output_dim), mode="mean", sparse=True, padding_idx=self.ngram_buckets
            )
            nn.init.zeros_(self.ngrams.weight)

    # -- texts to tokens ------------------------------------------------------------------------------
    def tokenize(self, texts: Sequence[str]) -> TokenizedTexts:
        """Token ids of ``texts``, as model2vec's ``StaticModel.encode`` takes them."""
        texts = check_texts_input(texts, type(self).__name__)
        cut = self.max_tokens * self.median_token_length
        encodings = self.tokenizer.encode_batch_fast([t[:cut] for t in texts], add_special_tokens=False)
        lists = []
        for encoding in encodings:
            ids = np.asarray(encoding.ids[: self.max_tokens], dtype=np.int64)
            if self.unk_token_id is not None:
                ids = ids[ids != self.unk_token_id]
            if self.ngram_buckets:  # hashed uni- and bigrams, after the table's ids and above its padding id
                grams = np.concatenate([ids * 7919 + 1, ids[:-1] * 1_000_003 + ids[1:] * 31 + 2])
                ids = np.concatenate([ids, self.pad_id + 1 + grams % self.ngram_buckets])
            lists.append(ids)
        lengths = np.fromiter((len(ids) for ids in lists), np.int64, len(lists))
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        ids = np.concatenate(lists) if lists else np.empty(0, dtype=np.int64)
        return TokenizedTexts(ids.astype(np.int64), offsets, self.pad_id)

    @torch.no_grad()
    def pooled(self, tokens: TokenizedTexts, batch_size: int = 4096) -> np.ndarray:
        """The normalised mean embeddings of tokenised texts (the features), without gradients."""
        out = []
        device = self.embedding.weight.device
        for start in range(0, len(tokens), batch_size):
            batch = tokens[start : start + batch_size].batch()
            out.append(self._pool(batch.to(device)).cpu().numpy())
        return np.concatenate(out) if out else np.empty((0, self.feature_dim), dtype=np.float32)

    def _pool(self, ids: torch.Tensor) -> torch.Tensor:
        # a text with no known token pools to zeros (all padding): the head's bias decides it; n-gram ids
        # (above the padding id) are padding to the table
        ids = torch.where(ids < self.pad_id, ids, self.pad_id)
        return F.normalize(self.embedding(ids), dim=1)

    def forward(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``X``: a padded id matrix (:meth:`TokenizedTexts.batch`)."""
        features = self._pool(X)
        output = self.head(self.dropout(self.body(features)))
        if self.ngrams is not None:
            grams = torch.where(X > self.pad_id, X - self.pad_id - 1, self.ngram_buckets)
            output = output + self.ngrams(grams)
        return output, features
