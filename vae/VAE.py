"""VAE with a class removed (zero-shot) or kept as k shots (few-shot): report sections 2.5-2.6.

    python3 VAE.py --dataset fashion-mnist --encoding-vector-size 2 --remove-label 1    # no trousers
    python3 VAE.py --dataset fashion-mnist --encoding-vector-size 2 --remove-label 7    # sneakers?
    python3 VAE.py --dataset fashion-mnist --encoding-vector-size 2 --remove-label 3 --few-shot 4
    python3 VAE.py --dataset mnist --encoding-vector-size 3 --remove-label 9 --few-shot 4 --epochs 50

Writes metrics.json (test -ELBO in nats per image, overall and on the removed class; the judge's
verdict on prior samples and on the manifold grid; few-shot: accuracy and novelty of generations
near the shots), samples.npz (prior samples), latent.png, manifold.png, reconstructions.png,
prior_samples.png, few_shot.png and interpolation.png (few-shot), losses.png, checkpoints/, logs/.
"""

import os

from absl import flags

from common import flags as common_flags
from common import image_data, outputs, resources, rundir, tf_env, toy_data
from common.classes import parse_class_list, validate_classes

FLAGS = flags.FLAGS
DATASETS = (
    "mnist",
    "fashion-mnist",
    *toy_data.TOY_DATASETS,
    "cifar10",
    "cifar100",
    "svhn",
    "stl10",
    "lsun-bed",
    "bags",
)


def define_flags():
    common_flags.define_run_flags(default_batch_size=128, default_seed=1)
    common_flags.define_download_flag()
    common_flags.define_mixed_precision_flag()
    flags.DEFINE_string(
        "dataset",
        "fashion-mnist",
        f"Data set (case-insensitive): {', '.join(DATASETS)}. "
        "cifar10 ... lsun-bed come from tensorflow-datasets when prepared on this machine.",
    )
    flags.DEFINE_integer(
        "encoding-vector-size", 20, "Size of the latent code z (2 draws the manifold directly)."
    )
    flags.DEFINE_string("remove-label", None, "Class removed from training (an index, or a list like 1,7).")
    flags.DEFINE_integer(
        "few-shot",
        0,
        "Keep this many examples of the removed class, repeated until the class "
        "is about as frequent as the others (needs --remove-label). 0: zero-shot.",
    )
    flags.DEFINE_alias("encoding_vector_size", "encoding-vector-size")
    flags.DEFINE_alias("remove_label", "remove-label")
    flags.DEFINE_alias("few_shot", "few-shot")
    flags.DEFINE_integer("epochs", 10, "Passes over the training set.")
    flags.DEFINE_float("lr", 1e-3, "Adam learning rate.")
    flags.DEFINE_enum(
        "arch",
        "conv",
        ["conv", "mlp"],
        "conv: two stride-2 convolutions each way; mlp: the "
        "784-400-z network of the PyTorch example. Toy (2-d) data always uses mlp.",
    )
    flags.DEFINE_string("filters", "16,32", "Channels of the conv architecture's two convolutions.")
    flags.DEFINE_integer(
        "hidden",
        None,
        "Width of the fully connected hidden layer of encoder and decoder "
        "(default: 400 for mlp, the PyTorch example's; 128 for conv).",
    )
    flags.DEFINE_string(
        "data_dir",
        None,
        "Directory with the four IDX files (train/t10k images/labels, .gz or "
        f"not) instead of the default sources; also ${image_data.DATA_DIR_ENV}.",
    )
    flags.DEFINE_integer("num_samples", 2000, "Prior samples generated and graded by the judge.")
    flags.DEFINE_integer("grid_size", 20, "The manifold figure decodes a grid_size x grid_size grid.")
    flags.DEFINE_float(
        "shot_radius", 0.5, "Few-shot generations are decoded at mu(shot) + shot_radius * N(0, I)."
    )
    flags.DEFINE_enum(
        "jit",
        "auto",
        ["auto", "on", "off"],
        "XLA-compile the training step. auto: on for --arch mlp (1.3x faster per step on a CPU), "
        "off for conv (XLA's CPU convolutions are no faster than TensorFlow's own).",
    )
    flags.DEFINE_boolean(
        "judge",
        True,
        "Grade generations with the judge classifier (trained once per data set "
        "and cached; --nojudge skips it).",
    )


