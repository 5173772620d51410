"""Labelled image folders (`<data_dir>/<class>/*.jpg`, the WikiArt dump's layout) streamed through
tf.data, for data sets that do not fit in memory.

A scan opens every file once with Pillow: files that are not images or do not decode (truncated,
corrupt) are skipped; RGB and grayscale JPEG / PNG / GIF files up to 16 Mpx are streamed as they
are (TensorFlow decodes them, grayscale to RGB); anything else (BMP, CMYK, alpha, palette, 16-bit
and float, TIFF, WebP, oversized, ...) is converted once to an RGB PNG at the training size in a
cache directory (alpha composited on white, 16-bit scaled: common/image_files.py). Every skip
and conversion is counted: the counts go to the log and metrics.json. The scan is cached by the
files' paths, sizes and modification times (a damaged cache is scanned again). Reads no flags.
"""

import dataclasses
import hashlib
import json
import os
import re

import numpy as np

from common import files
from common.classes import UsageError

STREAMED_FORMATS = {"JPEG", "PNG", "GIF"}
STREAMED_MODES = {"RGB", "L"}
SCAN_VERSION = 3  # 2: the original file of each used image is kept; 3: BMP, 16-bit, oversized converted


def normalise(name):
    """'Early_Renaissance', 'early-renaissance', 'Early Renaissance' -> 'earlyrenaissance'."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def match_classes(data_dir, wanted):
    """{wanted name: sub-directory} for each wanted class name, matched leniently (case, spaces,
    '_' and '-' ignored; the whole name, so 'realism' never matches 'New_Realism')."""
    if not os.path.isdir(data_dir):
        raise UsageError(f"--data_dir {data_dir} is not a directory")
    folders = {
        normalise(f): f for f in sorted(os.listdir(data_dir)) if os.path.isdir(os.path.join(data_dir, f))
    }
    if not folders:
        raise UsageError(
            f"--data_dir {data_dir} has no class sub-directories (expected <data_dir>/<genre>/*.jpg)"
        )
    missing = [w for w in wanted if normalise(w) not in folders]
    if missing:
        raise UsageError(
            f"--data_dir {data_dir} has no directory for {', '.join(repr(m) for m in missing)} "
            f"(found: {', '.join(sorted(folders.values())[:12])})"
        )
    return {w: os.path.join(data_dir, folders[normalise(w)]) for w in wanted}


@dataclasses.dataclass
class FolderScan:
    paths: list  # files to stream (originals or converted copies), one class label each
    labels: list
    counts: dict  # files_seen, used, skipped_not_image, skipped_corrupt, converted_<why>, ...
    origins: list = None  # the file each used image came from (a converted copy's original)


MAX_STREAM_PIXELS = 16_000_000  # a larger file is downscaled once at the scan, not decoded every epoch
CONVERT_VERSION = 2  # 2: 16-bit and float images scaled, not clipped; names keyed by file and size


def _converted_name(path, size):
    """The converted copy's name: one per (file, its size and time, training size), so runs at two
    training sizes never overwrite each other's copies and an edited file is converted again."""
    stat = os.stat(path)
    key = json.dumps([CONVERT_VERSION, os.path.abspath(path), stat.st_size, stat.st_mtime_ns, size])
    return hashlib.sha1(key.encode()).hexdigest()[:20] + ".png"


def _classify(path, size, convert_dir):
    """('stream', path) | ('convert:<why>', converted path) | ('skip:<why>', None) for one file.

    Streamed: RGB or grayscale JPEG, PNG and GIF up to MAX_STREAM_PIXELS (TensorFlow decodes them).
    Converted once: BMP (TensorFlow reads only some of its variants), CMYK, alpha, palette, 16-bit
    and float images, other formats, oversized files."""
    from PIL import Image, UnidentifiedImageError

    from common.image_files import has_alpha, to_8bit

    try:
        with Image.open(path) as image:
            fmt, mode = image.format, image.mode
            oversized = image.size[0] * image.size[1] > MAX_STREAM_PIXELS
            if fmt == "JPEG":
                image.draft("RGB", (size, size))  # DCT-domain downscale: a fast full decode
            image.load()  # a truncated or corrupt body fails here
            if (
                fmt in STREAMED_FORMATS
                and mode in STREAMED_MODES
                and not oversized
                and not getattr(image, "is_animated", False)
            ):
                return ("stream" if mode == "RGB" else "stream:grayscale"), path
            if has_alpha(image):
                why = "alpha"
            elif oversized:
                why = "oversized"
            elif mode.startswith(("I", "F")):
                why = "high_depth"
            elif fmt == "BMP":
                why = "bmp"
            else:
                why = {"CMYK": "cmyk", "P": "palette"}.get(mode, "other")
            flat = to_8bit(image, "RGB")
    except UnidentifiedImageError:
        return "skip:not_image", None
    except Image.DecompressionBombError:
        return "skip:too_large", None
    except (OSError, ValueError, SyntaxError):
        return "skip:corrupt", None
    out = os.path.join(convert_dir, _converted_name(path, size))
    files.write_bytes(out, _png_bytes(flat.resize((size, size), Image.BILINEAR)))
    return f"convert:{why}", out


def _png_bytes(image):
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _read_scan(cache_file, log):
    """A cached scan, or None when there is none or it is damaged (then it is scanned again)."""
    try:
        cached = files.read_json(cache_file)
        if cached is None:
            return None
        scan = FolderScan(
            list(cached["paths"]), list(cached["labels"]), dict(cached["counts"]), list(cached["origins"])
        )
        if not (len(scan.paths) == len(scan.labels) == len(scan.origins)):
            raise ValueError("lists of different lengths")
    except (OSError, ValueError, KeyError, TypeError) as error:
        log(f"data: the cached scan {cache_file} is damaged ({str(error)[:80]}); scanning again")
        return None
    return scan if all(os.path.exists(p) for p in scan.paths) else None


