"""Fetching the real MNIST and Fashion-MNIST IDX files when the network answers, into the cache.

Where from: the sets' public hosts, or $CREATIVE_GANS_DATA_ORIGIN (a mirror serving
`<origin>/<set>/<file>.gz`, e.g. behind a firewall; the tests point it at a local server).
$CREATIVE_GANS_NODOWNLOAD=1 (or a script's --nodownload) forbids fetching.

Every file is checked before it is used: the gzip stream must be complete (its CRC and length
trailer), the IDX header must match the payload, images and labels must agree in number; from the
public hosts the decompressed content must also have the published digest. A truncated or corrupt
file is removed and said in one line; the loader then falls back to the next source. Each file
in the cache keeps a record of its origin and SHA-256: a cached file that changed since (bit rot, a
partial copy) or came from another origin than the one asked for now is fetched again.
"""

import gzip
import hashlib
import os
import shutil
import urllib.error
import urllib.request

from common import files
from common.progress import ProgressBar

ORIGIN_ENV = "CREATIVE_GANS_DATA_ORIGIN"
NODOWNLOAD_ENV = "CREATIVE_GANS_NODOWNLOAD"
PUBLIC = {
    "mnist": "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}
# SHA-256 of the decompressed files (the gzip wrappers differ between mirrors). Fashion-MNIST's
# were computed from Debian's dataset-fashion-mnist; MNIST's gzip files have published SHA-1s.
CONTENT_SHA256 = {
    (
        "fashion-mnist",
        "train-images-idx3-ubyte",
    ): "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    (
        "fashion-mnist",
        "train-labels-idx1-ubyte",
    ): "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    (
        "fashion-mnist",
        "t10k-images-idx3-ubyte",
    ): "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    (
        "fashion-mnist",
        "t10k-labels-idx1-ubyte",
    ): "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
GZIP_SHA1 = {
    ("mnist", "train-images-idx3-ubyte"): "c3557c10f29b266e19b3eeee1553c85e0ef4a8ea",
    ("mnist", "train-labels-idx1-ubyte"): "adbf52269f5d842899f287c269e2883e40b4f6e2",
    ("mnist", "t10k-images-idx3-ubyte"): "65e11ec1fd220343092a5070b58418b5c2644e26",
    ("mnist", "t10k-labels-idx1-ubyte"): "a6d52cc628797e845885543326e9f10abb8a6f89",
}


class DownloadFailed(Exception):
    """The network did not answer, or a file was broken (and has been removed)."""


def allowed(download=True):
    return download and os.environ.get(NODOWNLOAD_ENV, "") not in ("1", "true", "yes")


def cache_folder(name):
    return files.cache_dir("data", name)


def origin_of(name):
    mirror = os.environ.get(ORIGIN_ENV)
    return (mirror.rstrip("/") + f"/{name}/", True) if mirror else (PUBLIC[name], False)


def _fetch(url, path, timeout=10.0):
    """url -> path (through a temporary file), with a progress bar over the bytes."""
    temporary = path + ".part"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(temporary, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            bar = ProgressBar(total, label="byte") if total > 1_000_000 else None
            done = 0
            while chunk := response.read(1 << 16):
                out.write(chunk)
                done += len(chunk)
                if bar:
                    bar.update(done)
            if bar:
                bar.close()
        os.replace(temporary, path)
    except (urllib.error.URLError, OSError, ValueError) as error:
        if os.path.exists(temporary):
            os.remove(temporary)
        reason = getattr(error, "reason", None) or error
        raise DownloadFailed(f"{url}: {reason}") from None


def check_file(name, stem, path, pinned):
    """Raises DownloadFailed (after removing the file) when it is not a complete, valid IDX file."""
    try:
        with open(path, "rb") as f:
            packed = f.read()
        content = gzip.decompress(packed)  # checks the CRC and the length trailer: truncation, flips
        if pinned and (name, stem) in GZIP_SHA1:
            if hashlib.sha1(packed).hexdigest() != GZIP_SHA1[(name, stem)]:
                raise ValueError("its SHA-1 is not the published one")
        if pinned and (name, stem) in CONTENT_SHA256:
            if hashlib.sha256(content).hexdigest() != CONTENT_SHA256[(name, stem)]:
                raise ValueError("its content's SHA-256 is not the published one")
        if len(content) < 8 or content[:2] != b"\0\0" or content[2] != 0x08:
            raise ValueError("not an IDX file")
    except (OSError, EOFError, ValueError, gzip.BadGzipFile) as error:
        os.remove(path)
        raise DownloadFailed(f"{path} was broken ({error}); removed") from None


def _record_path(path):
    return path + ".json"


def _digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _cached_ok(name, stem, path, origin, log):
    """A cached file is used only as it was when checked: its record (where it came from, its
    SHA-256) must exist and match the bytes, and it must come from the origin asked for now. A file
    without a record (an older cache) is checked again and recorded; anything else is removed."""
    try:
        record = files.read_json(_record_path(path))
    except (OSError, ValueError):
        record = None
    if isinstance(record, dict) and record.get("origin") == origin and record.get("sha256") == _digest(path):
        return True
    if record is None and not os.path.exists(_record_path(path)):
        try:
            check_file(name, stem, path, pinned=origin == PUBLIC.get(name))
        except DownloadFailed as error:
            log(f"data: {error}; downloading it again")
            return False
        files.write_json(_record_path(path), {"origin": origin, "sha256": _digest(path)})
        return True
    why = (
        "came from another origin"
        if isinstance(record, dict) and record.get("origin") != origin
        else ("changed since it was checked")
    )
    log(f"data: the cached {path} {why}; downloading it again")
    for stale in (path, _record_path(path)):
        if os.path.exists(stale):
            os.remove(stale)
    return False


def fetch_idx(name, stems, log=print, fetch=True):
    """The four IDX files of `name` in the cache folder, downloading what is missing or does not
    match its record (unless fetch is False). Returns the folder; raises DownloadFailed when
    offline, when downloading is off and a file is missing, or when a file is broken."""
    folder = cache_folder(name)
    os.makedirs(folder, exist_ok=True)
    origin, mirror = origin_of(name)
    for stem in stems:
        path = os.path.join(folder, stem + ".gz")
        if os.path.exists(path) and _cached_ok(name, stem, path, origin, log):
            continue
        if not fetch:
            raise DownloadFailed(f"{path} is missing or was removed, and downloading is off")
        log(f"data: downloading {origin}{stem}.gz")
        _fetch(f"{origin}{stem}.gz", path)
        check_file(name, stem, path, pinned=not mirror)
        files.write_json(_record_path(path), {"origin": origin, "sha256": _digest(path)})
    return folder


def clear(name):
    """Removes the downloaded files of `name` (a later run downloads them again)."""
    shutil.rmtree(cache_folder(name), ignore_errors=True)
