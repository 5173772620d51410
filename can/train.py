"""CAN: the Creative Adversarial Network on art genres (seed 004; report section 2.2's style loss).

    python train.py --genres 7                                  # the seed's seven genres
    python train.py --genres 7 --data_dir ~/wikiart             # real WikiArt (<dir>/<Genre>/*.jpg)
    python train.py --genres cubism,fauvism --data_dir ~/wikiart
    python train.py --genres 7 --baseline                       # the same DCGAN without the style term

Without --data_dir it runs on a loudly announced stand-in (Fashion-MNIST classes as "genres").
Writes metrics.json (style entropy of generations under CAN's own genre head and under an
independent classifier trained on real images, realness, nn_distance, diversity beside real
images'), samples.npz, samples.png, progression.png, samples/iter_*.png (4x4 grid every
--sample_every iterations), losses.png, checkpoints/ and logs/.
"""

import os

from absl import flags

from can.genres import SEED_GENRES  # next to this script
from common import flags as common_flags
from common import outputs, resources, rundir, tf_env

FLAGS = flags.FLAGS


def define_flags():
    common_flags.define_run_flags(default_batch_size=200)
    common_flags.define_mixed_precision_flag()
    flags.DEFINE_string(
        "genres",
        "7",
        "A number N (the first N of seed 004's genres: "
        + ", ".join(SEED_GENRES)
        + ") or a comma list of genre names (directory names matched ignoring case, spaces, _ and -).",
    )
    flags.DEFINE_string(
        "data_dir",
        None,
        "WikiArt-style folder: one sub-directory per genre of images. Without it: "
        "the stand-in (Fashion-MNIST classes as genres, at most 10).",
    )
    flags.DEFINE_integer(
        "iterations",
        200,
        "Discriminator steps (each followed by --g_steps generator steps); a "
        "rerun with more continues the run. The seed ran 13,310 (a GPU job).",
    )
    flags.DEFINE_integer(
        "sample_every", 10, "Iterations between the 4x4 sample grids (and checkpoints, at least 50 apart)."
    )
    flags.DEFINE_enum(
        "style_loss",
        "binary",
        ["binary", "softmax"],
        "binary: seed 004's eq. 2-3 (per genre, "
        "(1/K) log D_c + (1 - 1/K) log(1 - D_c)); softmax: cross-entropy against the uniform distribution.",
    )
    flags.DEFINE_float("lambda_style", 1.0, "Weight of the style-ambiguity term in G's loss.")
    flags.DEFINE_boolean(
        "baseline", False, "A plain DCGAN with the same networks (lambda_style 0), for comparison."
    )
    flags.DEFINE_float("lr_g", 1e-3, "Adam learning rate of G.")
    flags.DEFINE_float("lr_d", 1e-4, "Adam learning rate of D.")
    flags.DEFINE_integer(
        "g_steps", 2, "Generator steps per discriminator step (seed 004: 2; 1 is its remedy for collapse)."
    )
    flags.DEFINE_boolean(
        "minibatch_discrimination",
        False,
        "Minibatch discrimination in D's real/fake head "
        "(Salimans et al. 2016), seed 004's suggested remedy for mode collapse.",
    )
    flags.DEFINE_integer("image_size", 64, "Images are resized to this square size (a multiple of 8).")
    flags.DEFINE_integer("num_samples", 256, "Generations graded at the end.")
    flags.DEFINE_boolean(
        "judge", True, "Grade with an independent genre classifier trained on real images (cached)."
    )


def parse_genres():
    text = FLAGS.genres.strip()
    if text.lstrip("-").isdigit():
        n = int(text)
        limit = len(SEED_GENRES)
        common_flags.require(
            1 <= n <= limit, f"--genres {n}: choose 1..{limit} (the seed's genres), or list names"
        )
        return SEED_GENRES[:n]
    names = tuple(g.strip() for g in text.split(",") if g.strip())
    common_flags.require(
        len(names) >= 1 and len(set(names)) == len(names),
        f"--genres: give N or distinct names (got {text!r})",
    )
    return names