def scan_folders(class_dirs, size, cache_dir, log=print):
    """Scans {class name: directory} (label = position in the dict); cached."""
    found, broken = [], 0
    for label, folder in enumerate(class_dirs.values()):
        for root, _, names in os.walk(folder):  # does not follow symlinked folders: no loops
            for n in sorted(names):
                path = os.path.join(root, n)
                if n.startswith("."):
                    continue
                if not os.path.isfile(path):  # a dangling symlink, a symlink loop, a socket...
                    broken += 1
                    continue
                found.append((path, label))
    if broken:
        log(f"data: skipped {broken} entries that are not readable files (dangling or looping symlinks)")
    stamp = hashlib.sha1(
        json.dumps(
            [SCAN_VERSION, size]
            + [(p, label, os.path.getsize(p), int(os.path.getmtime(p))) for p, label in found]
        ).encode()
    ).hexdigest()[:16]
    cache_file = os.path.join(cache_dir, f"scan-{stamp}.json")
    cached = _read_scan(cache_file, log)
    if cached is not None:
        log(f"data: {len(cached.paths)} images (scan cached in {cache_file})")
        return cached
    convert_dir = os.path.join(cache_dir, "converted")
    os.makedirs(convert_dir, exist_ok=True)
    counts = {"files_seen": len(found)}
    paths, labels, origins = [], [], []
    log(f"data: scanning {len(found)} files (once; cached in {cache_dir})")
    for path, label in found:
        verdict, usable = _classify(path, size, convert_dir)
        counts[verdict.replace(":", "_")] = counts.get(verdict.replace(":", "_"), 0) + 1
        if usable:
            paths.append(usable)
            labels.append(label)
            origins.append(path)
    counts["used"] = len(paths)
    files.write_json(cache_file, {"paths": paths, "labels": labels, "counts": counts, "origins": origins})
    odd = {k: v for k, v in counts.items() if k.startswith(("skip", "convert", "stream_"))}
    if odd:
        log("data: " + ", ".join(f"{k.replace('_', ' ', 1)}: {v}" for k, v in sorted(odd.items())))
    return FolderScan(paths, labels, counts, origins)


def artgan_layout(data_dir):
    """(image root, style_val.csv or None) of a WikiArt folder. ArtGAN's distribution unpacks to
    wikiart/<Style>/*.jpg beside wikiart_csv/ (style_train.csv, style_val.csv: rows
    `Style/file.jpg,class index`); --data_dir may name either the folder holding both or wikiart/
    itself. A plain <genre>/*.jpg folder has no csv."""
    root = os.path.join(data_dir, "wikiart") if os.path.isdir(os.path.join(data_dir, "wikiart")) else data_dir
    parent = os.path.dirname(os.path.abspath(root))
    for folder in (data_dir, os.path.join(data_dir, "wikiart_csv"), os.path.join(parent, "wikiart_csv")):
        path = os.path.join(folder, "style_val.csv")
        if os.path.isfile(path):
            return root, path
    return root, None


def read_split(path):
    """The image paths (relative, '/'-separated) listed in an ArtGAN csv file."""
    with open(path, encoding="utf-8", errors="replace") as f:
        return {line.split(",")[0].strip().replace("\\", "/") for line in f if line.strip()}


def csv_split(origins, root, val_csv):
    """(train index, held-out index): the held-out images are those style_val.csv lists."""
    listed = read_split(val_csv)
    relative = [os.path.relpath(o, root).replace(os.sep, "/") for o in origins]
    heldout = np.array([i for i, r in enumerate(relative) if r in listed], dtype=np.int64)
    train = np.array([i for i, r in enumerate(relative) if r not in listed], dtype=np.int64)
    return train, heldout


def split_heldout(labels, fraction, seed):
    """(train index, held-out index): `fraction` of each class kept apart, at least one image."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, heldout = [], []
    for c in np.unique(labels):
        index = rng.permutation(np.flatnonzero(labels == c))
        k = max(1, int(round(fraction * len(index)))) if len(index) > 1 else 0
        heldout.append(index[:k])
        train.append(index[k:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(heldout))


def decode(path, size):
    """A file -> float32 (size, size, 3) in [0, 1] (grayscale becomes RGB)."""
    import tensorflow as tf

    image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    image = tf.image.resize(tf.cast(image, tf.float32) / 255.0, (size, size), antialias=True)
    return tf.clip_by_value(image, 0.0, 1.0)


def stream_dataset(paths, labels, size, batch_size, seed):
    """Infinite tf.data pipeline of (images (B, size, size, 3) in [0, 1], labels (B,)): files read
    and decoded in parallel, reshuffled every epoch (seeded), never all in memory."""
    import tensorflow as tf

    if len(paths) < batch_size:
        raise UsageError(f"--batch_size {batch_size} is larger than the {len(paths)} training images")
    entries = tf.data.Dataset.from_tensor_slices((list(paths), np.asarray(labels, np.int32)))
    entries = entries.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True).repeat()
    images = entries.map(
        lambda p, y: (decode(p, size), y), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    return images.batch(batch_size, drop_remainder=True).prefetch(2)


def load_arrays(paths, size, limit=None):
    """The first `limit` files decoded into one float32 array (for metrics and the classifier)."""
    import tensorflow as tf

    paths = list(paths)[:limit]
    ds = tf.data.Dataset.from_tensor_slices(paths).map(
        lambda p: decode(p, size), num_parallel_calls=tf.data.AUTOTUNE
    )
    return (
        np.concatenate([b.numpy() for b in ds.batch(256)])
        if paths
        else np.zeros((0, size, size, 3), np.float32)
    )
