"""Teachers as scikit-learn transformers: real models, local weights, inputs, errors."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_aft.teachers import (
    E5Embedder,
    FunctionEmbedder,
    SentenceEmbedder,
    TeacherUnion,
    TimmEmbedder,
    TorchEmbedder,
    efficientnet_lite,
    make_teacher_union,
)

timm = pytest.importorskip("timm")

TEXTS = ["the cat sat on the mat", "a kitten rests on a rug", "stock markets fell sharply", "shares dropped today"]


# -- sentence-transformers ------------------------------------------------------------------------------
def test_sentence_embedder_equals_sentence_transformers_encode():
    from sentence_transformers import SentenceTransformer

    from sklearn_aft.teachers.sentence import default_text_model_path

    teacher = SentenceEmbedder(batch_size=2).fit(TEXTS)
    ours = teacher.transform(TEXTS)
    theirs = SentenceTransformer(default_text_model_path(), device="cpu").encode(TEXTS, normalize_embeddings=True)
    assert ours.shape == (4, 384) and ours.dtype == np.float32
    cosine = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    assert cosine.min() > 0.999
    assert teacher.embedding_dim_ == 384
    assert list(teacher.get_feature_names_out()[:2]) == ["sentenceembedder0", "sentenceembedder1"]
    # real semantics: paraphrases are closer than unrelated sentences
    assert ours[0] @ ours[1] > ours[0] @ ours[2] + 0.2


def test_sentence_embedder_inputs_output_and_pickle():
    pd = pytest.importorskip("pandas")
    teacher = SentenceEmbedder()
    a = teacher.transform(pd.Series(TEXTS))
    b = teacher.transform(pd.DataFrame({"text": TEXTS}))
    c = teacher.transform(np.asarray(TEXTS, dtype=object).reshape(-1, 1))
    np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(a, c, atol=1e-6)
    frame = clone(teacher).set_output(transform="pandas").fit_transform(TEXTS)
    assert list(frame.columns[:1]) == ["sentenceembedder0"] and frame.shape == (4, 384)
    blob = pickle.dumps(teacher)
    assert len(blob) < 2_000  # names and paths only, never the 90 MB model
    np.testing.assert_allclose(pickle.loads(blob).transform(TEXTS), a, atol=1e-6)


@pytest.mark.parametrize(
    "bad, error, match",
    [
        ([1.5, 2.0], TypeError, "embeds texts, but input 0 is float"),
        (np.arange(6).reshape(3, 2), ValueError, "1-D sequence"),
        ([], ValueError, "empty input"),
        ("one text", TypeError, "single str"),
        (["fine", None], TypeError, "input 1 is NoneType"),
    ],
)
def test_sentence_embedder_rejects_non_text(bad, error, match):
    with pytest.raises(error, match=match):
        SentenceEmbedder().transform(bad)


def test_sentence_embedder_missing_model_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        SentenceEmbedder(model=tmp_path / "no-such-model").transform(TEXTS)
    with pytest.raises(FileNotFoundError, match="never downloads"):
        SentenceEmbedder(model="nobody/no-such-model").transform(TEXTS)


def test_e5_embedder_second_text_family():
    teacher = E5Embedder(batch_size=2)
    F = teacher.fit_transform(TEXTS)
    assert F.shape == (4, 384) and F.dtype == np.float32 and teacher.embedding_dim_ == 384
    np.testing.assert_allclose(np.linalg.norm(F, axis=1), 1, atol=1e-4)
    assert F[0] @ F[1] > F[0] @ F[2]
    query = E5Embedder(mode="query").transform(TEXTS[:1])
    assert not np.allclose(query, F[:1])  # the prefix matters
    with pytest.raises(ValueError, match="mode"):
        E5Embedder(mode="doc").transform(TEXTS)
    with pytest.raises(TypeError, match="embeds texts"):
        E5Embedder().transform([3, 4])


# -- timm ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def vit_weights(tmp_path_factory):
    """A test_vit state dict with a 10-class head, saved as .safetensors and .pth, and its reference features."""
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = timm.create_model("test_vit", pretrained=False, num_classes=10).eval()
    folder = tmp_path_factory.mktemp("weights")
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    save_file(state, folder / "vit.safetensors")
    torch.save(state, folder / "vit.pth")
    images = np.random.RandomState(0).randint(0, 256, size=(5, 40, 40, 3)).astype(np.uint8)
    config = timm.data.resolve_model_data_config(model)
    transform = timm.data.create_transform(**config, is_training=False)
    x = transform(torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255)
    model.reset_classifier(0)
    with torch.no_grad():
        reference = model(x).numpy()
    return folder, images, reference


@pytest.mark.parametrize("file", ["vit.safetensors", "vit.pth"])
def test_timm_embedder_loads_local_weights_and_drops_head(vit_weights, file):
    folder, images, reference = vit_weights
    teacher = TimmEmbedder("test_vit", weights=folder / file, batch_size=2)
    F = teacher.fit_transform(images)
    assert F.shape == (5, 64) and teacher.embedding_dim_ == 64  # head_hidden_size
    np.testing.assert_allclose(F, reference, rtol=1e-4, atol=1e-5)


def test_timm_embedder_input_formats_agree(vit_weights, tmp_path):
    from PIL import Image

    folder, images, reference = vit_weights
    teacher = TimmEmbedder("test_vit", weights=folder / "vit.safetensors")
    as_float = teacher.transform(images.transpose(0, 3, 1, 2).astype(np.float32) / 255)
    as_tensor = teacher.transform(torch.from_numpy(images.transpose(0, 3, 1, 2).copy()).float() / 255)
    np.testing.assert_allclose(as_float, reference, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(as_tensor, reference, rtol=1e-4, atol=1e-5)
    pil = [Image.fromarray(im) for im in images]
    paths = []
    for i, im in enumerate(pil):
        im.save(tmp_path / f"{i}.png")
        paths.append(str(tmp_path / f"{i}.png"))
    for other in (teacher.transform(pil), teacher.transform(paths)):
        # PIL resizes with its own filter: close to the tensor path, not bit-equal
        corr = [np.corrcoef(a, b)[0, 1] for a, b in zip(other, reference)]
        assert min(corr) > 0.98
    grey = images[..., 0]
    assert teacher.transform(grey).shape == (5, 64)
    # the same image, expanded to three channels or given with three: equal to float32 precision (the two
    # layouts may take different convolution kernels, whose sums differ in the last bits)
    np.testing.assert_allclose(
        teacher.transform(grey), teacher.transform(np.repeat(grey[..., None], 3, -1)), rtol=1e-5, atol=1e-5
    )


def test_timm_embedder_foreign_state_dict_by_position(vit_weights, tmp_path):
    folder, images, reference = vit_weights
    state = torch.load(folder / "vit.pth", weights_only=True)
    foreign = {f"backbone.layer{i}.param": v for i, v in enumerate(state.values())}  # other names, same order
    torch.save(foreign, tmp_path / "foreign.pth")
    with pytest.raises(ValueError, match="key_map='position'"):
        TimmEmbedder("test_vit", weights=tmp_path / "foreign.pth").transform(images)
    F = TimmEmbedder("test_vit", weights=tmp_path / "foreign.pth", key_map="position").transform(images)
    np.testing.assert_allclose(F, reference, rtol=1e-4, atol=1e-5)
    renamed = {f"backbone.layer{i}.param": k for i, k in enumerate(state)}
    F = TimmEmbedder("test_vit", weights=tmp_path / "foreign.pth", key_map=renamed).transform(images)
    np.testing.assert_allclose(F, reference, rtol=1e-4, atol=1e-5)
    # a checkpoint of another architecture: the first misfit is named
    torch.save(torch.load(folder / "vit.pth", weights_only=True), tmp_path / "vit_for_resnet.pth")
    with pytest.raises(ValueError, match="does not fit|same tensors"):
        TimmEmbedder("test_resnet", weights=tmp_path / "vit_for_resnet.pth", key_map="position").transform(images)


class _Payload:
    """Unpickling it would create a file: the proof that code ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_timm_embedder_weights_errors(tmp_path):
    images = np.zeros((2, 32, 32, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="needs weights"):
        TimmEmbedder("test_vit").fit(images)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        TimmEmbedder("test_vit", weights=tmp_path / "missing.safetensors").transform(images)
    torch.save({"weight": torch.zeros(2), "payload": _Payload(tmp_path / "pwned")}, tmp_path / "evil.pth")
    from sklearn_aft._weights import UnsafeCheckpointError

    with pytest.raises(UnsafeCheckpointError, match="would run code"):
        TimmEmbedder("test_vit", weights=tmp_path / "evil.pth").transform(images)
    assert not (tmp_path / "pwned").exists()
    with pytest.raises(ValueError, match="Unknown model|list_models"):
        TimmEmbedder("no_such_net", weights="random").transform(images)
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="could not read"):
        TimmEmbedder("test_vit", weights=tmp_path / "junk.pth").transform(images)


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (np.zeros((2, 3, 32, 32), np.uint8), ValueError, "Channels first"),
        (np.zeros((2, 32, 32, 3), np.float32), ValueError, "Channels last"),
        (np.full((2, 3, 32, 32), 255.0, np.float32), ValueError, r"values in \[0, 1\]"),
        (np.zeros((2, 32, 32, 3), np.int64), TypeError, "uint8"),
        (np.zeros((0, 32, 32, 3), np.uint8), ValueError, "empty"),
        (np.zeros((4, 10), np.float32), ValueError, "float images must be"),
        ([1.0, 2.0], TypeError, "input 0 is a float"),
        (["no/such/image.png"], FileNotFoundError, "input 0"),
    ],
)
def test_timm_embedder_rejects_bad_images(bad, error, match):
    with pytest.raises(error, match=match):
        TimmEmbedder("test_vit", weights="random").transform(bad)


