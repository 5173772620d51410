"""Small labelled image sets the tests write themselves, as IDX files: ten classes a small CNN
tells apart at once (class c is a bright block at its own place), with pixel noise."""

import os

import numpy as np

from common.image_data import IDX_FILES, write_idx


def tiny_images(per_class, seed, size=28):
    rng = np.random.default_rng(seed)
    x, y = [], []
    for c in range(10):
        r, col = divmod(c, 5)
        for _ in range(per_class):
            image = rng.integers(0, 40, (size, size)).astype(np.float64)
            top, left = 2 + r * 13 + rng.integers(0, 3), 1 + col * 5 + rng.integers(0, 2)
            image[top : top + 9, left : left + 4] = rng.integers(180, 256)
            x.append(image)
            y.append(c)
    order = rng.permutation(len(y))
    return np.asarray(x, np.uint8)[order], np.asarray(y, np.uint8)[order]


def write_tiny_idx(directory, train_per_class=40, test_per_class=10, gz=True, seed=0):
    os.makedirs(directory, exist_ok=True)
    train_x, train_y = tiny_images(train_per_class, seed)
    test_x, test_y = tiny_images(test_per_class, seed + 1)
    suffix = ".gz" if gz else ""
    for key, array in (("train_x", train_x), ("train_y", train_y), ("test_x", test_x), ("test_y", test_y)):
        write_idx(os.path.join(directory, IDX_FILES[key] + suffix), array)
    return directory
