"""The bundled datasets and the image-folder loader."""

import io
import tarfile

import numpy as np
import pytest
from PIL import Image

from sklearn_aft.datasets import load_image_folder, load_sms_spam


def test_sms_spam_counts_split_and_formats():
    full = load_sms_spam()
    assert len(full.data) == 5574 and full.target.sum() == 747  # the UCI counts
    assert full.target_names == ["ham", "spam"] and "CC BY 4.0" in full.DESCR
    train, test = load_sms_spam(subset="train"), load_sms_spam(subset="test")
    assert (len(train.data), len(test.data)) == (3902, 1672)
    assert not set(train.data) & set(test.data) - set(t for t in full.data if full.data.count(t) > 1)
    assert abs(train.target.mean() - test.target.mean()) < 0.002  # stratified
    assert load_sms_spam(subset="test").data == test.data  # fixed split
    X, y = load_sms_spam(subset="test", return_X_y=True)
    assert X == test.data and np.array_equal(y, test.target)
    frame = load_sms_spam(as_frame=True)
    assert list(frame.data.columns) == ["text"] and frame.target.name == "target"
    assert list(frame.frame.columns) == ["text", "target"] and len(frame.frame) == 5574
    with pytest.raises(ValueError, match="subset"):
        load_sms_spam(subset="validation")


def _png(value, size=(6, 6)):
    buf = io.BytesIO()
    Image.fromarray(np.full((*size, 3), value, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def test_image_folder_from_directory_and_archive(tmp_path):
    for split in ("train", "test"):
        for label, value in (("cat", 10), ("dog", 200)):
            (tmp_path / "imgs" / split / label).mkdir(parents=True)
            (tmp_path / "imgs" / split / label / "a.png").write_bytes(_png(value))
    (tmp_path / "imgs" / "train" / "notes.txt").write_text("not an image")
    bunch = load_image_folder(tmp_path / "imgs", subset="train")
    assert bunch.images.shape == (2, 6, 6, 3) and bunch.images.dtype == np.uint8
    assert bunch.target.tolist() == [0, 1] and bunch.target_names == ["cat", "dog"]
    assert bunch.filenames == ["train/cat/a.png", "train/dog/a.png"]
    with tarfile.open(tmp_path / "imgs.tar.gz", "w:gz") as tf:
        tf.add(tmp_path / "imgs", arcname=".")
    images, target = load_image_folder(tmp_path / "imgs.tar.gz", subset="train", return_X_y=True)
    assert np.array_equal(images, bunch.images) and np.array_equal(target, bunch.target)
    assert load_image_folder(tmp_path / "imgs" / "test").images[1, 0, 0, 0] == 200  # no subset level


def test_image_folder_errors_and_resizing(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_image_folder(tmp_path / "missing")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.png").write_bytes(_png(0, (4, 4)))
    (tmp_path / "b" / "y.png").write_bytes(_png(0, (5, 7)))
    with pytest.raises(ValueError, match="different sizes"):
        load_image_folder(tmp_path)
    assert load_image_folder(tmp_path, image_size=(3, 2)).images.shape == (2, 3, 2, 3)
    with pytest.raises(ValueError, match="no images"):
        load_image_folder(tmp_path, subset="train")