def test_position_key_map_checks_tensor_kinds_and_dict_clashes(tmp_path):
    from sklearn_aft._weights import remap_state_dict

    target = {"bn.weight": torch.ones(3), "bn.bias": torch.zeros(3)}
    swapped = {"norm.bias": torch.zeros(3), "norm.weight": torch.ones(3)}  # same shapes, another order
    with pytest.raises(ValueError, match="is a bias"):
        remap_state_dict(swapped, target, "position")
    with pytest.raises(ValueError, match="same name"):
        remap_state_dict(swapped, target, {"norm.bias": "bn.weight", "norm.weight": "bn.weight"})
    with pytest.raises(TypeError, match="sets"):
        efficientnet_lite(0, weights="other.pth")


def test_timm_embedder_image_size_mean_std_and_pickle():
    teacher = TimmEmbedder("test_resnet", weights="random", image_size=48, mean=(0.5,) * 3, std=(0.25,) * 3)
    config = teacher.data_config()
    assert config["input_size"] == (3, 48, 48) and config["mean"] == (0.5,) * 3 and config["std"] == (0.25,) * 3
    F = teacher.fit_transform(np.zeros((3, 32, 32, 3), np.uint8))
    assert F.shape == (3, teacher.embedding_dim_)
    assert len(pickle.dumps(teacher)) < 2_000


