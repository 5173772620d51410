"""FIGR: few-shot image generation with a GAN meta-trained by Reptile (report section 2.6).

    python train.py --dataset Mnist & tensorboard --logdir Runs/     # the report's command
    python train.py --dataset Mnist --loss wgan-gp                   # the paper's loss
    python generate.py --run_dir Runs/<run> --shots_dir my_images/   # your own shots

Meta-trains on tasks of --shots images of one class (never a --held_out class), then adapts the
meta-weights to --shots images of each held-out class and grades the generations. Writes
metrics.json (judge accuracy of the generations, their diversity beside real images', distance
to the shots beside real images', Fréchet judge distance), samples.npz, few_shot.png (the shots
boxed, generations below, as the report's 2.6), adaptation.png, progression.png, losses.png,
checkpoints/ and logs/ (TensorBoard: losses and few-shot generations every --sample_every).
"""

import os

from absl import flags

from common import flags as common_flags
from common import image_data, outputs, resources, rundir, tf_env
from common.classes import parse_class_list, validate_classes

FLAGS = flags.FLAGS
DATASETS = image_data.sets_for("figr")
LOSSES = ("dcgan", "wgan-gp")
NETWORKS = ("dcgan", "resnet")
# Held out of meta-training when --held_out is not given: digit 9 as the FIGR paper; for
# Fashion-MNIST the trousers, the class of the report's one-shot VAE (2.6.pants).
DEFAULT_HELD_OUT = {"mnist": (9,), "fashion-mnist": (1,)}


# --settings report: what the report's FIGR code ran where our defaults differ: FIGR's Algorithm 1
# (plain SGD in the inner loop) and its replacement DCGAN loss without our R1 penalty.
REPORT_SETTINGS = {"inner_optimizer": "sgd", "r1_gamma": 0.0}


def define_flags():
    common_flags.define_run_flags(default_batch_size=None, default_seed=1)
    common_flags.define_settings_flag(
        {"report": REPORT_SETTINGS},
        "report: the report's settings where ours differ (--inner_optimizer sgd, FIGR's "
        "Algorithm 1; --r1_gamma 0, its plain DCGAN loss); flags given explicitly win.",
    )
    common_flags.define_download_flag()
    flags.DEFINE_string(
        "dataset",
        "mnist",
        f"{', '.join(DATASETS)} (case-insensitive; omniglot through "
        "tensorflow-datasets: its background alphabets meta-train, evaluation alphabets are unseen).",
    )
    flags.DEFINE_string(
        "loss",
        "dcgan",
        "dcgan: the report's variant (sigmoid cross-entropy on logits); wgan-gp: "
        "the FIGR paper's Wasserstein loss with a per-example gradient penalty (lambda 10).",
    )
    flags.DEFINE_string(
        "held_out",
        None,
        "Classes never seen in meta-training, graded at the end (an index or a "
        "list like 8,9). Default: 9 for mnist (the paper), 1 (trousers) for fashion-mnist.",
    )
    flags.DEFINE_integer("inner_steps", 10, "K: SGD steps of D and of G on a task's copy of the weights.")
    flags.DEFINE_integer("shots", 4, "n: images of a task's class (and fakes) in every inner step.")
    flags.DEFINE_integer(
        "meta_iterations",
        3000,
        "Meta-iterations (tasks; ~8 min on 2 CPU cores); a rerun with more continues the run.",
    )
    flags.DEFINE_integer(
        "image_size", 32, "Images are padded (or resized) to this square size; a multiple of 8."
    )
    flags.DEFINE_integer("z_dim", 100, "Size of the noise vector z.")
    flags.DEFINE_string(
        "network", "dcgan", "dcgan (strided convolutions) or resnet (residual blocks, as the paper)."
    )
    flags.DEFINE_integer("width", 64, "Channels of D's first and G's last block (doubled twice towards 4x4).")
    flags.DEFINE_enum(
        "inner_optimizer",
        "adam",
        ["adam", "sgd"],
        "Optimizer of the inner loop, started afresh for "
        "every task: adam (Reptile's option; beta1 0, beta2 0.99) or sgd (FIGR's Algorithm 1).",
    )
    flags.DEFINE_float("inner_lr", 1e-3, "Learning rate of the inner loop.")
    flags.DEFINE_enum(
        "meta_optimizer",
        "adam",
        ["adam", "sgd"],
        "adam: FIGR's meta-update, an Adam step on the "
        "gradient meta - adapted; sgd: Reptile's serial phi <- phi + meta_lr * (adapted - phi).",
    )
    flags.DEFINE_float("meta_lr", 1e-4, "Learning rate of the meta-update.")
    flags.DEFINE_float(
        "r1_gamma",
        10.0,
        "dcgan loss: weight of the R1 penalty gamma/2 E||grad D(x_real)||^2 on the "
        "task's real images (0: none; without it G collapsed within 1,500 meta-iterations).",
    )
    flags.DEFINE_integer(
        "gen_steps", None, "Inner steps when generating for an unseen class (default: --inner_steps)."
    )
    flags.DEFINE_integer("num_samples", 64, "Generations per held-out class and episode.")
    flags.DEFINE_integer(
        "eval_episodes",
        5,
        "Draws of shots per held-out class at the end; the first is the draw "
        "VAE.py --remove-label c --few-shot n makes with the same --seed.",
    )
    flags.DEFINE_integer(
        "sample_every", 500, "Meta-iterations between checkpoints and few-shot generations in TensorBoard."
    )
    # absl.logging already defines --log_dir (for log files it only writes when asked to): reuse it
    # as the original's flag instead of defining a second one.
    FLAGS["log_dir"].help = (
        "Where run directories go when --out_dir is not given (the original's Runs/, "
        "so `tensorboard --logdir Runs/` shows every run)."
    )
    FLAGS.set_default("log_dir", "Runs")
    flags.declare_key_flag("log_dir")
    flags.DEFINE_string(
        "data_dir",
        None,
        f"Directory with the four IDX files instead of the default sources; also ${image_data.DATA_DIR_ENV}.",
    )
    flags.DEFINE_boolean("judge", True, "Grade generations with the judge classifier (trained once, cached).")


