"""Flag definitions shared by every entry script, and the wrapper that turns bad input into one
clear line and a non-zero exit. Only entry scripts call these, under `__main__`."""

import os
import sys

from absl import app, flags
from absl import logging as absl_logging

from common.classes import RunFailed, UsageError

# Kept here (not imported from common.distribute) so that checking flags does not import TensorFlow.
STRATEGIES = ("default", "mirrored", "multi_worker")


def define_run_flags(default_batch_size, default_seed=0):
    """--out_dir, --fig_name, --seed, --batch_size (unless default_batch_size is None: FIGR's batch
    is its --shots), --strategy, --notebook."""
    flags.DEFINE_string(
        "out_dir",
        None,
        "Where this run writes metrics.json, samples.npz, figures, "
        "checkpoints/ and logs/. Default: runs/<experiment>/<fig_name, or a name made "
        "from the flags>, so rerunning the same command resumes the same run.",
    )
    flags.DEFINE_string("fig_name", None, "Name of the run: names the output directory (and figures).")
    flags.DEFINE_integer(
        "seed", default_seed, "Random seed: the same seed and flags give the same numbers on the CPU."
    )
    if default_batch_size is not None:
        flags.DEFINE_integer("batch_size", default_batch_size, "Global batch size (split across devices).")
    flags.DEFINE_enum(
        "strategy",
        "default",
        STRATEGIES,
        "tf.distribute strategy: default (one device), "
        "mirrored (all local GPUs; on a CPU-only machine CREATIVE_GANS_CPU_DEVICES=2 makes two "
        "logical devices), multi_worker (the processes listed in TF_CONFIG, or Slurm's tasks; "
        "only the chief writes --out_dir).",
    )
    flags.DEFINE_boolean(
        "notebook",
        False,
        "Show the figures inline when running under IPython/Jupyter "
        "(they are always saved; a plain script never blocks).",
    )


def define_download_flag():
    """--download/--nodownload for the scripts that read MNIST or Fashion-MNIST."""
    flags.DEFINE_boolean(
        "download",
        True,
        "Fetch the real MNIST / Fashion-MNIST once into the cache when the network answers "
        "(--nodownload or CREATIVE_GANS_NODOWNLOAD=1: never; offline, the smaller fallback is used "
        "and said).",
    )


def define_mixed_precision_flag():
    """--mixed_precision for the image experiments with Keras layers (VAE, InfoGAN, CAN)."""
    flags.DEFINE_boolean(
        "mixed_precision",
        False,
        "Half-precision compute on float32 weights: mixed_float16 with dynamic loss scaling on GPUs, "
        "mixed_bfloat16 on CPUs; losses stay in float32.",
    )


def define_settings_flag(presets, about):
    """--settings default|<preset>: a named set of other flags' values (presets: {name: {flag:
    value}}), e.g. `report` = what the report's own code ran where our defaults differ. `about`
    says what each preset sets; flags given on the command line win over the preset."""
    flags.DEFINE_enum("settings", "default", ["default", *presets], about)


def apply_settings(flag_values, presets):
    """Sets the flags of the chosen --settings preset that the command line did not give (the
    resolved values are what the run records, like any flag's)."""
    for name, value in presets.get(flag_values.settings, {}).items():
        if name in flag_values and not flag_values[name].present:
            flag_values[name].value = value


def check_float_flags(flag_values):
    """Every float flag must be a finite number: nan and inf pass comparisons like `> 0` wrongly
    (nan) or blow a run up later (inf)."""
    import math

    for name in sorted(flag_values):
        flag = flag_values[name]
        if isinstance(flag.value, float) and not math.isfinite(flag.value):
            raise UsageError(f"--{name} must be a finite number (got {flag.value})")


def check_seed(value):
    require(0 <= value < 2**31, f"--seed must be in [0, 2^31) (got {value})")


def check_range(name, value, low, high, low_open=False, high_open=True):
    """low <= value < high by default; the bounds' openness as given."""
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    require(above and below, f"--{name} must be in {left}{low}, {high}{right} (got {value})")


def require(condition, message):
    if not condition:
        raise UsageError(message)


def check_positive(name, value):
    require(value >= 1, f"--{name} must be a positive integer (got {value})")


def check_non_negative(name, value):
    require(value >= 0, f"--{name} must not be negative (got {value})")


def run(main):
    """absl.app.run(main), printing a UsageError (bad flags, missing data, a checkpoint of another
    model) as one line `<script>: error: <message>` with exit status 2."""

    def wrapped(argv):
        if len(argv) > 1:
            raise UsageError(f"unexpected arguments {' '.join(argv[1:])} (flags start with --)")
        return main(argv)

    def guarded(argv):
        if not flags.FLAGS["verbosity"].present:  # TensorFlow's INFO lines would bury the progress bar
            absl_logging.set_verbosity(absl_logging.WARNING)
        script = os.path.basename(sys.argv[0])
        try:
            check_float_flags(flags.FLAGS)
            if "seed" in flags.FLAGS:
                check_seed(flags.FLAGS.seed)
            if "download" in flags.FLAGS and not flags.FLAGS.download:
                os.environ["CREATIVE_GANS_NODOWNLOAD"] = "1"  # read by common.downloads
            if "strategy" in flags.FLAGS and flags.FLAGS.strategy == "multi_worker":
                # Collective ops are configured once, before any other TensorFlow op runs.
                from common import tf_env

                tf_env.import_tensorflow()
                from common import distribute

                distribute.make_strategy("multi_worker")
            wrapped(argv)  # a return value would become the exit status: ignore it
        except UsageError as error:  # includes CheckpointMismatch
            print(f"{script}: error: {error}", file=sys.stderr)
            sys.exit(2)
        except RunFailed as error:  # includes a diverged run
            print(f"{script}: failed: {error}", file=sys.stderr)
            sys.exit(3)
        except MemoryError:
            print(
                f"{script}: failed: out of memory; use smaller sizes (batch, widths, samples)",
                file=sys.stderr,
            )
            sys.exit(3)
        except OSError as error:  # the machine, not the program: disk full, permissions, a vanished file
            where = f": {error.filename}" if getattr(error, "filename", None) else ""
            print(f"{script}: failed: {error.strerror or error}{where}", file=sys.stderr)
            sys.exit(3)
        except Exception as error:
            tf = sys.modules.get("tensorflow")
            if tf is not None and isinstance(error, tf.errors.ResourceExhaustedError):
                print(
                    f"{script}: failed: out of memory in TensorFlow; use smaller sizes (batch, widths, "
                    "samples)",
                    file=sys.stderr,
                )
                sys.exit(3)
            raise

    if any(arg in ("-h", "-?", "--help", "--helpshort") for arg in sys.argv[1:]):
        # absl exits 1 after help; a user asking for help did nothing wrong.
        doc = (sys.modules["__main__"].__doc__ or "").strip()
        print(f"{doc}\n\nflags:\n{flags.FLAGS.main_module_help()}")
        sys.exit(0)
    try:  # absl's own parsing error is two lines ("FATAL Flags parsing error" + a hint): make it one
        flags.FLAGS(sys.argv)
    except flags.Error as error:
        print(f"{os.path.basename(sys.argv[0])}: error: {error}", file=sys.stderr)
        sys.exit(2)
    app.run(guarded)