@pytest.mark.slow
def test_efficientnet_lite0_separates_real_image_classes(cifar_mini):
    """Real ImageNet weights, offline: a linear probe on CIFAR-10 beats the same network with random weights."""
    (X_train, y_train), (X_test, y_test) = cifar_mini["train"], cifar_mini["test"]
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    scores = {}
    for name, teacher in [
        ("lite0", efficientnet_lite(0, image_size=96)),
        ("random", TimmEmbedder("tf_efficientnet_lite0", weights="random", image_size=96)),
    ]:
        scores[name] = probe.fit(teacher.fit_transform(X_train), y_train).score(teacher.transform(X_test), y_test)
    # measured: lite0 0.615, random 0.245 (chance 0.1), with 30 training images per class
    assert scores["lite0"] > 0.5
    assert scores["lite0"] > scores["random"] + 0.25


# -- any torch module, any function, several teachers --------------------------------------------------------
def test_torch_embedder_class_factory_instance_and_weights(tmp_path):
    X = np.random.RandomState(0).normal(size=(7, 4)).astype(np.float32)
    torch.manual_seed(0)
    linear = torch.nn.Linear(4, 3)
    torch.save(linear.state_dict(), tmp_path / "linear.pth")
    expected = linear(torch.from_numpy(X)).detach().numpy()
    kwargs = {"in_features": 4, "out_features": 3}
    for teacher in (
        TorchEmbedder(torch.nn.Linear, module_kwargs=kwargs, weights=tmp_path / "linear.pth", batch_size=3),
        TorchEmbedder("torch.nn:Linear", module_kwargs=kwargs, weights=tmp_path / "linear.pth"),
        TorchEmbedder(linear),
    ):
        np.testing.assert_allclose(teacher.fit_transform(X), expected, rtol=1e-5, atol=1e-6)
        assert teacher.embedding_dim_ == 3 and teacher.n_features_in_ == 4
    assert len(pickle.dumps(TorchEmbedder("torch.nn:Linear", module_kwargs=kwargs))) < 2_000
    # the user's module is left as it was: weights, mode and device
    mine = torch.nn.Linear(4, 3).train()
    before = {k: v.clone() for k, v in mine.state_dict().items()}
    TorchEmbedder(mine, weights=tmp_path / "linear.pth").transform(X)
    assert mine.training and all(torch.equal(before[k], v) for k, v in mine.state_dict().items())
    with pytest.raises(ValueError, match="4 features"):
        TorchEmbedder(linear).fit(X).transform(X[:, :3])
    with pytest.raises(TypeError, match="not a torch nn.Module"):
        TorchEmbedder(dict).transform(X)
    with pytest.raises(ImportError, match="could not import"):
        TorchEmbedder("no_such_package.models:net").transform(X)
    with pytest.raises(ValueError, match="NaN"):
        TorchEmbedder(linear).transform(np.full((2, 4), np.nan))


