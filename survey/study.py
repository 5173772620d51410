"""A study: generated images from our runs and real images of the data set they used, mixed,
written as PNGs under random ids, with a manifest that maps each id to its source.

Nothing a participant's browser receives names a source: image files are <random id>.png, the
manifest stays on the server. The tutorial's four images (two real, two generated, labelled)
are drawn apart from the study's. One study image is shown twice (an attention check).
"""

import dataclasses
import io as pyio
import json
import os
import secrets

import numpy as np

from common import files
from common.classes import UsageError

MANIFEST = "manifest.json"
VERSION = 1
VIEW_SIZE = 256  # pixels a side in the PNGs (images are upscaled with nearest-neighbour)


@dataclasses.dataclass(frozen=True)
class RunImages:
    label: str  # how results name the source (never shown to participants)
    run_dir: str
    samples: np.ndarray  # (N, H, W, C) in [0, 1]
    dataset: str | None  # the data set the run trained on (None: unknown, --real_dir needed)
    fit: str  # how real images are brought to the run's size: "resize" or "pad"
    data_source: str
    classes: tuple | None = None  # the data set's classes the run used (None: all)


def read_run(run_dir, label=None):
    """The samples and data set of one of our image runs (VAE, InfoGAN family, FIGR, CAN)."""
    if not os.path.isdir(run_dir):
        raise UsageError(f"--runs: {run_dir} is not a directory")
    path = os.path.join(run_dir, "samples.npz")
    if not os.path.exists(path):
        raise UsageError(f"--runs: {run_dir} has no samples.npz (not a finished image run)")
    try:
        with np.load(path) as data:
            samples = np.asarray(data["samples"], np.float32)
    except (OSError, ValueError, KeyError) as error:
        raise UsageError(f"--runs: {path} is unreadable ({error})") from error
    if samples.ndim != 4 or samples.shape[-1] not in (1, 3) or len(samples) == 0:
        raise UsageError(
            f"--runs: {path} holds no images (shape {samples.shape}); 2-d runs cannot be surveyed"
        )
    metrics = files.read_json(os.path.join(run_dir, "metrics.json"), {}) or {}
    config = files.read_json(os.path.join(run_dir, "run_config.json"), {}) or {}
    source = str(metrics.get("data_source", ""))
    dataset = metrics.get("flags.dataset") or config.get("dataset")
    if source.startswith("STAND-IN"):  # CAN without WikiArt: Fashion-MNIST classes as genres
        dataset = "fashion-mnist"
    elif "genres" in config:  # CAN on WikiArt folders: real images come from --real_dir
        dataset = None
    fit = "pad" if "meta_iterations" in metrics else "resize"  # FIGR pads 28x28 digits to 32x32
    classes = None
    if source.startswith("STAND-IN") and str(config.get("genres", "")).isdigit():
        classes = tuple(range(int(config["genres"])))  # the stand-in's first K classes are its genres
    return RunImages(
        label or os.path.basename(os.path.normpath(run_dir)),
        os.path.abspath(run_dir),
        np.clip(samples, 0.0, 1.0),
        None if dataset is None else str(dataset).lower(),
        fit,
        source,
        classes,
    )


def fit_images(images, size, channels, mode):
    """uint8 or float images (N, h, w, c) -> float (N, size, size, channels) in [0, 1]."""
    x = np.asarray(images)
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    if x.ndim == 3:
        x = x[..., None]
    h = x.shape[1]
    if h != size:
        if mode == "pad" and size > h:
            before = (size - h) // 2
            x = np.pad(x, ((0, 0), (before, size - h - before), (before, size - h - before), (0, 0)))
        else:
            from PIL import Image

            x = np.stack(
                [
                    np.stack(
                        [
                            np.asarray(
                                Image.fromarray(img[..., c]).resize((size, size), Image.BILINEAR), np.float32
                            )
                            for c in range(img.shape[-1])
                        ],
                        -1,
                    )
                    for img in x
                ]
            )
    if x.shape[-1] == 1 and channels == 3:
        x = np.repeat(x, 3, axis=-1)
    elif x.shape[-1] == 3 and channels == 1:
        x = x.mean(-1, keepdims=True)
    return np.clip(x, 0.0, 1.0)


