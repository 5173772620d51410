"""Test set-up: two logical CPU devices (for the tf.distribute path), no network, and the folders
of the experiments (their scripts run in them as a user runs them)."""

import os
import signal

import pytest

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

_MIRRORED = []


def two_cpu_mirrored_strategy():
    """One MirroredStrategy over the two logical CPUs for every in-process test: two strategies in
    one process hand out the same collective-op keys and abort each other's all-reduces."""
    import tensorflow as tf

    if not _MIRRORED:
        _MIRRORED.append(
            tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")[:2]])
        )
    return _MIRRORED[0]


def _set_up_tensorflow():
    """In a process that runs tests (not xdist's controller, which only hands them out: TensorFlow's
    import there cost ~6 s of CPU the workers wanted)."""
    import tensorflow as tf

    # Must happen before TensorFlow initialises its devices, i.e. before any test runs an op.
    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2)

    # Iterators without tf.data's autotuning in the test processes. An iterator of an earlier test
    # left in a reference cycle is destroyed whenever Python's garbage collector next runs, in
    # whatever test runs then, and its destructor waits for its autotuning thread (gdb:
    # ~LogicalThreadWrapper in RootDataset::Iterator's destructor; the thread sleeps up to 60 s
    # between optimisations). After a few hundred tests one in-process test stalled 20-130 s in
    # nearly every full run with the CPU idle (test_harness, test_vae_models, test_diffusion_models,
    # test_downloads; 69 s in a run of the eight files one worker ran, none with this). The
    # pipelines give the same elements either way; scripts the tests start run in processes of
    # their own, with autotuning as users have it.
    def without_autotune(dataset):
        options = tf.data.Options()
        options.autotune.enabled = False
        return dataset.with_options(options)

    dataset_iter = tf.data.Dataset.__iter__
    distribute_dataset = tf.distribute.Strategy.experimental_distribute_dataset
    tf.data.Dataset.__iter__ = lambda self: dataset_iter(without_autotune(self))
    tf.distribute.Strategy.experimental_distribute_dataset = lambda self, dataset, *args, **kwargs: (
        distribute_dataset(self, without_autotune(dataset), *args, **kwargs)
    )


# The suite is CPU-bound (its test processes share the cores), and its last minutes were one worker
# finishing a long file alone. The files that take longest start first (longest processing time
# first; `make test` keeps this order with --no-loadscope-reorder): their totals as measured here,
# the rest follow in collection order.
LONGEST_FIRST = (  # seconds each took in a suite on 2026-12-07 (AVX-512 machine, 3 workers, 366 s)
    "test_report.py",  # ~130 s: the QUICK report through the job engine
    "test_infogan_script.py",  # ~100
    "test_scripts.py",
    "test_faults.py",
    "test_diffusion_script.py",
    "test_league.py",
    "test_survey.py",
    "test_figr_script.py",
    "test_gan_models.py",
    "test_can_script.py",
    "test_vae_script.py",
    "test_zygote.py",
    "test_multi_worker.py",
    "test_harness.py",
    "test_notebooks.py",
    "test_judge.py",
    "test_figr_models.py",
    "test_mixed_precision.py",  # ~13 s
)


# The judges, scanned folders and downloads the runs cache go to a folder of this test session,
# never the user's ~/.cache/creative-gans: the controlling process makes it before the workers
# start (they inherit it) and removes it at the end. Tests that need a cache of their own still set
# CREATIVE_GANS_CACHE themselves.
CACHE_ENV = "CREATIVE_GANS_CACHE"


def pytest_configure(config):
    worker = hasattr(config, "workerinput")
    if worker or not getattr(config.option, "numprocesses", None):  # this process runs tests
        _set_up_tensorflow()
    if not worker:  # the controller (or the only process)
        import tempfile

        config._session_cache = tempfile.mkdtemp(prefix="creative-gans-test-cache-")
        os.environ[CACHE_ENV] = config._session_cache


def pytest_unconfigure(config):
    folder = getattr(config, "_session_cache", None)
    if folder:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file keeps its order


# Tests run as from a terminal. A shell that runs the suite in the background (`make test &`, CI
# runners) ignores SIGINT, every process a test starts inherits that, and Python keeps an inherited
# SIG_IGN: no script a test starts could be interrupted, and the Ctrl-C tests would fail.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
_SIGINT_AT_START = signal.getsignal(signal.SIGINT)


@pytest.fixture(autouse=True)
def _sigint_left_as_found():
    """No test may leave this process's SIGINT disposition changed: an ignored SIGINT is inherited
    by every process a later test starts (Python then keeps it ignored), so those scripts could
    not be interrupted and the Ctrl-C tests would fail far from the cause. The disposition is put
    back and the test that changed it fails."""
    before = signal.getsignal(signal.SIGINT)
    if before is not _SIGINT_AT_START:  # a module or session fixture of this test changed it
        signal.signal(signal.SIGINT, _SIGINT_AT_START)
        pytest.fail(f"a fixture of this test left SIGINT's handler changed (-> {before!r})")
    yield
    after = signal.getsignal(signal.SIGINT)
    if after is not before:
        signal.signal(signal.SIGINT, before)
        pytest.fail(f"the test left SIGINT's handler changed ({before!r} -> {after!r})")
