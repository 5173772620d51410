"""The judge: a small CNN classifier trained on the *full* data set (every class, the removed ones
too) that grades generated images.

It is trained once per data set and source and cached on disk (CREATIVE_GANS_CACHE, default
~/.cache/creative-gans/judge), keyed by the data's name, source and fingerprint, so a judge is
never reused for other data. Generated images are graded by its class probabilities and by its
penultimate-layer features (for the Fréchet judge distance). Reads no flags.
"""

import contextlib
import dataclasses
import os
import time
import zipfile

import keras
import numpy as np
import tensorflow as tf

from common import files, metrics
from common.classes import UsageError
from common.pipelines import to_float

CACHE_ENV = files.CACHE_ENV
VERSION = 1  # bump when the architecture or training recipe changes: old caches are then ignored
# CREATIVE_GANS_QUICK_JUDGE=1 (QUICK reports and leagues, the tests): a judge of one epoch on at most
# 5,000 images, cached apart: seconds instead of minutes, for machinery whose numbers mean nothing.
QUICK_ENV = "CREATIVE_GANS_QUICK_JUDGE"
QUICK_IMAGES = 5000


def cache_dir():
    return files.cache_dir("judge")


class JudgeNet(keras.Model):
    """conv32/2 - conv64/2 - FC128 (the features) - dropout - K logits. Strided convolutions
    rather than convolution + pooling: 4x fewer FLOPs at the same accuracy on 28x28 images."""

    def __init__(self, num_classes, feature_dim=128, **kwargs):
        super().__init__(**kwargs)
        # float32 whatever the global policy: a run with --mixed_precision is graded by the same
        # judge as any other run.
        f32 = {"dtype": "float32"}
        self.body = [
            keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", **f32),
            keras.layers.Conv2D(64, 3, strides=2, padding="same", activation="relu", **f32),
            keras.layers.Flatten(**f32),
            keras.layers.Dense(feature_dim, activation="relu", **f32),
        ]
        self.dropout = keras.layers.Dropout(0.3, **f32)
        self.head = keras.layers.Dense(num_classes, **f32)

    def features(self, x, training=False):
        for layer in self.body:
            x = layer(x, training=training)
        return x

    def call(self, x, training=False):
        return self.head(self.dropout(self.features(x, training), training=training))


@dataclasses.dataclass(frozen=True)
class JudgeInfo:
    key: str
    test_accuracy: float
    train_seconds: float  # 0 when loaded from the cache
    cached: bool
    weights_sha256: str = ""  # of the weights it was loaded from or saved as


class OutputMemo:
    """A judge's outputs remembered by the images' content: in memory, and on disk in `folder`
    (one .npz per image set, named by the SHA-256 of its float32 bytes and shape). The folder is
    named by the judge's weights' SHA-256, so other weights never read these; the same weights on
    the same images give the same outputs, so a page rebuilt from unchanged runs does not grade
    them again. Class probabilities are kept for every set, features (512 bytes an image) only
    for sets whose features were asked for. A file that cannot be read is computed again."""

    def __init__(self, folder):
        self.folder = folder
        self._held = {}

    @staticmethod
    def digest(images):
        import hashlib

        h = hashlib.sha256(repr(images.shape).encode())
        h.update(memoryview(images).cast("B"))
        return h.hexdigest()

    def get(self, key, n, want_features):
        held = self._held.get(key)
        if held is None:
            path = os.path.join(self.folder, f"{key}.npz")
            if not os.path.exists(path):
                return None
            try:
                with np.load(path) as f:
                    held = (f["probs"], f["features"] if "features" in f.files else None)
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # damaged: graded again
                return None
            if len(held[0]) != n or (held[1] is not None and len(held[1]) != n):
                return None
            self._held[key] = held
        if want_features and held[1] is None:
            return None
        return held

    def put(self, key, probs, feats):
        held = self._held.get(key)
        if held is not None and held[1] is not None and feats is None:
            return
        self._held[key] = (probs, feats)
        arrays = {"probs": probs} if feats is None else {"probs": probs, "features": feats}
        try:
            os.makedirs(self.folder, exist_ok=True)
            files.write_npz(os.path.join(self.folder, f"{key}.npz"), **arrays)
        except OSError:  # a read-only or full cache: remembered in memory only
            pass