def check_flags():
    dataset = FLAGS.dataset.strip()
    toy = dataset.lower().replace("-", "").replace("_", "") in {n.lower() for n in toy_data.TOY_DATASETS}
    name = toy_data.canonical_name(dataset) if toy else image_data.canonical_name(dataset)
    size = FLAGS["encoding-vector-size"].value
    common_flags.check_positive("encoding-vector-size", size)
    for flag in ("epochs", "batch_size", "num_samples", "grid_size"):
        common_flags.check_positive(flag, FLAGS[flag].value)
    if FLAGS.hidden is not None:
        common_flags.check_positive("hidden", FLAGS.hidden)
    common_flags.check_non_negative("few-shot", FLAGS["few-shot"].value)
    common_flags.require(FLAGS.lr > 0, f"--lr must be positive (got {FLAGS.lr})")
    common_flags.require(
        FLAGS.shot_radius >= 0, f"--shot_radius must not be negative (got {FLAGS.shot_radius})"
    )
    # The manifold grid and the prior samples are decoded, judged and drawn at once (28x28 images).
    pixels = 28 * 28
    resources.require_fits(
        resources.FLOAT * 4 * pixels * FLAGS.grid_size**2, f"--grid_size {FLAGS.grid_size}"
    )
    resources.require_fits(
        resources.FLOAT * 4 * pixels * FLAGS.num_samples, f"--num_samples {FLAGS.num_samples}"
    )
    hidden = FLAGS.hidden or 400
    resources.require_fits(
        resources.training_bytes(2 * pixels * hidden, 4 * FLAGS.batch_size * (pixels + hidden)),
        f"--hidden {hidden} with --batch_size {FLAGS.batch_size}",
    )
    removed = parse_class_list(FLAGS["remove-label"].value, "--remove-label")
    common_flags.require(
        not (FLAGS["few-shot"].value and not removed),
        "--few-shot needs --remove-label: the shots are examples of the removed class",
    )
    try:
        filters = tuple(int(f) for f in FLAGS.filters.split(","))
    except ValueError:
        filters = ()
    common_flags.require(
        len(filters) == 2 and min(filters) >= 1,
        f"--filters must be two positive integers like 16,32 (got {FLAGS.filters})",
    )
    arch = FLAGS.arch
    known = None if toy else image_data.IMAGE_SETS[name].class_names
    if known and name != "bags":  # class count known without loading anything: check it now
        validate_classes(removed, len(known), "--remove-label")
    if toy:
        common_flags.require(
            not FLAGS["arch"].present or arch == "mlp", "--arch conv needs images; toy data uses --arch mlp"
        )
        arch = "mlp"
        validate_classes(removed, toy_data.toy_spec(name).num_classes, "--remove-label")
    if FLAGS.data_dir is not None:
        common_flags.require(os.path.isdir(FLAGS.data_dir), f"--data_dir {FLAGS.data_dir} is not a directory")
    hidden = FLAGS.hidden or (400 if arch == "mlp" else 128)
    return {
        "dataset": name,
        "toy": toy,
        "latent_dim": size,
        "removed": removed,
        "arch": arch,
        "filters": filters,
        "hidden": hidden,
    }


def main(argv):
    checked = check_flags()
    tf_env.import_tensorflow()  # after the checks: bad input fails fast, without TensorFlow
    from common import distribute
    from vae.vae_run import VAEExperiment, VAERunSpec

    policy = distribute.set_precision(FLAGS.mixed_precision)  # before any model is built

    name_parts = [checked["dataset"], f"z{checked['latent_dim']}", checked["arch"]]
    if checked["removed"]:
        name_parts.append("remove" + "-".join(map(str, checked["removed"])))
    if FLAGS["few-shot"].value:
        name_parts.append(f"{FLAGS['few-shot'].value}shot")
    flag_values = {
        name: FLAGS[name].value
        for name in (
            "dataset",
            "encoding-vector-size",
            "remove-label",
            "few-shot",
            "epochs",
            "batch_size",
            "lr",
            "arch",
            "filters",
            "hidden",
            "seed",
            "strategy",
            "data_dir",
            "num_samples",
            "grid_size",
            "shot_radius",
            "judge",
            "jit",
        )
    }
    if FLAGS.mixed_precision:  # recorded only when on: runs made before the flag keep their settings
        flag_values["mixed_precision"] = policy
    # A run directory holds one configuration; --epochs may change, so a rerun with more epochs
    # continues training where the last one stopped.
    config = {k: v for k, v in flag_values.items() if k not in ("epochs", "jit")}
    out_dir = FLAGS.out_dir or outputs.default_out_dir("vae", FLAGS.fig_name, name_parts, config)
    out_dir = distribute.output_dir(out_dir, FLAGS.strategy)  # another worker writes elsewhere
    spec = VAERunSpec(
        out_dir=out_dir,
        dataset=checked["dataset"],
        latent_dim=checked["latent_dim"],
        arch=checked["arch"],
        filters=checked["filters"],
        hidden=checked["hidden"],
        removed=checked["removed"],
        few_shot=FLAGS["few-shot"].value,
        epochs=FLAGS.epochs,
        batch_size=FLAGS.batch_size,
        lr=FLAGS.lr,
        seed=FLAGS.seed,
        strategy=FLAGS.strategy,
        jit=FLAGS.jit,
        data_dir=FLAGS.data_dir,
        num_samples=FLAGS.num_samples,
        grid_size=FLAGS.grid_size,
        shot_radius=FLAGS.shot_radius,
        use_judge=FLAGS.judge,
    )
    experiment = VAEExperiment(
        spec
    )  # loads the data: missing or broken files fail here, before out_dir is touched
    if not checked["toy"]:
        validate_classes(checked["removed"], len(experiment.class_names), "--remove-label")
    with rundir.claim(out_dir, config):
        print(
            f"VAE: {checked['dataset']}, latent {checked['latent_dim']}, {checked['arch']}, "
            f"{len(experiment.train_index)} training examples -> {os.path.abspath(out_dir)}"
        )
        summary = experiment.run(flag_values)
    values = summary["metrics"]
    print(
        f"test -ELBO {values['test_neg_elbo']:.2f} nats/image"
        + (
            f" (removed class {values['test_neg_elbo_removed']:.2f})"
            if "test_neg_elbo_removed" in values
            else ""
        )
    )
    outputs.report_run(
        values,
        summary["paths"],
        out_dir,
        notebook=FLAGS.notebook,
        keys=(
            "prior_removed_class_hits",
            "grid_removed_class_hits",
            "shots_judge_accuracy",
            "shots_copy_fraction",
            "prior_missing_mode_hits",
        ),
    )


if __name__ == "__main__":
    define_flags()
    flags.adopt_module_key_flags(common_flags)
    common_flags.run(main)