def stratified(labels, count, rng):
    """`count` indices balanced over the labels (round-robin over shuffled classes)."""
    labels = np.asarray(labels)
    pools = {c: list(rng.permutation(np.flatnonzero(labels == c))) for c in np.unique(labels)}
    order = list(rng.permutation(list(pools)))
    picked = []
    while len(picked) < count and any(pools.values()):
        for c in order:
            if pools[c] and len(picked) < count:
                picked.append(int(pools[c].pop()))
    return picked


def real_images(runs, count, rng, real_dir=None, load=None):
    """`count` held-out real images of the runs' data set, balanced over classes, at the runs'
    size, or images from real_dir (any PNG/JPEG files); returns (images, source, [(index or file
    name, class or None)])."""
    size, channels, fit = runs[0].samples.shape[1], runs[0].samples.shape[-1], runs[0].fit
    if real_dir is not None:
        from PIL import Image, UnidentifiedImageError

        if not os.path.isdir(real_dir):
            raise UsageError(f"--real_dir {real_dir} is not a directory")
        files = sorted(
            f for f in os.listdir(real_dir) if f.lower().endswith((".png", ".jpg", ".jpeg", ".bmp", ".gif"))
        )
        if len(files) < count:
            raise UsageError(f"--real_dir {real_dir} holds {len(files)} images; the study needs {count}")
        chosen = [files[i] for i in rng.permutation(len(files))[:count]]
        images = []
        for name in chosen:
            try:
                with Image.open(os.path.join(real_dir, name)) as img:
                    mode = "RGB" if channels == 3 else "L"
                    images.append(np.asarray(img.convert(mode).resize((size, size)), np.uint8))
            except (OSError, UnidentifiedImageError) as error:
                raise UsageError(f"--real_dir: {name} is not a readable image ({error})") from error
        meta = [(name, None) for name in chosen]
        return (
            fit_images(np.stack(images), size, channels, "resize"),
            f"images in {os.path.abspath(real_dir)}",
            meta,
        )
    datasets = {r.dataset for r in runs}
    if None in datasets:
        raise UsageError(
            "a run trained on WikiArt folders: give its held-out real images with --real_dir DIR"
        )
    if len(datasets) > 1:
        raise UsageError(
            f"the runs trained on different data sets ({', '.join(sorted(datasets))}): a study compares "
            "runs on one data set (or give --real_dir)"
        )
    if load is None:
        from common.image_data import load_image_data

        load = load_image_data
    data = load(datasets.pop())
    labels = np.asarray(data.test_y)
    candidates = np.arange(len(labels))
    if runs[0].classes is not None:
        candidates = np.flatnonzero(np.isin(labels, runs[0].classes))
    if len(candidates) < count:
        raise UsageError(f"the held-out split has {len(candidates)} images; the study needs {count}")
    picked = [int(candidates[i]) for i in stratified(labels[candidates], count, rng)]
    meta = [(i, int(data.test_y[i])) for i in picked]
    return fit_images(data.test_x[picked], size, channels, fit), f"{data.source}, held-out (test) split", meta


