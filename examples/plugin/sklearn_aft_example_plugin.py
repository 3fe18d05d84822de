"""An example sklearn-aft plugin: a transfer method, a teacher and a student, found through entry points."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sklearn_aft.students import Student
from sklearn_aft.teachers import BaseTeacher, check_texts
from sklearn_aft.transfer import TransferMethod


class CosineMatch(TransferMethod):
    """1 - cosine similarity between the student's features and a learned projection of the teacher's."""

    def __init__(self, student_dim, teacher_dims, *, beta=1.0, lr=None, warmup=0.0):
        super().__init__(student_dim, teacher_dims, beta=beta, lr=lr, warmup=warmup)
        self.projection = nn.Linear(self.teacher_dim, self.student_dim)

    def forward(self, student_features, teacher_features):
        return (1 - F.cosine_similarity(student_features, self.projection(teacher_features), dim=1)).mean()


class CharCounts(BaseTeacher):
    """A (very small) text teacher: counts of letters, digits, spaces and punctuation per text."""

    def __init__(self, batch_size=256, verbose=0):
        self.batch_size = batch_size
        self.verbose = verbose

    def validate_input(self, X, reset=False):
        return check_texts(X, type(self).__name__)

    def find_embedding_dim(self, inputs):
        return 4

    def load_model(self):
        return None  # nothing to load

    def embed_batch(self, model, batch):
        kinds = (str.isalpha, str.isdigit, str.isspace, lambda c: not c.isalnum() and not c.isspace())
        return np.array([[sum(map(kind, text)) for kind in kinds] for text in batch], dtype=np.float32)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags


class LinearStudent(Student):
    """A linear student; its features are its input."""

    input_ndim = 2  # feature matrices only (see sklearn_aft.students.Student for what else a student declares)

    def __init__(self, input_dim, output_dim):
        super().__init__()
        self.linear = nn.Linear(input_dim, output_dim)
        self.feature_dim = input_dim

    def forward(self, X: torch.Tensor):
        return self.linear(X), X
