"""Atomic output files: write to a temporary name in the same directory, then rename.

A run killed half-way never leaves a half-written metrics.json, samples.npz or figure behind, and
a failed run never replaces the outputs of an earlier good one until it has its own ready.
"""

import contextlib
import io
import json
import os
import tempfile

import numpy as np


def _file_mode():
    """What open() would give a new file under the user's umask (mkstemp's are 0600, which
    colleagues on a shared server could not read)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_pending = set()  # temporary files being written now (a Ctrl-C's exit removes them: remove_pending)


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path next to `path`; renames it onto `path` if the block succeeds."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path), suffix=".tmp")
    os.close(fd)
    _pending.add(tmp)
    try:
        yield tmp
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    finally:
        _pending.discard(tmp)
        if os.path.exists(tmp):
            os.remove(tmp)


def remove_pending():
    """Removes the temporary files of writes still in progress: for an exit that skips the
    unwinding (Ctrl-C ends a run from its signal handler), so no `.<name>.tmp` is left behind."""
    for tmp in list(_pending):
        try:
            os.remove(tmp)
        except OSError:
            pass


def write_bytes(path, data: bytes):
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)


def _to_builtin(value):
    """Turns numpy scalars/arrays and tuples into JSON-serialisable Python values."""
    if isinstance(value, dict):
        return {str(k): _to_builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_builtin(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_json(path, obj):
    text = json.dumps(_to_builtin(obj), indent=2, sort_keys=True, allow_nan=True)
    write_bytes(path, (text + "\n").encode("utf-8"))


def read_json(path, default=None):
    if not os.path.exists(path):
        return default
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_npz(path, **arrays):
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    write_bytes(path, buffer.getvalue())


def save_figure(fig, path, dpi=110):
    """Saves a matplotlib Figure atomically (format from the file name)."""
    fmt = os.path.splitext(path)[1].lstrip(".") or "png"
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi, bbox_inches="tight")
    write_bytes(path, buffer.getvalue())


CACHE_ENV = "CREATIVE_GANS_CACHE"


def cache_dir(*parts):
    """Where trained judges and scanned folders are kept between runs: $CREATIVE_GANS_CACHE, else
    ~/.cache/creative-gans; `parts` name a subfolder."""
    root = os.environ.get(CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "creative-gans")
    return os.path.join(root, *parts)