def test_torch_embedder_flattens_and_takes_first_output():
    class TwoOutputs(torch.nn.Module):
        def forward(self, x):
            return x.reshape(len(x), 2, -1), x.sum(1)

    F = TorchEmbedder(TwoOutputs()).transform(np.ones((3, 2, 2, 2), np.float32))
    assert F.shape == (3, 8)


def test_function_embedder_batches_and_checks_output():
    calls = []

    def tanh(batch):
        calls.append(len(batch))
        return np.tanh(batch)

    F = FunctionEmbedder(tanh, batch_size=4).transform(np.ones((10, 3)))
    assert F.shape == (10, 3) and F.dtype == np.float32 and calls == [4, 4, 2]
    assert FunctionEmbedder(lambda b: b.sum(1)).transform(np.ones((5, 3))).shape == (5, 1)  # 1-D: one column
    with pytest.raises(ValueError, match=r"shape \(\) for a batch of 4"):
        FunctionEmbedder(len).transform(TEXTS)
    with pytest.raises(ValueError, match="one row of features per input"):
        FunctionEmbedder(lambda b: np.zeros((1, 2))).transform(np.ones((3, 3)))
    with pytest.raises(ValueError, match="empty"):
        FunctionEmbedder(np.tanh).transform(np.ones((0, 3)))


def test_teacher_union_blocks_names_and_nested_params():
    X = np.random.RandomState(0).normal(size=(6, 4)).astype(np.float32)
    union = make_teacher_union(
        FunctionEmbedder(np.tanh), TorchEmbedder(torch.nn.Linear, module_kwargs={"in_features": 4, "out_features": 2})
    )
    F = union.fit_transform(X)
    assert F.shape == (6, 6) and F.blocks == (4, 2) and union.blocks_ == (4, 2)
    assert F[[0, 3]].blocks == (4, 2)
    names = union.get_feature_names_out()
    assert names[0] == "functionembedder__functionembedder0" and names[-1] == "torchembedder__torchembedder1"
    union.set_params(torchembedder__batch_size=2, functionembedder__batch_size=3)
    assert clone(union).get_params()["torchembedder__batch_size"] == 2
    np.testing.assert_allclose(union.transform(X)[:, :4], np.tanh(X), rtol=1e-6)
    with pytest.raises(TypeError, match="tuples"):
        TeacherUnion([FunctionEmbedder(np.tanh)]).fit(X)
    with pytest.raises(ValueError, match="at least one"):
        TeacherUnion([]).fit(X)


@pytest.mark.slow
def test_sentence_embedder_on_a_list_of_devices_matches_one_device():
    """device=[...] encodes in one worker process per device (multi-GPU); checked with two CPU workers."""
    pytest.importorskip("sentence_transformers")
    from sklearn_aft.teachers import SentenceEmbedder, clear_model_cache

    texts = [f"message number {i} about {'cats' if i % 2 else 'stock prices'}" for i in range(40)]
    try:
        one = SentenceEmbedder(device="cpu").transform(texts)
        pooled = SentenceEmbedder(device=["cpu", "cpu"])
        np.testing.assert_allclose(pooled.transform(texts), one, atol=1e-5)
        np.testing.assert_allclose(pooled.transform(texts[:5]), one[:5], atol=1e-5)  # the pool is reused
    finally:
        clear_model_cache()  # stops the worker processes
    with pytest.raises(ValueError, match="non-empty list"):
        SentenceEmbedder(device=[]).transform(texts)


def test_loading_the_text_model_is_quiet_unless_verbose(capfd):
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    from sklearn_aft.teachers.sentence import _quiet_loading, default_text_model_path

    SentenceTransformer(default_text_model_path(), device="cpu")
    loud = capfd.readouterr().err
    if "Loading weights" not in loud:
        pytest.skip("this transformers release draws no loading bar")
    with _quiet_loading(0):
        SentenceTransformer(default_text_model_path(), device="cpu")
    assert "Loading weights" not in capfd.readouterr().err
    assert hf_logging.is_progress_bar_enabled()  # the global setting is given back
    with _quiet_loading(1):
        SentenceTransformer(default_text_model_path(), device="cpu")
    assert "Loading weights" in capfd.readouterr().err