def check_flags():
    common_flags.apply_settings(FLAGS, {"report": REPORT_SETTINGS})
    dataset = FLAGS.dataset.strip().lower().replace("_", "-")
    dataset = {"fashionmnist": "fashion-mnist"}.get(dataset, dataset)
    common_flags.require(
        dataset in DATASETS, f"--dataset: unknown data set '{FLAGS.dataset}'; choose {', '.join(DATASETS)}"
    )
    loss, network = FLAGS.loss.strip().lower(), FLAGS.network.strip().lower()
    common_flags.require(loss in LOSSES, f"--loss: unknown loss '{FLAGS.loss}'; choose {' or '.join(LOSSES)}")
    common_flags.require(
        network in NETWORKS, f"--network: unknown network '{FLAGS.network}'; choose {' or '.join(NETWORKS)}"
    )
    for name in (
        "inner_steps",
        "shots",
        "meta_iterations",
        "z_dim",
        "width",
        "num_samples",
        "eval_episodes",
        "sample_every",
    ):
        common_flags.check_positive(name, FLAGS[name].value)
    if FLAGS.gen_steps is not None:
        common_flags.check_non_negative("gen_steps", FLAGS.gen_steps)
    common_flags.require(
        FLAGS.image_size >= 8 and FLAGS.image_size % 8 == 0,
        f"--image_size must be a positive multiple of 8 (got {FLAGS.image_size})",
    )
    common_flags.require(FLAGS.r1_gamma >= 0, f"--r1_gamma must not be negative (got {FLAGS.r1_gamma})")
    side, width = FLAGS.image_size, FLAGS.width
    parameters = (side // 4) ** 2 * 4 * width * (FLAGS.z_dim + 1) + 50 * width * width
    activations = max(FLAGS.shots, FLAGS.num_samples) * side * side * 4 * width * 4
    resources.require_fits(
        resources.training_bytes(parameters, activations) * 3,  # meta + inner weights, Adam
        f"--image_size {side}, --width {width}, --shots/--num_samples {max(FLAGS.shots, FLAGS.num_samples)}",
    )
    for name in ("inner_lr", "meta_lr"):
        common_flags.require(FLAGS[name].value > 0, f"--{name} must be positive (got {FLAGS[name].value})")
    held_out = parse_class_list(FLAGS.held_out, "--held_out")
    if dataset == "omniglot":
        common_flags.require(not held_out, "--held_out: omniglot always holds out its evaluation alphabets")
    else:
        held_out = validate_classes(held_out or DEFAULT_HELD_OUT[dataset], 10, "--held_out")
    if FLAGS.data_dir is not None:
        common_flags.require(os.path.isdir(FLAGS.data_dir), f"--data_dir {FLAGS.data_dir} is not a directory")
    return {"dataset": dataset, "loss": loss, "network": network, "held_out": held_out}


def main(argv):
    checked = check_flags()
    tf_env.quiet_grappler(tf_env.import_tensorflow())
    from common import distribute
    from figr.figr_models import FIGRConfig
    from figr.figr_run import FIGRExperiment, FIGRRunSpec

    names = (
        "dataset",
        "loss",
        "held_out",
        "inner_steps",
        "shots",
        "meta_iterations",
        "image_size",
        "z_dim",
        "network",
        "width",
        "inner_optimizer",
        "inner_lr",
        "meta_optimizer",
        "meta_lr",
        "r1_gamma",
        "gen_steps",
        "num_samples",
        "eval_episodes",
        "seed",
        "strategy",
        "data_dir",
        "judge",
    )
    flag_values = {name: FLAGS[name].value for name in names}
    flag_values.update(
        dataset=checked["dataset"],
        loss=checked["loss"],
        network=checked["network"],
        held_out_classes=list(checked["held_out"]),
    )  # as run: generate.py rebuilds the model from these
    # --meta_iterations may change (a rerun with more continues); so may what is only evaluated.
    config = {
        k: v
        for k, v in flag_values.items()
        if k not in ("meta_iterations", "gen_steps", "num_samples", "eval_episodes", "judge")
    }
    parts = [checked["dataset"], checked["loss"]] + (
        ["heldout" + "-".join(map(str, checked["held_out"]))] if checked["held_out"] else []
    )
    out_dir = FLAGS.out_dir or os.path.join(
        FLAGS.log_dir, os.path.basename(outputs.default_out_dir("figr", FLAGS.fig_name, parts, config))
    )
    out_dir = distribute.output_dir(out_dir, FLAGS.strategy)  # another worker writes elsewhere
    model = FIGRConfig(
        image_size=FLAGS.image_size,
        z_dim=FLAGS.z_dim,
        network=checked["network"],
        width=FLAGS.width,
        loss=checked["loss"],
        inner_steps=FLAGS.inner_steps,
        inner_optimizer=FLAGS.inner_optimizer,
        inner_lr=FLAGS.inner_lr,
        meta_optimizer=FLAGS.meta_optimizer,
        meta_lr=FLAGS.meta_lr,
        r1_gamma=FLAGS.r1_gamma if checked["loss"] == "dcgan" else 0.0,
    )
    spec = FIGRRunSpec(
        out_dir=out_dir,
        dataset=checked["dataset"],
        held_out=checked["held_out"],
        model=model,
        shots=FLAGS.shots,
        meta_iterations=FLAGS.meta_iterations,
        num_samples=FLAGS.num_samples,
        eval_episodes=FLAGS.eval_episodes,
        gen_steps=FLAGS.inner_steps if FLAGS.gen_steps is None else FLAGS.gen_steps,
        sample_every=min(FLAGS.sample_every, FLAGS.meta_iterations),
        seed=FLAGS.seed,
        strategy=FLAGS.strategy,
        data_dir=FLAGS.data_dir,
        judge=FLAGS.judge,
    )
    experiment = FIGRExperiment(
        spec
    )  # loads the data: missing or broken files fail here, before out_dir is touched
    with rundir.claim(out_dir, config):
        print(
            f"FIGR: {spec.dataset}, {len(experiment.meta_x)} meta-training images, held out "
            f"{', '.join(experiment.name(c) for c in experiment.held_out)}, {spec.meta_iterations} "
            "meta-iterations "
            f"-> {os.path.abspath(out_dir)}"
        )
        summary = experiment.run(flag_values)
    outputs.report_run(
        summary["metrics"],
        summary["paths"],
        out_dir,
        notebook=FLAGS.notebook,
        keys=(
            "heldout_judge_accuracy",
            "unadapted_judge_accuracy",
            "heldout_nn_distance",
            "heldout_real_nn_distance_min",
            "heldout_copy_fraction",
            "heldout_diversity",
            "heldout_real_diversity",
            "heldout_frechet_judge_distance",
            "meta_iterations_per_second",
        ),
    )


if __name__ == "__main__":
    define_flags()
    flags.adopt_module_key_flags(common_flags)
    common_flags.run(main)
