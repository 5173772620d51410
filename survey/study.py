"""A study: generated images from our runs and real images of the data set they used, mixed,
written as PNGs under random ids, with a manifest that maps each id to its source.

Nothing a participant's browser receives names a source: image files are <random id>.png, the
manifest stays on the server. Every source is put into one format (the real images' channels,
one size, PNG files of one length) and checked for tells (survey/tells.py). The tutorial's four
images (two real, two generated, labelled) are drawn apart from the study's, the least telling
ones. A few study images are shown twice (a consistency check).
"""

import dataclasses
import io as pyio
import json
import os
import secrets
import zipfile

import numpy as np

from common import files
from common.classes import UsageError

MANIFEST = "manifest.json"
VERSION = 2
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
    data_dir: str | None = None  # the run's --data_dir (its real images are read from there too)


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
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise UsageError(f"--runs: {path} is unreadable ({type(error).__name__}: {error})") from error
    if samples.ndim != 4 or samples.shape[-1] not in (1, 3) or len(samples) == 0:
        raise UsageError(
            f"--runs: {path} holds no images (shape {samples.shape}); 2-d runs cannot be surveyed"
        )
    metrics = files.read_json(os.path.join(run_dir, "metrics.json"), {}) or {}
    config = files.read_json(os.path.join(run_dir, "run_config.json"), {}) or {}
    config = config.get("spec", config) if isinstance(config, dict) else {}  # format 2 keeps the spec apart
    source = str(metrics.get("data_source", ""))
    data_dir = metrics.get("flags.data_dir") or config.get("data_dir") or None
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
        data_dir,
    )