def to_png(image, path, view=VIEW_SIZE):
    from PIL import Image

    x = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
    img = Image.fromarray(x[..., 0] if x.shape[-1] == 1 else x)
    scale = max(1, view // max(x.shape[:2]))
    img = img.resize((x.shape[1] * scale, x.shape[0] * scale), Image.NEAREST)
    buffer = pyio.BytesIO()
    img.save(buffer, format="PNG")
    files.write_bytes(path, buffer.getvalue())


def build(runs, out_dir, per_run, real_count, seed, real_dir=None, load=None):
    """Writes the study into out_dir (images/, manifest.json); returns the manifest."""
    if per_run < 1 or real_count < 1:
        raise UsageError("--per_run and --real must be at least 1")
    labels = [r.label for r in runs]
    if len(set(labels)) != len(labels):
        raise UsageError(f"two runs share the label {labels}; give distinct --labels")
    shapes = {r.samples.shape[1:] for r in runs}
    if len(shapes) > 1:
        raise UsageError(f"the runs' images differ in shape {sorted(shapes)}; a study needs one shape")
    rng = np.random.default_rng(seed)
    tutorial_fake = 2
    for r in runs:
        if len(r.samples) < per_run + tutorial_fake:
            raise UsageError(
                f"{r.label}: {len(r.samples)} samples, the study needs {per_run} "
                f"(+{tutorial_fake} for the tutorial)"
            )
    reals, real_source, real_meta = real_images(runs, real_count + 2, rng, real_dir=real_dir, load=load)
    if os.path.exists(os.path.join(out_dir, MANIFEST)):
        raise UsageError(f"--out {out_dir} already holds a study; choose a new directory")
    os.makedirs(os.path.join(out_dir, "images"), exist_ok=True)
    entries, tutorial = [], []

    def add(image, source, origin, index, into, label=None):
        image_id = secrets.token_hex(8)  # unguessable and meaningless: the file name a browser sees
        to_png(image, os.path.join(out_dir, "images", f"{image_id}.png"))
        entry = {"id": image_id, "source": source, "origin": origin, "index": index}
        if label is not None:
            entry["class"] = label
        into.append(entry)

    leftovers = []
    for r in runs:
        order = rng.permutation(len(r.samples))
        for i in order[:per_run]:
            add(r.samples[i], r.label, r.run_dir, int(i), entries)
        leftovers.append((r, list(order[per_run:])))
    while len(tutorial) < tutorial_fake:  # generated tutorial images, taken from the runs in turn
        for r, rest in leftovers:
            if rest and len(tutorial) < tutorial_fake:
                i = rest.pop(0)
                add(r.samples[i], r.label, r.run_dir, int(i), tutorial)
    for i in range(real_count + 2):
        index, label = real_meta[i]
        add(reals[i], "real", real_source, index, entries if i < real_count else tutorial, label)
    manifest = {
        "version": VERSION,
        "seed": seed,
        "sources": labels + ["real"],
        "runs": [
            {"label": r.label, "run_dir": r.run_dir, "data_source": r.data_source, "samples": len(r.samples)}
            for r in runs
        ],
        "real_source": real_source,
        "images": entries,
        "tutorial": tutorial,
        "attention_repeat": entries[int(rng.integers(len(entries)))]["id"],
    }
    files.write_json(os.path.join(out_dir, MANIFEST), manifest)
    return manifest


def load_manifest(study_dir):
    """The manifest of a study directory, checked; UsageError with one line when it is not one."""
    if not os.path.isdir(study_dir):
        raise UsageError(f"--study {study_dir} is not a directory")
    path = os.path.join(study_dir, MANIFEST)
    if not os.path.exists(path):
        raise UsageError(f"--study {study_dir} has no {MANIFEST} (make one with make_study.py)")
    try:
        with open(path) as f:
            manifest = json.load(f)
        images = manifest["images"] + manifest["tutorial"]
        ids = [e["id"] for e in images]
        assert len(set(ids)) == len(ids) and manifest["attention_repeat"] in ids
        assert all(e["source"] in manifest["sources"] for e in images)
        assert manifest["version"] == VERSION and len(manifest["tutorial"]) == 4
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as error:
        raise UsageError(f"--study: {path} is broken ({type(error).__name__}: {error})") from error
    missing = [i for i in ids if not os.path.exists(os.path.join(study_dir, "images", f"{i}.png"))]
    if missing:
        raise UsageError(
            f"--study: {len(missing)} image(s) of the manifest are missing from {study_dir}/images"
        )
    return manifest
