"""From arrays to what a model trains on and is graded with: float conversion, samples, and the
checkpointable tf.data pipelines (epochs of a training set, few-shot tasks), with the padding
FIGR uses. TensorFlow is imported inside the functions that need it."""

import numpy as np

from common.classes import UsageError


def to_float(x):
    """uint8 images -> float32 in [0, 1] (a new array, scaled in place: no second temporary the
    size of the images)."""
    out = np.array(x, np.float32)
    out /= 255.0
    return out


def random_subset(n, size, rng):
    """Sorted indices of up to `size` of n items, without replacement (e.g. the training pool
    nn_distance compares samples with)."""
    return np.sort(rng.choice(n, size=min(size, n), replace=False))


def stratified_sample(y, per_class, rng):
    """Indices of up to `per_class` examples of every class present in y."""
    picks = [
        rng.choice(np.flatnonzero(y == c), size=min(per_class, int(np.sum(y == c))), replace=False)
        for c in np.unique(y)
    ]
    return np.sort(np.concatenate(picks))


def epoch_dataset(x, batch_size, seed, labels=None, index=None):
    """Infinite tf.data pipeline of batches of x, one fresh permutation per epoch (the last
    incomplete batch of an epoch is dropped). uint8 images become float32 in [0, 1]. With
    `index`, the training set is x[index] (and labels[index]) without that copy being made.

    The permutation of epoch e comes from a stateless RNG seeded with (seed, e), so the iterator's
    state is two counters: checkpointing it is free and a resumed run sees the batches an
    uninterrupted run would have seen. With `labels`, batches are (images, labels) pairs."""
    import tensorflow as tf

    images = tf.constant(x)
    rows = None if index is None else tf.constant(np.asarray(index, np.int64))
    size = int(images.shape[0] if index is None else len(index))
    if size < batch_size:
        raise UsageError(f"--batch_size {batch_size} is larger than the {size} training examples")

    def epoch(e):
        order = tf.argsort(tf.random.stateless_uniform([size], tf.stack([tf.constant(seed, tf.int64), e])))
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size, drop_remainder=True)

    targets = None if labels is None else tf.constant(np.asarray(labels, np.int64))

    def gather(order):
        index = order if rows is None else tf.gather(rows, order)
        batch = tf.gather(images, index)
        batch = tf.cast(batch, tf.float32) / 255.0 if images.dtype == tf.uint8 else batch
        return batch if targets is None else (batch, tf.gather(targets, index))

    return tf.data.Dataset.counter().flat_map(epoch).map(gather).prefetch(2)


def fit_images(x, size):
    """uint8 or [0, 1] images (N, H, W, C) -> float32 (N, size, size, C) in [0, 1]: padded with
    the (dark) background when size >= H, W (MNIST's 28 -> 32 keeps every pixel), else resized."""
    x = to_float(x) if np.asarray(x).dtype == np.uint8 else np.asarray(x, np.float32)
    h, w = x.shape[1:3]
    if size >= h and size >= w:
        top, left = (size - h) // 2, (size - w) // 2
        return np.pad(x, ((0, 0), (top, size - h - top), (left, size - w - left), (0, 0)))
    import tensorflow as tf

    return tf.image.resize(x, (size, size), antialias=True).numpy().clip(0.0, 1.0)


def unfit_images(x, shape):
    """The inverse of fit_images: images back to `shape` (H, W, C), e.g. for the judge."""
    h, w = shape[:2]
    size = x.shape[1]
    if size >= h and size >= w:
        top, left = (size - h) // 2, (size - w) // 2
        return x[:, top : top + h, left : left + w]
    import tensorflow as tf

    return tf.image.resize(x, (h, w), antialias=True).numpy().clip(0.0, 1.0)


def task_dataset(x, y, shots, seed, tasks=1, mixed=False):
    """Infinite tf.data pipeline of few-shot tasks for meta-learning: each element holds `tasks`
    tasks, shape (tasks, shots, H, W, C); a task is `shots` distinct images of one class drawn at
    random among the classes of y (mixed: `shots` distinct images of any classes, a plain
    minibatch). Task i comes from a stateless RNG seeded with (seed, i), so the iterator's state
    is one counter and a resumed run sees the tasks an uninterrupted one would."""
    import tensorflow as tf

    y = np.asarray(y)
    classes = np.unique(y)
    counts = np.array([np.sum(y == c) for c in classes])
    if counts.min() < shots:
        raise UsageError(
            f"--shots {shots} is more than the {counts.min()} images of class {classes[counts.argmin()]}"
        )
    order = np.argsort(y, kind="stable")  # the images of each class, one block after another
    starts = tf.constant(np.concatenate([[0], np.cumsum(counts)[:-1]]), tf.int32)
    sizes = tf.constant(counts, tf.int32)
    images = tf.constant(np.asarray(x)[order])
    if mixed:  # one block: every image a candidate
        starts, sizes, classes = tf.constant([0], tf.int32), tf.constant([len(y)], tf.int32), classes[:1]

    def task(i):
        key = tf.stack([tf.constant(seed, tf.int64), i])
        pick = tf.random.stateless_uniform([], key, 0, len(classes), dtype=tf.int32)
        # `shots` distinct positions among the class's images: the first of a random permutation
        size = sizes[pick]
        rank = tf.argsort(
            tf.random.stateless_uniform([size], tf.random.experimental.stateless_fold_in(key, 1))
        )
        batch = tf.gather(images, starts[pick] + rank[:shots])
        return tf.cast(batch, tf.float32) / 255.0 if images.dtype == tf.uint8 else batch

    return tf.data.Dataset.counter().map(task).batch(tasks, drop_remainder=True).prefetch(2)
