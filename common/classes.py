"""Class removal and the few-shot "repeat k shots until balanced" helper.

Works on any (x, y) numpy pair, so the 2-d toy sets and the image sets share it.
"""

import numpy as np


class UsageError(ValueError):
    """A bad command-line value: entry scripts print its message as one line and exit 2."""


class CheckpointMismatch(UsageError):
    """The checkpoint in --out_dir was written by a differently shaped model."""


class RunFailed(RuntimeError):
    """The run started but cannot give a result (it diverged, the disk filled, every checkpoint
    is damaged): entry scripts print its message as one line and exit 3."""


def check_batch(batch_size, examples, what="training examples"):
    """A data-dependent check: a batch cannot be larger than the data it is drawn from."""
    if batch_size > examples:
        raise UsageError(f"--batch_size {batch_size} is larger than the {examples} {what}")


def check_image_sides(shape, dataset, model, multiple=4, instead=""):
    """A data-dependent check: networks that halve an image twice need sides divisible by 4."""
    height, width = shape[:2]
    if height % multiple or width % multiple:
        raise UsageError(
            f"{model}: the networks halve the images twice, so their sides must be multiples of {multiple}; "
            f"{dataset} images are {height}x{width}" + (f": {instead}" if instead else "")
        )


def parse_class_list(text, flag_name="--missing_mixt"):
    """'1' or '1,4' or ['1', '4'] -> (1, 4). Empty/None -> ()."""
    if text is None:
        return ()
    items = text if isinstance(text, (list, tuple)) else str(text).split(",")
    classes = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        try:
            classes.append(int(item))
        except ValueError:
            raise UsageError(f"{flag_name}: '{item}' is not a class index (expected e.g. 1 or 1,4)") from None
    return tuple(sorted(set(classes)))


def validate_classes(classes, num_classes, flag_name="--missing_mixt", allow_all=False):
    """Raises UsageError unless every class is in [0, num_classes) and at least one class stays."""
    bad = [c for c in classes if not 0 <= c < num_classes]
    if bad:
        raise UsageError(
            f"{flag_name}: class {bad[0]} is out of range; this data set has classes 0..{num_classes - 1}"
        )
    if not allow_all and len(set(classes)) >= num_classes:
        raise UsageError(f"{flag_name}: removing all {num_classes} classes leaves nothing to train on")
    return tuple(classes)


def remove_classes(x, y, classes, few_shot=0, rng=None):
    """Drops every example of `classes` from (x, y).

    With few_shot = k > 0, keeps k randomly chosen examples of each removed class and repeats
    them until that class has about as many examples as an average present class, which is what
    the report did for its one- and four-shot VAE. Returns (x, y, shots) where `shots` maps each
    removed class to the indices (into the input) of the examples kept; the output is shuffled.
    """
    x = np.asarray(x)
    index, shots = kept_index(y, classes, few_shot, rng)
    return x[index], np.asarray(y)[index], shots


def kept_index(y, classes, few_shot=0, rng=None):
    """remove_classes without copying the examples: (indices into y of the training set, in its
    shuffled order, repeats included; shots). x[index] is remove_classes' x."""
    y = np.asarray(y)
    rng = np.random.default_rng(0) if rng is None else rng
    removed = np.isin(y, classes)
    keep_index = np.flatnonzero(~removed)
    present = np.unique(y[keep_index])
    per_class = len(keep_index) / max(len(present), 1)
    shots = draw_shots(y, classes, few_shot, rng) if few_shot > 0 else {}
    parts = [keep_index]
    for chosen in shots.values():
        repeats = max(1, int(round(per_class / len(chosen))))
        parts.append(np.tile(chosen, repeats))
    index = np.concatenate(parts)
    rng.shuffle(index)
    return index, shots


def draw_shots(y, classes, k, rng):
    """{class: sorted indices of k examples of it drawn at random} for each class in order. The
    same rng state gives the same shots to every experiment (the VAE's four shots of a 9 are
    FIGR's), so few-shot results are compared on the same images."""
    shots = {}
    for c in classes:
        candidates = np.flatnonzero(np.asarray(y) == c)
        if len(candidates) and k > len(candidates):  # "few-shot" with the whole class would be a lie
            raise UsageError(
                f"{k} shots of class {c} were asked for, but it has only {len(candidates)} examples"
            )
        if len(candidates):
            shots[int(c)] = np.sort(rng.choice(candidates, size=k, replace=False))
    return shots
