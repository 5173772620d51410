"""The 2-d toy data sets of the report, labelled and seeded: 8Gaussians, 25Gaussians, swissroll.

8 Gaussians follows the original report code: centres on the unit circle clockwise from the top
(0 = (0, 1), 1 = (1/sqrt2, 1/sqrt2), 2 = (1, 0), ..., 7 = (-1/sqrt2, 1/sqrt2)), scaled by
`scale`, Gaussian noise of std 0.05, everything divided by 1.414. 25 Gaussians and the swiss roll
follow the WGAN-GP toy code the report's code descends from. The swiss roll has no natural
classes: its label is which of 8 equal-length stretches of the roll parameter a point comes from.
"""

import dataclasses

import numpy as np

from common.classes import UsageError, remove_classes

NOISE_STD = 0.05
_EIGHT_UNIT = np.array(
    [(0.0, 1.0), (1.0, 1.0), (1.0, 0.0), (1.0, -1.0), (0.0, -1.0), (-1.0, -1.0), (-1.0, 0.0), (-1.0, 1.0)]
)
_EIGHT_UNIT = _EIGHT_UNIT / np.linalg.norm(_EIGHT_UNIT, axis=1, keepdims=True)
_NAMES = {"8gaussians": "8Gaussians", "25gaussians": "25Gaussians", "swissroll": "swissroll"}
TOY_DATASETS = tuple(_NAMES.values())
SWISSROLL_CLASSES = 8


@dataclasses.dataclass(frozen=True)
class ToySpec:
    """What the metrics need to know about a toy set.

    references: (M, 2) points a sample is judged against: the mixture centres, or a dense
      noise-free sample of the swiss-roll curve. reference_labels: (M,) their class.
    centres: (num_classes, 2) one representative point per class (for plots).
    sigma: per-coordinate std of the noise around a reference point.
    """

    name: str
    num_classes: int
    references: np.ndarray
    reference_labels: np.ndarray
    centres: np.ndarray
    sigma: float


def canonical_name(name):
    """Case-insensitive data-set name -> canonical spelling, or UsageError."""
    key = str(name).lower().replace("-", "").replace("_", "")
    if key not in _NAMES:
        raise UsageError(f"--dataset: unknown toy data set '{name}'; choose one of {', '.join(TOY_DATASETS)}")
    return _NAMES[key]


def _swissroll_curve(t, scale):
    return np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 7.5 * (scale / 2.0)


def _swissroll_label(t):
    u = (t / (1.5 * np.pi) - 1.0) / 2.0  # back to the uniform draw in [0, 1)
    return np.minimum((u * SWISSROLL_CLASSES).astype(np.int32), SWISSROLL_CLASSES - 1)


def toy_spec(name, scale=2.0):
    name = canonical_name(name)
    if name == "8Gaussians":
        centres = _EIGHT_UNIT * scale / 1.414
        return ToySpec(name, 8, centres, np.arange(8), centres, NOISE_STD / 1.414)
    if name == "25Gaussians":
        grid = np.array([(i, j) for i in range(-2, 3) for j in range(-2, 3)], dtype=np.float64)
        centres = grid * scale / 2.828
        return ToySpec(name, 25, centres, np.arange(25), centres, NOISE_STD / 2.828 * scale / 2.0)
    t = 1.5 * np.pi * (1.0 + 2.0 * np.linspace(0.0, 1.0, 6000, endpoint=False))
    references = _swissroll_curve(t, scale)
    labels = _swissroll_label(t)
    mid_t = 1.5 * np.pi * (1.0 + 2.0 * (np.arange(SWISSROLL_CLASSES) + 0.5) / SWISSROLL_CLASSES)
    return ToySpec(
        name, SWISSROLL_CLASSES, references, labels, _swissroll_curve(mid_t, scale), 0.25 / 7.5 * scale / 2.0
    )


def sample_toy(name, n, rng, scale=2.0):
    """n labelled points drawn uniformly over all classes: (x float32 (n, 2), y int32 (n,))."""
    name = canonical_name(name)
    if name == "swissroll":
        t = 1.5 * np.pi * (1.0 + 2.0 * rng.random(n))
        x = _swissroll_curve(t, scale) + rng.normal(0.0, 0.25, (n, 2)) / 7.5 * (scale / 2.0)
        return x.astype(np.float32), _swissroll_label(t)
    spec = toy_spec(name, scale)
    y = rng.integers(0, spec.num_classes, n).astype(np.int32)
    x = spec.centres[y] + rng.normal(0.0, spec.sigma, (n, 2))
    return x.astype(np.float32), y


def toy_training_set(name, seed, scale=2.0, missing=(), few_shot=0, size=100_000):
    """A fixed, seeded training pool with `missing` classes removed (few-shot: k shots kept).

    100k points is effectively the density for a 2-d mixture; a fixed pool makes runs
    reproducible and resumable (the data iterator is checkpointed).
    """
    rng = np.random.default_rng(seed)
    x, y = sample_toy(name, size, rng, scale)
    x, y, _ = remove_classes(x, y, tuple(missing), few_shot=few_shot, rng=rng)
    return x, y


def toy_dataset(x, y, batch_size, seed):
    """Infinite tf.data pipeline of (x, y) batches drawn i.i.d. from the training pool.

    Batch i takes indices from a stateless RNG seeded with (seed, i), like the original code,
    which drew a fresh batch from the mixture every iteration. The iterator's state is a single
    counter, so checkpointing it is free and a resumed run sees the batches an uninterrupted
    run would have seen.
    """
    import tensorflow as tf

    x, y = tf.constant(x), tf.constant(y)
    size = int(x.shape[0])

    def draw(i):
        index = tf.random.stateless_uniform(
            [batch_size], tf.stack([tf.constant(seed, tf.int64), i]), 0, size, dtype=tf.int64
        )
        return tf.gather(x, index), tf.gather(y, index)

    return tf.data.Dataset.counter().map(draw).prefetch(2)