def check_flags():
    genres = parse_genres()
    if FLAGS.data_dir is None:
        common_flags.require(len(genres) <= 10, f"--genres: the stand-in has 10 classes, not {len(genres)}")
    else:
        common_flags.require(os.path.isdir(FLAGS.data_dir), f"--data_dir {FLAGS.data_dir} is not a directory")
    for name in ("iterations", "sample_every", "batch_size", "g_steps", "num_samples"):
        common_flags.check_positive(name, FLAGS[name].value)
    common_flags.require(
        FLAGS.image_size >= 8 and FLAGS.image_size % 8 == 0,
        f"--image_size must be a positive multiple of 8 (got {FLAGS.image_size})",
    )
    for name in ("lr_g", "lr_d"):
        common_flags.require(FLAGS[name].value > 0, f"--{name} must be positive (got {FLAGS[name].value})")
    common_flags.require(
        FLAGS.lambda_style >= 0, f"--lambda_style must not be negative (got {FLAGS.lambda_style})"
    )
    side = FLAGS.image_size
    parameters = 3 * (side // 8) ** 2 * 128 * 1024  # the FC layers at D's end and G's start dominate
    activations = 3 * FLAGS.batch_size * side * side * (3 + 32 + 16)  # per conv block, real + fake + G
    resources.require_fits(
        resources.training_bytes(parameters, activations)
        + resources.FLOAT * FLAGS.num_samples * side**2 * 3 * 4,
        f"--image_size {side} with --batch_size {FLAGS.batch_size}",
    )
    return genres


def main(argv):
    genres = check_flags()
    tf_env.quiet_grappler(tf_env.import_tensorflow())
    from can.can_models import CANConfig
    from can.can_run import CANExperiment, CANRunSpec
    from common import distribute

    policy = distribute.set_precision(FLAGS.mixed_precision)  # before any model is built

    names = (
        "genres",
        "data_dir",
        "style_loss",
        "lambda_style",
        "baseline",
        "lr_g",
        "lr_d",
        "batch_size",
        "g_steps",
        "minibatch_discrimination",
        "image_size",
        "seed",
        "strategy",
        "num_samples",
        "judge",
    )
    flag_values = {name: FLAGS[name].value for name in names}
    if FLAGS.mixed_precision:  # recorded only when on: runs made before the flag keep their settings
        flag_values["mixed_precision"] = policy
    flag_values["iterations"] = FLAGS.iterations
    config = {k: v for k, v in flag_values.items() if k not in ("iterations", "num_samples", "judge")}
    parts = ["baseline" if FLAGS.baseline else f"can-{FLAGS.style_loss}", f"{len(genres)}genres"] + (
        [] if FLAGS.data_dir else ["standin"]
    )
    out_dir = FLAGS.out_dir or outputs.default_out_dir("can", FLAGS.fig_name, parts, config)
    out_dir = distribute.output_dir(out_dir, FLAGS.strategy)  # another worker writes elsewhere
    model = CANConfig(
        image_size=FLAGS.image_size,
        style_loss=FLAGS.style_loss,
        lambda_style=0.0 if FLAGS.baseline else FLAGS.lambda_style,
        lr_g=FLAGS.lr_g,
        lr_d=FLAGS.lr_d,
        g_steps=FLAGS.g_steps,
        minibatch_discrimination=FLAGS.minibatch_discrimination,
    )
    spec = CANRunSpec(
        out_dir=out_dir,
        genres=genres,
        data_dir=FLAGS.data_dir,
        model=model,
        batch_size=FLAGS.batch_size,
        iterations=FLAGS.iterations,
        sample_every=min(FLAGS.sample_every, FLAGS.iterations),
        num_samples=FLAGS.num_samples,
        seed=FLAGS.seed,
        strategy=FLAGS.strategy,
        judge=FLAGS.judge,
    )
    experiment = CANExperiment(spec)  # scans the data: a missing genre or unreadable folder fails here
    what = (
        "baseline DCGAN"
        if FLAGS.baseline
        else f"CAN ({FLAGS.style_loss} style loss, lambda {FLAGS.lambda_style})"
    )
    with rundir.claim(out_dir, config):
        print(
            f"{what}: {len(genres)} genres, {experiment.data.num_train} images, batch {FLAGS.batch_size}, "
            f"{FLAGS.iterations} iterations -> {os.path.abspath(out_dir)}"
        )
        summary = experiment.run(flag_values)
    outputs.report_run(
        summary["metrics"],
        summary["paths"],
        out_dir,
        notebook=FLAGS.notebook,
        keys=(
            "style_entropy_dc",
            "style_entropy_judge",
            "style_entropy_max",
            "realness",
            "nn_distance",
            "nn_distance_heldout_real",
            "diversity",
            "diversity_real",
            "seconds_per_iteration",
        ),
    )


if __name__ == "__main__":
    define_flags()
    flags.adopt_module_key_flags(common_flags)
    common_flags.run(main)