def fit_images(images, size, channels, mode):
    """uint8 or float images (N, h, w, c) -> float (N, size, size, channels) in [0, 1]. Colour to
    grey by luminance (ITU-R 601), grey to colour by repeating the channel."""
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
        x = (x @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    return np.clip(x, 0.0, 1.0)


def is_grey(images, tolerance=2 / 255):
    """True when every image's channels agree (grey stored as RGB counts as grey)."""
    x = np.asarray(images, np.float32)
    if x.shape[-1] == 1:
        return True
    return float(np.abs(x - x.mean(-1, keepdims=True)).max()) <= tolerance


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
    size in the data set's own channels, or images from real_dir (any PNG/JPEG files, as RGB);
    returns (images, source, [(index or file name, class or None)])."""
    size, fit = runs[0].samples.shape[1], runs[0].fit
    if real_dir is not None:
        from PIL import Image, UnidentifiedImageError

        from common.image_files import to_8bit

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
                    images.append(np.asarray(to_8bit(img, "RGB").resize((size, size)), np.uint8))
            except (OSError, UnidentifiedImageError) as error:
                raise UsageError(f"--real_dir: {name} is not a readable image ({error})") from error
        meta = [(name, None) for name in chosen]
        return (
            fit_images(np.stack(images), size, 3, "resize"),
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
    data_dirs = {r.data_dir for r in runs}
    if len(data_dirs) > 1:
        raise UsageError(f"the runs read their data from different --data_dir {sorted(map(str, data_dirs))}")
    data_dir = data_dirs.pop()
    if load is None:
        from common.image_data import load_image_data

        load = load_image_data
    data = load(datasets.pop()) if data_dir is None else load(datasets.pop(), data_dir=data_dir)
    labels = np.asarray(data.test_y)
    candidates = np.arange(len(labels))
    if runs[0].classes is not None:
        candidates = np.flatnonzero(np.isin(labels, runs[0].classes))
    if len(candidates) < count:
        raise UsageError(f"the held-out split has {len(candidates)} images; the study needs {count}")
    picked = [int(candidates[i]) for i in stratified(labels[candidates], count, rng)]
    meta = [(i, int(data.test_y[i])) for i in picked]
    native = data.test_x.shape[-1] if np.ndim(data.test_x) == 4 else 1
    return fit_images(data.test_x[picked], size, native, fit), f"{data.source}, held-out (test) split", meta


def to_png(image, view=VIEW_SIZE):
    """One image in [0, 1] (H, W, 1 or 3) -> PNG bytes, upscaled (nearest) to about `view` pixels,
    8-bit grey or RGB, no metadata."""
    from PIL import Image

    x = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
    img = Image.fromarray(x[..., 0] if x.shape[-1] == 1 else x)
    scale = max(1, view // max(x.shape[:2]))
    img = img.resize((x.shape[1] * scale, x.shape[0] * scale), Image.NEAREST)
    buffer = pyio.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


TUTORIAL_CANDIDATES = 12  # per side: the tutorial's images are the least telling of these


def build(
    runs,
    out_dir,
    per_run,
    real_count,
    seed,
    real_dir=None,
    load=None,
    questions=None,
    consent=None,
    repeats=2,
    accept_tells=False,
    tell_threshold=0.75,
):
    """Writes the study into out_dir (images/, manifest.json); returns the manifest. Refuses (one
    line, nothing written) when the tell check finds that a simple classifier on low-level
    statistics tells a generated source from the real images, unless accept_tells."""
    from survey import questions as questions_lib
    from survey import tells

    if per_run < 1 or real_count < 1:
        raise UsageError("--per_run and --real must be at least 1")
    if not 1 <= repeats <= 5:
        raise UsageError("--repeats must be 1 to 5")
    labels = [r.label for r in runs]
    if len(set(labels)) != len(labels) or "real" in labels:
        raise UsageError(f"the runs' labels must be distinct and not 'real': {labels}; give --labels")
    shapes = {r.samples.shape[1:3] for r in runs}
    if len(shapes) > 1:
        raise UsageError(f"the runs' images differ in size {sorted(shapes)}; a study needs one size")
    if os.path.exists(os.path.join(out_dir, MANIFEST)):
        raise UsageError(f"--out {out_dir} already holds a study; choose a new directory")
    rng = np.random.default_rng(seed)
    for r in runs:
        if len(r.samples) < per_run + 2:
            raise UsageError(
                f"{r.label}: {len(r.samples)} samples, the study needs {per_run} (+2 for the tutorial)"
            )
    extra_real = min(TUTORIAL_CANDIDATES, 2 + real_count)
    reals, real_source, real_meta = real_images(
        runs, real_count + extra_real, rng, real_dir=real_dir, load=load
    )
    # One format for every source: the real images' channels (grey when they are grey), one size.
    channels = 1 if is_grey(reals) else 3
    size = runs[0].samples.shape[1]

    def render(images):
        return [to_png(x) for x in fit_images(images, size, channels, "resize")]

    study, candidates = [], []  # (source, origin, index, class, png)
    for r in runs:
        order = rng.permutation(len(r.samples))
        pick, spare = order[:per_run], order[per_run : per_run + TUTORIAL_CANDIDATES]
        for i, png in zip(pick, render(r.samples[pick])):
            study.append((r.label, r.run_dir, int(i), None, png))
        for i, png in zip(spare, render(r.samples[spare])):
            candidates.append((r.label, r.run_dir, int(i), None, png))
    for i, png in enumerate(render(reals)):
        index, label = real_meta[i]
        (study if i < real_count else candidates).append(("real", real_source, index, label, png))
    # The tell check, on the files as served (equal lengths).
    padded = tells.equal_lengths([e[4] for e in study + candidates])
    study = [(*e[:4], png) for e, png in zip(study, padded[: len(study)])]
    candidates = [(*e[:4], png) for e, png in zip(candidates, padded[len(study) :])]
    stats = {e: tells.features(e[4]) for e in study + candidates}
    by_source = {}
    for e in study:
        by_source.setdefault(e[0], []).append(stats[e])
    report = tells.check(by_source, threshold=tell_threshold, seed=seed)
    if report["tells"] and not accept_tells:
        raise UsageError(
            "participants could tell the sources apart without judging the images: "
            + "; ".join(report["tells"])
            + ". Nothing was written; --accept_tells builds it anyway (the manifest and the analysis say so)"
        )
    tutorial = choose_tutorial(study, candidates, stats)
    os.makedirs(os.path.join(out_dir, "images"), exist_ok=True)

    def entry(e):
        image_id = secrets.token_hex(8)  # unguessable and meaningless: the file name a browser sees
        files.write_bytes(os.path.join(out_dir, "images", f"{image_id}.png"), e[4])
        out = {"id": image_id, "source": e[0], "origin": e[1], "index": e[2]}
        if e[3] is not None:
            out["class"] = e[3]
        return out

    order = rng.permutation(len(study))  # file ids in no order that follows the sources
    entries = [entry(study[i]) for i in order]
    picked = [int(i) for i in rng.choice(len(entries), size=min(repeats, len(entries)), replace=False)]
    spec = questions or questions_lib.load(None)
    manifest = {
        "version": VERSION,
        "seed": seed,
        "sources": labels + ["real"],
        "runs": [
            {"label": r.label, "run_dir": r.run_dir, "data_source": r.data_source, "samples": len(r.samples)}
            for r in runs
        ],
        "real_source": real_source,
        "format": {"channels": channels, "png_bytes": len(study[0][4]), "size": size},
        "images": entries,
        "tutorial": [entry(e) for e in tutorial],
        "repeats": [entries[i]["id"] for i in picked],
        "questions": spec,
        "consent": consent or questions_lib.DEFAULT_CONSENT,
        "tells": report,
        "tells_accepted": bool(report["tells"]),
    }
    files.write_json(os.path.join(out_dir, MANIFEST), manifest)
    return manifest


def choose_tutorial(study, candidates, stats):
    """Two generated and two real images for the labelled tutorial, from images the study does not
    show: those the tell classifier (fitted on the study's images) finds least telling, so the
    examples teach no low-level difference."""
    from survey import tells

    x = np.array([stats[e] for e in study])
    y = np.array([e[0] == "real" for e in study], np.float64)
    score = tells.fit_scorer(x, y)
    chosen = []
    for real in (False, True):
        side = [e for e in candidates if (e[0] == "real") == real]
        sources = sorted({e[0] for e in side})
        ranked = sorted(side, key=lambda e: float(abs(score(stats[e])[0] - 0.5)))
        for source in sources * 2:  # spread the generated examples over the runs
            pick = next((e for e in ranked if e[0] == source and e not in chosen), None)
            if pick is not None and sum((c[0] == "real") == real for c in chosen) < 2:
                chosen.append(pick)
    if len(chosen) != 4:
        raise UsageError("too few spare images for the tutorial (two generated and two real)")
    return chosen


def load_manifest(study_dir):
    """The manifest of a study directory, checked; UsageError with one line when it is not one."""
    from survey import questions as questions_lib

    if not os.path.isdir(study_dir):
        raise UsageError(f"--study {study_dir} is not a directory")
    path = os.path.join(study_dir, MANIFEST)
    if not os.path.exists(path):
        raise UsageError(f"--study {study_dir} has no {MANIFEST} (make one with make_study.py)")
    try:
        with open(path) as f:
            manifest = json.load(f)
        if manifest.get("version") != VERSION:
            raise UsageError(
                f"--study: {path} was made by an older make_study.py (version {manifest.get('version')}); "
                "make the study again"
            )
        images = manifest["images"] + manifest["tutorial"]
        ids = [e["id"] for e in images]
        assert len(set(ids)) == len(ids) and set(manifest["repeats"]) <= set(ids)
        assert all(e["source"] in manifest["sources"] for e in images)
        assert len(manifest["tutorial"]) == 4 and isinstance(manifest["consent"], str)
        manifest["questions"] = questions_lib.check(manifest["questions"], path)
    except UsageError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError, AssertionError) as error:
        raise UsageError(f"--study: {path} is broken ({type(error).__name__}: {error})") from error
    missing = [i for i in ids if not os.path.exists(os.path.join(study_dir, "images", f"{i}.png"))]
    if missing:
        raise UsageError(
            f"--study: {len(missing)} image(s) of the manifest are missing from {study_dir}/images"
        )
    return manifest
