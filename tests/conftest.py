"""Test set-up: two logical CPU devices (for the tf.distribute path), no network, and the folders
of the experiments (their scripts run in them as a user runs them)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Tests never touch the network (the download test serves files from 127.0.0.1 itself).
os.environ["CREATIVE_GANS_NODOWNLOAD"] = "1"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOY_DIR = os.path.join(ROOT, "2D-codes")
VAE_DIR = os.path.join(ROOT, "vae")
INFOGAN_DIR = os.path.join(ROOT, "infogan")
FIGR_DIR = os.path.join(ROOT, "figr")
CAN_DIR = os.path.join(ROOT, "can")
DIFFUSION_DIR = os.path.join(ROOT, "diffusion")

import tensorflow as tf  # noqa: E402  (after the environment above is set)

# Must happen before TensorFlow initialises its devices, i.e. before any test runs an op.
_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(_cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)


_MIRRORED = []


def two_cpu_mirrored_strategy():
    """One MirroredStrategy over the two logical CPUs for every in-process test: two strategies in
    one process hand out the same collective-op keys and abort each other's all-reduces."""
    if not _MIRRORED:
        _MIRRORED.append(
            tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")[:2]])
        )
    return _MIRRORED[0]
