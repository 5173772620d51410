"""InfoGAN and its siblings (GAN, CGAN, ACGAN) with classes removed: report section 2.4.

    python3 main.py --gan_type infoGAN --dataset mnist --missing_mixt 3    # the report's command

Writes metrics.json (per categorical code or label: the judge's majority class and its purity;
classes covered; removed_class_hits; classifier score; Fréchet judge distance; nn_distance),
samples.npz, code_grid.png (one column per code/label), continuous_sweep.png (infoGAN),
label_rows.png (CGAN/ACGAN: one row per label, the removed ones marked),
epochs/epoch_NNN.png, losses.png, checkpoints/, logs/. On 8Gaussians: the toy metrics (modes,
missing-mode hits, per-code purity over modes) and code_scatter.png.
"""

import os

from absl import flags

from common import flags as common_flags
from common import image_data, outputs, resources, rundir, tf_env, toy_data
from common.classes import parse_class_list, validate_classes
from infogan import gan_variants  # next to this script

FLAGS = flags.FLAGS
WIDTH_NAMES = ("auto", "quarter", "half", "full")


# --settings report: what the report ran where our defaults differ. Its InfoGAN came from the
# GAN collection with Chen et al.'s MNIST networks at full width (ours: --width auto, which is
# full for the report's MNIST command but quarter for longer runs such as Fashion-MNIST's).
REPORT_SETTINGS = {"width": "full"}


def define_flags():
    common_flags.define_run_flags(default_batch_size=64)
    common_flags.define_settings_flag(
        {"report": REPORT_SETTINGS},
        "report: the report's settings where ours differ (--width full: Chen et al.'s "
        "networks at any length); flags given explicitly win.",
    )
    common_flags.define_download_flag()
    common_flags.define_mixed_precision_flag()
    flags.DEFINE_string(
        "gan_type",
        "infoGAN",
        "One of (case-insensitive): "
        + "; ".join(f"{v.name}: {v.about}" for v in gan_variants.VARIANTS.values()),
    )
    flags.DEFINE_string(
        "dataset",
        "mnist",
        "mnist, fashion-mnist or 8Gaussians (case-insensitive; the toy sets "
        "25Gaussians and swissroll work too, with MLP networks).",
    )
    flags.DEFINE_string(
        "missing_mixt", None, "Classes removed from training (an index or a list like 3 or 3,5)."
    )
    flags.DEFINE_integer("epoch", 50, "Passes over the training set.")
    flags.DEFINE_integer("z_dim", 62, "Size of the noise vector z.")
    flags.DEFINE_float("lrG", 2e-4, "Adam learning rate of G (and of InfoGAN's Q head).")
    flags.DEFINE_float("lrD", 2e-4, "Adam learning rate of D.")
    flags.DEFINE_float("beta1", 0.5, "Adam beta1 of both optimizers.")
    flags.DEFINE_enum(
        "width",
        "auto",
        WIDTH_NAMES,
        "Network widths: full = Chen et al.'s MNIST networks "
        "(~150-600 ms per step on a 2-core CPU); half; quarter (every layer / 4, ~45 s per Fashion-MNIST "
        "epoch on 2 cores); auto = full when the run is at most 6,000 steps (the report's MNIST command), "
        "else quarter.",
    )
    flags.DEFINE_boolean(
        "info_to_d",
        True,
        "infoGAN: the information loss also trains D's shared body, with the Q "
        "head in D's optimizer (Chen et al.; the GAN collection). --noinfo_to_d: G and the Q head only.",
    )
    flags.DEFINE_boolean(
        "jit",
        True,
        "XLA-compile the training step (faster on a CPU in float32). With --mixed_precision on a "
        "CPU it is off unless given: XLA's CPU backend computes bfloat16 more slowly than oneDNN.",
    )
    flags.DEFINE_string(
        "data_dir",
        None,
        f"Directory with the four IDX files instead of the default sources; also ${image_data.DATA_DIR_ENV}.",
    )


