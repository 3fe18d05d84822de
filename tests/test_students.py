"""Student networks: the sparse product they share."""

import numpy as np
import torch


def test_sparse_batches_give_the_dense_outputs_and_gradients():
    # the CSR product's hand-written backward must match autograd through the dense layer
    import scipy.sparse as sp

    from sklearn_aft._data import _sparse_tensor
    from sklearn_aft.students._sparse import sparse_linear

    X = sp.random(40, 25, density=0.2, format="csr", dtype=np.float32, random_state=0)
    layer = torch.nn.Linear(25, 3)
    sparse_out = sparse_linear(_sparse_tensor(X), layer)
    assert _sparse_tensor(X).layout == torch.sparse_csr
    (sparse_out**2).sum().backward()
    grads = [p.grad.clone() for p in layer.parameters()]
    layer.zero_grad()
    dense_out = layer(torch.from_numpy(X.toarray()))
    (dense_out**2).sum().backward()
    torch.testing.assert_close(sparse_out, dense_out)
    for got, want in zip(grads, (p.grad for p in layer.parameters())):
        torch.testing.assert_close(got, want)
