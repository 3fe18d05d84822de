"""Held-out predictions of a student in the middle of a fit, through the package's public student contract.

A skorch callback gets the estimator's net while ``fit`` runs, before the estimator is fitted (so before its
``predict`` may be called). ``net.module_`` is the student; every student's ``forward(X)`` returns
``(output, features)``, and one that declares ``prepare_input`` (image students) checks and lays out
image-like input itself (``sklearn_aft.students.Student``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def student_outputs(net, X, batch_size: int = 512) -> np.ndarray:
    """The student's outputs (logits for a classifier) for the rows of ``X``, in evaluation mode.

    ``X`` is what the student trains on: a dense or sparse matrix (densified one batch at a time) or an
    image array. The student's training mode (dropout, batch-norm statistics) is restored afterwards.
    """
    import torch

    from sklearn_aft.students import student_traits

    module = net.module_
    prepare = student_traits(module).prepare_input
    if prepare is not None and getattr(X, "ndim", 2) > 2:
        X = prepare(np.asarray(X))
    was_training = module.training
    module.eval()
    outputs = []
    try:
        with torch.no_grad():
            for start in range(0, X.shape[0], batch_size):
                rows = X[start : start + batch_size]
                if sp.issparse(rows):
                    rows = rows.toarray()
                dtype = np.uint8 if rows.dtype == np.uint8 else np.float32  # images stay uint8, as in training
                batch = torch.from_numpy(np.ascontiguousarray(rows, dtype=dtype)).to(net.device)
                outputs.append(module(batch)[0].float().cpu().numpy())
    finally:
        module.train(was_training)
    return np.concatenate(outputs)