class Judge:
    """Grades images in [0, 1] of the data set it was trained on. With `memo` (an OutputMemo),
    outputs already computed for the same images are not computed again."""

    def __init__(self, net, num_classes, info, memo=None):
        self.net = net
        self.num_classes = num_classes
        self.info = info
        self.memo = memo
        signature = [
            tf.TensorSpec((None, *net.input_image_shape), tf.float32)
        ]  # one trace for every batch size
        self._forward = tf.function(
            lambda x: (tf.nn.softmax(net(x)), net.features(x)), input_signature=signature, autograph=False
        )

    def _batches(self, images, batch_size=1000, want_features=True):
        images = np.ascontiguousarray(images, np.float32)
        key = None
        if self.memo is not None:
            key = self.memo.digest(images)
            held = self.memo.get(key, len(images), want_features)
            if held is not None:
                return held
        probs, feats = [], []
        for start in range(0, len(images), batch_size):
            p, f = self._forward(tf.constant(images[start : start + batch_size]))
            probs.append(p.numpy())
            feats.append(f.numpy())
        probs, feats = np.concatenate(probs), np.concatenate(feats)
        if key is not None:
            self.memo.put(key, probs, feats if want_features else None)
        return probs, feats

    def probabilities(self, images):
        return self._batches(images, want_features=False)[0]

    def features(self, images):
        return self._batches(images)[1]

    def outputs(self, images):
        """(class probabilities, features) of images, for grading and for anything else the
        caller needs from the same forward pass."""
        return self._batches(images)

    def grade(self, images, prefix, removed=(), real_features=None):
        """Flat metrics of a set of generated images: class histogram, removed_class_hits,
        classifier score and (given judge features of real test images) the Fréchet judge
        distance. Keys start with `prefix`."""
        return self.grade_outputs(*self._batches(images), prefix, removed, real_features)

    @staticmethod
    def grade_outputs(probs, feats, prefix, removed=(), real_features=None):
        """grade() on outputs() already computed."""
        out = {}
        for c, share in enumerate(metrics.class_histogram(probs)):
            out[f"{prefix}class_{c}_share"] = float(share)
        out[f"{prefix}removed_class_hits"] = metrics.removed_class_hits(probs, removed)
        out[f"{prefix}classifier_score"] = metrics.classifier_score(probs)
        if real_features is not None:
            out[f"{prefix}frechet_judge_distance"] = metrics.frechet_distance(feats, real_features)
            precision, recall = metrics.precision_recall(feats, real_features)
            out[f"{prefix}precision"], out[f"{prefix}recall"] = precision, recall
        return out


def quick():
    return os.environ.get(QUICK_ENV) == "1"


def cache_key(data, seed=0):
    """The data's name, source and fingerprint, the recipe's version; other seeds of the ensemble
    and quick judges carry a suffix (seed 0's key is the one every run has always used)."""
    suffix = (f"-s{seed}" if seed else "") + ("-quick" if quick() else "")
    return f"{data.name}-{data.source_key}-{data.fingerprint()}-v{VERSION}{suffix}"


def _accuracy(net, x, y, batch_size=1000):
    predict = tf.function(lambda b: tf.argmax(net(b), axis=-1), autograph=False)
    hits = sum(
        int(np.sum(predict(tf.constant(to_float(x[i : i + batch_size]))).numpy() == y[i : i + batch_size]))
        for i in range(0, len(x), batch_size)
    )
    return hits / max(len(x), 1)


