"""FIGR few-shot generation (Algorithm 2) from a meta-trained run: adapt the meta-weights for
--steps inner steps to a few shots, then generate.

    python generate.py --run_dir Runs/<run>                      # shots of the run's held-out class
    python generate.py --run_dir Runs/<run> --class 8 --shots 4  # shots of another class
    python generate.py --run_dir Runs/<run> --shots_dir my_9s/   # your own images (png, jpg, ...)

Your images are turned into one channel, resized to the run's image size and, when their border
is light (dark strokes on white paper), inverted to the training data's bright-on-dark. Writes
few_shot.png (the shots boxed, generations below), samples.npz and metrics.json (diversity of
the generations, their distance to the shots; with --class, the judge's accuracy too) in
--out_dir (default: <run_dir>/generate/<what>).
"""

import os

from absl import flags

from common import flags as common_flags
from common import outputs, rundir, tf_env
from common.classes import UsageError, validate_classes

FLAGS = flags.FLAGS
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm")


def define_flags():
    flags.DEFINE_string("run_dir", None, "A train.py run directory (holds run_config.json and checkpoints/).")
    flags.DEFINE_string(
        "shots_dir", None, "A folder of your own images to use as the shots (all of its images)."
    )
    flags.DEFINE_integer(
        "class",
        None,
        "Shots drawn from this class of the run's data set instead (default: the "
        "run's first held-out class).",
    )
    flags.DEFINE_integer("shots", None, "How many shots to draw with --class (default: the run's --shots).")
    flags.DEFINE_integer(
        "steps", None, "Inner steps of adaptation (default: the run's --inner_steps; 0: no adaptation)."
    )
    flags.DEFINE_integer("num_samples", 64, "Images to generate.")
    flags.DEFINE_integer("seed", 1, "Seed of the shot draw, the adaptation's noise and the generations.")
    flags.DEFINE_string(
        "out_dir", None, "Where to write (default: <run_dir>/generate/<class or folder name>)."
    )
    flags.DEFINE_boolean("notebook", False, "Show the figure inline when running under IPython/Jupyter.")


MAX_SHOT_PIXELS = 4096 * 4096  # far above any shot; refuses decompression bombs before decoding


def read_images(folder):
    """The folder's images as a uint8 array (N, H, W) of one channel, each resized to the first
    one's size; a clear UsageError for an empty folder or an unreadable file."""
    from PIL import Image, UnidentifiedImageError

    names = sorted(f for f in os.listdir(folder) if f.lower().endswith(IMAGE_SUFFIXES))
    if not names:
        raise UsageError(f"--shots_dir {folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    images = []
    for name in names:
        try:
            with Image.open(os.path.join(folder, name)) as image:  # reads the header only
                if image.size[0] * image.size[1] > MAX_SHOT_PIXELS:
                    raise UsageError(
                        f"--shots_dir: {name} is {image.size[0]}x{image.size[1]} pixels; shots are "
                        f"small drawings (at most {MAX_SHOT_PIXELS:,} pixels): resize it first"
                    )
                image = image.convert("L")
                images.append(image if not images else image.resize(images[0].size))
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as error:
            raise UsageError(f"--shots_dir: cannot read {name} as an image ({str(error)[:100]})") from None
    import numpy as np

    return np.stack([np.asarray(i, np.uint8) for i in images]), names


def check_flags():
    common_flags.require(FLAGS.run_dir is not None, "--run_dir is required: a directory written by train.py")
    config = rundir.read_config(os.path.join(FLAGS.run_dir, rundir.CONFIG_FILE))
    common_flags.require(
        isinstance(config, dict) and {"inner_lr", "dataset", "inner_steps", "shots"} <= set(config),
        f"--run_dir {FLAGS.run_dir} is not a FIGR run (no run_config.json of train.py)",
    )
    common_flags.require(
        not (FLAGS.shots_dir and FLAGS["class"].value is not None), "give --shots_dir or --class, not both"
    )
    if FLAGS.shots_dir:
        common_flags.require(
            os.path.isdir(FLAGS.shots_dir), f"--shots_dir {FLAGS.shots_dir} is not a directory"
        )
    for name in ("shots", "num_samples"):
        if FLAGS[name].value is not None:
            common_flags.check_positive(name, FLAGS[name].value)
    if FLAGS.steps is not None:
        common_flags.check_non_negative("steps", FLAGS.steps)
    target = FLAGS["class"].value
    if config["dataset"] == "omniglot":
        common_flags.require(
            target is None and FLAGS.shots_dir,
            "omniglot runs generate from --shots_dir (their unseen characters are graded by train.py itself)",
        )
    elif target is not None:
        validate_classes((target,), 10, "--class", allow_all=True)
    return config


def main(argv):
    config = check_flags()
    user_images = (
        read_images(FLAGS.shots_dir) if FLAGS.shots_dir else None
    )  # before TensorFlow: bad folders fail fast
    tf_env.quiet_grappler(tf_env.import_tensorflow())
    from figr.figr_generate import generate_from_class, generate_from_images

    steps = config["inner_steps"] if FLAGS.steps is None else FLAGS.steps
    if user_images is not None:
        what = os.path.basename(os.path.normpath(FLAGS.shots_dir))
        out_dir = FLAGS.out_dir or os.path.join(FLAGS.run_dir, "generate", what)
        summary = generate_from_images(
            config, FLAGS.run_dir, out_dir, *user_images, steps, FLAGS.num_samples, FLAGS.seed
        )
    else:
        shots = FLAGS.shots or config["shots"]

        def out_dir_of(c):
            return FLAGS.out_dir or os.path.join(
                FLAGS.run_dir, "generate", f"class{c}-{shots}shot-seed{FLAGS.seed}"
            )

        summary = generate_from_class(
            config,
            FLAGS.run_dir,
            out_dir_of,
            FLAGS["class"].value,
            shots,
            steps,
            FLAGS.num_samples,
            FLAGS.seed,
        )
    outputs.report_run(
        summary["metrics"],
        summary["paths"],
        summary["out_dir"],
        notebook=FLAGS.notebook,
        keys=(
            "judge_accuracy",
            "diversity",
            "shots_diversity",
            "real_diversity",
            "nn_distance",
            "real_nn_distance_min",
            "copy_fraction",
            "class_seen_in_meta_training",
        ),
    )


if __name__ == "__main__":
    define_flags()
    common_flags.run(main)
