"""The output contract of a run (docs/outputs.md): metrics.json, samples.npz, figures, checkpoints/,
logs/ in one directory; a directory holds one configuration, so rerunning resumes it."""

import hashlib
import json
import os
import sys

import numpy as np

from common import files


def default_out_dir(experiment, fig_name, name_parts, config):
    """runs/<experiment>/<fig_name> or runs/<experiment>/<parts>-<hash of config>: the same
    command always maps to the same directory (and resumes there)."""
    if fig_name:
        return os.path.join("runs", experiment, fig_name)
    digest = hashlib.sha1(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:6]
    return os.path.join("runs", experiment, "-".join([*name_parts, digest]))


def write_run_outputs(out_dir, samples, metrics, flag_values, labels=None, figures=None, more_metrics=None):
    """samples.npz, the figures, and last metrics.json (flat metric keys + `flags.<name>`, and what
    `more_metrics()` returns then: the stages' seconds, these writes included); returns the figure
    paths. metrics.json last: a run directory that has it has everything."""
    arrays = {"samples": np.asarray(samples, np.float32)}
    if labels is not None:
        arrays["labels"] = np.asarray(labels, np.int32)
    files.write_npz(os.path.join(out_dir, "samples.npz"), **arrays)
    paths = []
    for name, fig in (figures or {}).items():
        path = os.path.join(out_dir, name)
        files.save_figure(fig, path)
        paths.append(path)
    log_hparams(out_dir, flag_values, metrics)
    flat = dict(metrics)
    flat.update({f"flags.{k}": v for k, v in flag_values.items()})
    flat.update(more_metrics() if more_metrics else {})
    files.write_json(os.path.join(out_dir, "metrics.json"), flat)
    return paths


def log_hparams(out_dir, flag_values, metrics):
    """The run's flags as hyperparameters and its final numbers as scalars under logs/hparams, so
    TensorBoard's HParams dashboard (`tensorboard --logdir runs`) compares runs on their results.
    A rerun replaces the record."""
    import glob

    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    folder = os.path.join(out_dir, "logs", "hparams")
    for old in glob.glob(os.path.join(folder, "events.out.tfevents.*")):
        os.remove(old)
    hparams = {
        k: v if isinstance(v, (bool, int, float, str)) else str(v)
        for k, v in flag_values.items()
        if v is not None
    }
    numbers = {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and np.isfinite(v)
    }
    writer = tf.summary.create_file_writer(folder)
    with writer.as_default(step=int(metrics.get("steps") or 0)):
        hp.hparams(hparams, trial_id=os.path.basename(os.path.abspath(out_dir)))
        for name, value in numbers.items():
            tf.summary.scalar(name, value)
    writer.flush()
    writer.close()


def log_images(out_dir, step, images):
    """TensorBoard images under out_dir/logs/train: images = {tag: (N, H, W, C) in [0, 1]}."""
    import tensorflow as tf

    writer = tf.summary.create_file_writer(os.path.join(out_dir, "logs", "train"))
    with writer.as_default(step=int(step)):
        for tag, batch in images.items():
            batch = np.clip(np.asarray(batch, np.float32), 0.0, 1.0)
            tf.summary.image(tag, batch, max_outputs=len(batch))
    writer.flush()


def snapshot_rows(folder, label, max_rows, per_row):
    """Rows for a progression figure from the snapshots `<prefix>_<step>.npz` (key `samples`) in
    folder: up to max_rows of them, evenly spaced from first to last, `per_row` images each,
    labelled `<label> <step>`. [] when there are none."""
    names = sorted(f for f in os.listdir(folder) if f.endswith(".npz")) if os.path.isdir(folder) else []
    if not names:
        return []
    rows = []
    for i in np.unique(np.linspace(0, len(names) - 1, min(max_rows, len(names))).round().astype(int)):
        step = int(names[i].rsplit("_", 1)[-1][: -len(".npz")])
        with np.load(os.path.join(folder, names[i])) as f:
            rows.append((f"{label} {step}", f["samples"][:per_row]))
    return rows


def report_run(values, paths, out_dir, keys, notebook=False):
    """What an entry script prints at the end of a run: the headline numbers among `keys`, the
    files written, and (--notebook) the figures inline."""
    for key in keys:
        if key in values:
            value = values[key]
            print(f"{key} = {value:.3f}" if isinstance(value, float) else f"{key} = {value}")
    print("wrote metrics.json, samples.npz, " + ", ".join(os.path.basename(p) for p in paths))
    print(f"  in {os.path.abspath(out_dir)}")
    if notebook:
        show_in_notebook(paths)


def show_in_notebook(paths):
    """Displays saved figures inline under IPython; elsewhere says where they are."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    if shell is None:
        print("--notebook: not running under IPython/Jupyter; the figures are saved in the files above.")
        return
    from IPython.display import Image, display

    for path in paths:
        display(Image(filename=path))