def train_judge(data, epochs=8, batch_size=128, seed=0, log=print):
    """Trains a JudgeNet on all of data.train_x (quick(): one epoch on at most QUICK_IMAGES);
    returns (net, test accuracy, seconds)."""
    keras.utils.set_random_seed(seed)
    net = JudgeNet(data.num_classes)
    train_x, train_y = data.train_x, data.train_y
    if quick():
        epochs = 1
        pick = np.random.default_rng(seed).permutation(len(train_x))[:QUICK_IMAGES]
        train_x, train_y = train_x[pick], train_y[pick]
    steps = epochs * -(-len(train_x) // batch_size)
    net.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    started = time.perf_counter()
    log(
        f"judge: training a classifier (seed {seed}) on {len(train_x)} {data.name} training images "
        f"({epochs} epochs; once, then cached in {cache_dir()})"
    )
    net.fit(to_float(train_x), train_y, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=True)
    seconds = time.perf_counter() - started
    return net, _accuracy(net, data.test_x, data.test_y), seconds


CHECK_IMAGES = 2000  # test images whose accuracy a cached judge must reproduce


def _sha256(path):
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _set_aside(paths, why, log):
    """Moves a damaged cache entry out of the way (kept for inspection), in one line."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    moved = []
    for path in paths:
        if os.path.exists(path):
            os.replace(path, f"{path}.damaged-{stamp}")
            moved.append(os.path.basename(path))
    names = ", ".join(moved) or "?"
    log(f"judge: the cached classifier {names} is damaged ({why}); set aside, training anew")


def _verified(net, data, saved, weights, info_path, log):
    """None when the cached entry holds: its weights' SHA-256 is the recorded one and they
    reproduce the recorded accuracy on the first CHECK_IMAGES test images (an entry from before
    checksums is verified by its accuracy and then given them); else the reason."""
    if not isinstance(saved, dict) or not isinstance(saved.get("test_accuracy"), (int, float)):
        return "its record lacks the test accuracy"
    digest = _sha256(weights)
    if saved.get("weights_sha256") not in (None, digest):
        return "its weights are not the ones recorded (SHA-256)"
    try:
        net.load_weights(weights)
    except (ValueError, OSError) as error:
        return f"unreadable weights: {str(error)[:80]}"
    check = _accuracy(net, data.test_x[:CHECK_IMAGES], data.test_y[:CHECK_IMAGES])
    recorded = saved.get("check_accuracy")
    if recorded is not None and abs(check - recorded) > 1e-3:
        return f"accuracy {check:.4f} on the check images, recorded {recorded:.4f}"
    if recorded is None:  # an entry from before checksums: held to its whole-test accuracy
        if abs(check - saved["test_accuracy"]) > 0.05:
            return f"accuracy {check:.4f} on the check images, {saved['test_accuracy']:.4f} recorded overall"
        files.write_json(info_path, dict(saved, weights_sha256=digest, check_accuracy=check))
        log(f"judge: verified the cached classifier {os.path.basename(weights)} and recorded its checksum")
    return None


def _entry_paths(key):
    """The weights and the record of the cache entry `key`."""
    return os.path.join(cache_dir(), f"{key}.weights.h5"), os.path.join(cache_dir(), f"{key}.json")


def _load_cached(data, key, log):
    """The cached judge under `key`, verified; None when there is none or it was damaged (then
    set aside)."""
    weights, info_path = _entry_paths(key)
    if not (os.path.exists(info_path) or os.path.exists(weights)):
        return None
    net = JudgeNet(data.num_classes)
    net(tf.zeros((1, *data.image_shape)))  # build the variables before loading
    net.input_image_shape = data.image_shape
    try:
        saved = files.read_json(info_path)
        problem = "its record is missing" if saved is None else None
    except (ValueError, UnicodeDecodeError):
        saved, problem = None, "its record is not JSON"
    if problem is None and not os.path.isfile(weights):
        problem = "its weights are missing"
    problem = problem or _verified(net, data, saved, weights, info_path, log)
    if problem is None:
        info = JudgeInfo(key, float(saved["test_accuracy"]), 0.0, True, saved.get("weights_sha256") or "")
        log(f"judge: cached classifier {key} (test accuracy {info.test_accuracy:.4f})")
        return Judge(net, data.num_classes, info)
    _set_aside([weights, info_path], problem, log)
    return None


@contextlib.contextmanager
def _training_lock(key, log):
    """One process at a time trains the judge under `key` (an flock on locks/<key>.lock): the
    report's and the league's parallel jobs, or two test processes, that miss the same judge train
    it once, the others wait and then load it. Without a lockable cache (read-only, or a file
    system without locks) each trains its own, as before."""
    import fcntl

    try:
        os.makedirs(os.path.join(cache_dir(), "locks"), exist_ok=True)
        handle = open(os.path.join(cache_dir(), "locks", f"{key}.lock"), "a")  # noqa: SIM115
    except OSError:
        yield
        return
    with handle:
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log(f"judge: another process is training {key}; waiting for it")
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        except OSError:  # no locks on this file system
            pass
        yield  # closing the file releases the lock


def load_judge(data, epochs=8, log=print, seed=0):
    """The cached judge for `data` (of ensemble member `seed`), training (and caching) it first
    if there is none. A cached entry is verified, not trusted: a damaged one (garbled record,
    other weights than recorded, weights that no longer reproduce their accuracy) is set aside
    and the judge trained anew. Processes missing the same judge at once train it once."""
    key = cache_key(data, seed)
    judge = _load_cached(data, key, log)
    if judge is not None:
        return judge
    with _training_lock(key, log):
        judge = _load_cached(data, key, log)  # trained by another process while this one waited
        if judge is not None:
            return judge
        return _train_and_cache(data, key, epochs, seed, log)


def _train_and_cache(data, key, epochs, seed, log):
    weights, info_path = _entry_paths(key)
    net, accuracy, seconds = train_judge(data, epochs=epochs, seed=seed, log=log)
    net.input_image_shape = data.image_shape
    os.makedirs(cache_dir(), exist_ok=True)
    temporary = os.path.join(cache_dir(), f".{key}.{os.getpid()}.weights.h5")
    net.save_weights(temporary)
    digest = _sha256(temporary)
    os.replace(temporary, weights)
    files.write_json(
        info_path,
        {
            "key": key,
            "test_accuracy": accuracy,
            "check_accuracy": _accuracy(net, data.test_x[:CHECK_IMAGES], data.test_y[:CHECK_IMAGES]),
            "weights_sha256": digest,
            "train_seconds": seconds,
            "source": data.source,
            "epochs": 1 if quick() else epochs,
            "seed": seed,
            "quick": quick(),
        },
    )
    log(f"judge: test accuracy {accuracy:.4f} after {seconds:.0f} s")
    return Judge(net, data.num_classes, JudgeInfo(key, accuracy, seconds, False, digest))


def check_cache_writable():
    """UsageError before a run trains when the judges' cache can neither be written nor already
    holds judges (it would fail only after training)."""
    folder = cache_dir()
    probe = folder
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if os.path.isdir(probe) and os.access(probe, os.W_OK | os.X_OK):
        return
    if os.path.isdir(folder) and any(n.endswith(".weights.h5") for n in os.listdir(folder)):
        return  # a read-only cache that holds judges: used as it is (a missing one fails later)
    raise UsageError(
        f"the judge's cache {folder} is not writable: set {files.CACHE_ENV} to a writable folder, "
        "or pass --nojudge"
    )


def load_ensemble(data, members=3, log=print, remember=False):
    """The judges of seeds 0 .. members-1 for `data` (seed 0 is every run's own judge): a finding
    graded by several judges shows how much of a number is the judge's. remember: each judge
    keeps its outputs by the images' content (OutputMemo, under the cache's outputs/), for pages
    rebuilt from runs that were graded before."""
    judges = [load_judge(data, log=log, seed=seed) for seed in range(members)]
    if remember:
        for judge in judges:
            if judge.info.weights_sha256:
                name = f"{judge.info.key}-{judge.info.weights_sha256[:16]}"
                judge.memo = OutputMemo(os.path.join(cache_dir(), "outputs", name))
    return judges
