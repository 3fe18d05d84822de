"""The transfer terms as torch modules: each computes the loss its paper and reference code define."""

import numpy as np
import pytest
import torch

from sklearn_aft import available_transfers
from sklearn_aft.registry import get_transfer
from sklearn_aft.transfer import RKD, AFTFeature, AFTKernel, FitNet, Hybrid, LogitKD, NoTransfer, linear_kernel


def _feats(seed=0, b=64, ds=32, dp=48):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, ds, generator=g), torch.randn(b, dp, generator=g)


def test_linear_kernel_is_centred_cosine():
    h, _ = _feats()
    K = linear_kernel(h)
    c = h - h.mean(0)
    expected = (c @ c.T) / (c.norm(dim=1)[:, None] * c.norm(dim=1)[None, :])
    torch.testing.assert_close(K, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(torch.diagonal(K), torch.ones(len(h)), atol=1e-5, rtol=0)


def test_aft_kernel_loss_is_rmse_of_kernel_gap():
    h, phi = _feats()
    aft = AFTKernel(h.shape[1], [phi.shape[1]])
    expected = torch.sqrt(((linear_kernel(h) - linear_kernel(phi * 0.5)) ** 2).mean() + 1e-8)
    torch.testing.assert_close(aft(h, phi), expected)
    # identical kernels: only the sqrt's epsilon is left
    assert aft(phi, phi).item() == pytest.approx(1e-4, abs=1e-5)


def test_aft_kernel_invariances():
    """The kernel form ignores rotations and global scale of the student, and uniform shifts of s."""
    h, phi = _feats()
    aft = AFTKernel(h.shape[1], [phi.shape[1]])
    base = aft(h, phi).item()
    q, _ = torch.linalg.qr(torch.randn(h.shape[1], h.shape[1], generator=torch.Generator().manual_seed(1)))
    assert aft(h @ q, phi).item() == pytest.approx(base, rel=1e-4)
    assert aft(7.0 * h, phi).item() == pytest.approx(base, rel=1e-4)
    with torch.no_grad():  # equal weights of any size give the plain teacher kernel (rows are normalised)
        aft.scale_logits += 3.0
    assert aft(h, phi).item() == pytest.approx(base, rel=1e-4)
    # an anisotropic scaling of the student does change it
    scale = torch.linspace(0.1, 3.0, h.shape[1])
    assert abs(aft(h * scale, phi).item() - base) > 1e-3


def test_teacher_kernel_equals_the_reference_formula_with_any_weights():
    _, phi = _feats()
    aft = AFTKernel(8, [phi.shape[1]])
    with torch.no_grad():
        aft.scale_logits.normal_(generator=torch.Generator().manual_seed(3))
    reference = linear_kernel(phi * torch.sigmoid(aft.scale_logits))
    torch.testing.assert_close(aft.teacher_kernel(phi), reference, atol=1e-5, rtol=1e-5)
    identical = phi[:1].repeat(len(phi), 1)  # every row centres to zero: no division by zero
    loss = aft(torch.randn(len(phi), 8), identical)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(aft.scale_logits.grad).all()


def test_aft_kernel_weights_learn_and_are_reported_per_dimension():
    h, phi = _feats()
    aft = AFTKernel(h.shape[1], [20, 28], beta=3.0)
    assert aft.feature_weights_.shape == (48,)
    np.testing.assert_allclose(aft.feature_weights_, 0.5)
    aft(h, phi).backward()
    assert aft.scale_logits.grad is not None and aft.scale_logits.grad.abs().sum() > 0
    assert [len(p) for p in aft.split_by_teacher(torch.sigmoid(aft.scale_logits))] == [20, 28]
    fixed = AFTKernel(h.shape[1], [48], learn_weights=False)
    assert not fixed.scale_logits.requires_grad


def test_aft_feature_loss_and_weights():
    h, phi = _feats()
    m = AFTFeature(h.shape[1], [phi.shape[1]])
    loss = m(h, phi)
    assert loss.ndim == 0 and loss.item() > 0
    assert m.feature_weights_.shape == (phi.shape[1],)
    # a perfect linear relation with matching P gives zero loss
    with torch.no_grad():
        m.projection.weight.copy_(torch.randn(h.shape[1], phi.shape[1]))
    assert m(m.projection(phi), phi).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("beta", [-1.0, float("nan"), float("inf"), "3"])
def test_bad_beta_is_rejected(beta):
    with pytest.raises(ValueError, match="The 'beta' parameter of AFTKernel must be a float in the range"):
        AFTKernel(4, [4], beta=beta)


def test_registry_names():
    assert {"aft", "aft_feature", "none"} <= set(available_transfers())
    assert get_transfer("none") is NoTransfer
    with pytest.raises(ValueError, match="unknown transfer='nope'"):
        get_transfer("nope")
    with pytest.raises(TypeError, match="transfer must be"):
        get_transfer(3)


def test_terms_compute_what_they_say():
    torch.manual_seed(0)
    h, phi = torch.randn(32, 6), torch.randn(32, 10)
    fitnet = FitNet(6, [10])
    torch.testing.assert_close(fitnet(h, phi), ((fitnet.regressor(h) - phi) ** 2).mean())
    assert RKD(6, [6])(h, 2 * h) < 1e-6 < RKD(6, [6])(h, torch.randn(32, 6))
    kd = LogitKD(6, [10], temperature=1.0)
    logits = torch.randn(32, 3)
    assert kd.loss(h, logits, logits) < 1e-6 < kd.loss(h, logits, -logits)
    hybrid = Hybrid(6, [10], kd_weight=0.5, fitnet_weight=2.0)
    codes = np.arange(32) % 3
    targets = torch.from_numpy(hybrid.fit_targets(phi.numpy(), codes, random_state=0, task="classification"))
    assert targets.shape == (32, 13)  # one block per term, in order: the head's 3 logits, the teacher features
    torch.testing.assert_close(targets[:, 3:], phi)
    head_logits = targets[:, :3]
    expected = 0.5 * hybrid.kd.loss(h, head_logits, logits) + 2.0 * hybrid.fitnet(h, phi)
    torch.testing.assert_close(hybrid.loss(h, targets, logits), expected)


def test_rkd_angles_equal_the_direct_formula_with_finite_gradients():
    import torch.nn.functional as F

    from sklearn_aft.transfer.rkd import _angles

    x = torch.randn(40, 12, dtype=torch.float64) + 1000.0  # far from the origin, as uncentred features are
    x[5] = x[7]  # a duplicated row: a zero distance off the diagonal
    directions = F.normalize(x.unsqueeze(0) - x.unsqueeze(1), p=2, dim=2)
    reference = torch.bmm(directions, directions.transpose(1, 2))
    torch.testing.assert_close(_angles(x.float()).double(), reference, atol=1e-4, rtol=0)  # float32 too
    h = x.float().requires_grad_()
    RKD(12, [12])(h, torch.randn(40, 12)).backward()
    assert torch.isfinite(h.grad).all() and h.grad.abs().max() < 1.0  # the duplicate adds no huge gradient