def check_flags():
    common_flags.apply_settings(FLAGS, {"report": REPORT_SETTINGS})
    variant = gan_variants.lookup(FLAGS.gan_type)
    common_flags.require(
        variant is not None,
        f"--gan_type: unknown type '{FLAGS.gan_type}'; choose one of {', '.join(gan_variants.GAN_TYPES)}",
    )
    toy = FLAGS.dataset.lower().replace("-", "").replace("_", "") in {
        n.lower() for n in toy_data.TOY_DATASETS
    }
    dataset = toy_data.canonical_name(FLAGS.dataset) if toy else image_data.canonical_name(FLAGS.dataset)
    common_flags.require(
        toy or dataset in image_data.sets_for("infogan"),
        f"--dataset: {dataset} is not supported here; use "
        f"{', '.join(image_data.sets_for('infogan') + toy_data.TOY_DATASETS)}",
    )
    for name in ("epoch", "batch_size", "z_dim"):
        common_flags.check_positive(name, FLAGS[name].value)
    for name in ("lrG", "lrD"):
        common_flags.require(FLAGS[name].value > 0, f"--{name} must be positive (got {FLAGS[name].value})")
    common_flags.check_range("beta1", FLAGS.beta1, 0.0, 1.0)
    # The full-width networks (the largest): G's first layer reads z, D and G hold 7x7x128 x 1024 FCs.
    parameters = (FLAGS.z_dim + 12) * 1024 + 2 * 7 * 7 * 128 * 1024
    activations = 3 * FLAGS.batch_size * (1024 + 7 * 7 * 128 + 14 * 14 * 64 + 28 * 28)
    resources.require_fits(
        resources.training_bytes(parameters, activations),
        f"--z_dim {FLAGS.z_dim} with --batch_size {FLAGS.batch_size}",
    )
    removed = validate_classes(
        parse_class_list(FLAGS.missing_mixt), toy_data.toy_spec(dataset).num_classes if toy else 10
    )
    if FLAGS.data_dir is not None:
        common_flags.require(os.path.isdir(FLAGS.data_dir), f"--data_dir {FLAGS.data_dir} is not a directory")
    return {"gan_type": variant.name, "dataset": dataset, "removed": removed}


def main(argv):
    checked = check_flags()
    tf_env.import_tensorflow()
    from common import distribute
    from infogan.infogan_run import GANExperiment, GANRunSpec

    policy = distribute.set_precision(FLAGS.mixed_precision)  # before any model is built
    jit = FLAGS.jit
    if policy == "mixed_bfloat16" and jit and not FLAGS["jit"].present:
        jit = False  # measured: 171 ms per full-width step with XLA, 126 without (bench_roofline)
        print("--mixed_precision on a CPU: training without XLA (slower in bfloat16 there); --jit forces it")

    flag_values = {
        name: FLAGS[name].value
        for name in (
            "gan_type",
            "dataset",
            "missing_mixt",
            "epoch",
            "batch_size",
            "z_dim",
            "lrG",
            "lrD",
            "beta1",
            "width",
            "info_to_d",
            "jit",
            "seed",
            "strategy",
            "data_dir",
        )
    }
    if FLAGS.mixed_precision:  # recorded only when on: runs made before the flag keep their settings
        flag_values["mixed_precision"] = policy
    config = {k: v for k, v in flag_values.items() if k != "epoch"}
    parts = [checked["gan_type"], checked["dataset"]] + (
        ["remove" + "-".join(map(str, checked["removed"]))] if checked["removed"] else []
    )
    out_dir = FLAGS.out_dir or outputs.default_out_dir("infogan", FLAGS.fig_name, parts, config)
    out_dir = distribute.output_dir(out_dir, FLAGS.strategy)  # another worker writes elsewhere
    spec = GANRunSpec(
        out_dir=out_dir,
        gan_type=checked["gan_type"],
        dataset=checked["dataset"],
        removed=checked["removed"],
        epochs=FLAGS.epoch,
        batch_size=FLAGS.batch_size,
        z_dim=FLAGS.z_dim,
        lr_g=FLAGS.lrG,
        lr_d=FLAGS.lrD,
        beta1=FLAGS.beta1,
        width=FLAGS.width,
        info_trains_d=FLAGS.info_to_d,
        jit_compile=jit,
        seed=FLAGS.seed,
        strategy=FLAGS.strategy,
        data_dir=FLAGS.data_dir,
    )
    experiment = GANExperiment(spec)
    with rundir.claim(out_dir, config):
        print(
            f"{spec.gan_type}: {spec.dataset}, {len(experiment.train_x)} training images, {spec.epochs} "
            "epochs -> "
            f"{os.path.abspath(out_dir)}"
        )
        summary = experiment.run(flag_values)
    outputs.report_run(
        summary["metrics"],
        summary["paths"],
        out_dir,
        notebook=FLAGS.notebook,
        keys=(
            "code_purity_mean",
            "classes_covered",
            "classes_generated",
            "removed_class_hits",
            "classifier_score",
            "frechet_judge_distance",
            "modes_captured",
            "missing_mode_hits",
        ),
    )


if __name__ == "__main__":
    define_flags()
    flags.adopt_module_key_flags(common_flags)
    common_flags.run(main)
