"""The spec of one FIGR run (train.py's flags): declared once, checked without TensorFlow."""

import dataclasses
import os

from common import image_data, resources
from common import spec as o
from common.classes import UsageError, validate_classes

DATASETS = image_data.sets_for("figr")
LOSSES = ("dcgan", "wgan-gp")
NETWORKS = ("dcgan", "resnet")
# Held out of meta-training when --held_out is not given: digit 9 as the FIGR paper; for
# Fashion-MNIST the trousers, the class of the report's one-shot VAE (2.6.pants).
DEFAULT_HELD_OUT = {"mnist": (9,), "fashion-mnist": (1,)}


def dataset_name(value, name):
    key = str(value).strip().lower().replace("_", "-")
    canonical = {"fashionmnist": "fashion-mnist"}.get(key, key)
    if canonical not in DATASETS:
        raise UsageError(f"{name}: unknown data set '{value}'; choose {', '.join(DATASETS)}")
    return canonical


def one_of(choices):
    def parse(value, name):
        key = str(value).strip().lower()
        if key not in choices:
            raise UsageError(f"{name}: unknown {name.lstrip('-')} '{value}'; choose {' or '.join(choices)}")
        return key

    return parse


@dataclasses.dataclass(frozen=True)
class FIGRRunSpec(o.RunSpec):
    experiment = "figr"
    # --settings report: what the report's FIGR code ran where our defaults differ: FIGR's Algorithm 1
    # (plain SGD in the inner loop) and its replacement DCGAN loss without our R1 penalty.
    PRESETS = {"report": {"inner_optimizer": "sgd", "r1_gamma": 0.0}}

    seed: int = o.seed_option(1)
    dataset: str = o.option(
        "mnist",
        f"{', '.join(DATASETS)} (case-insensitive; omniglot through tensorflow-datasets: its background "
        "alphabets meta-train, evaluation alphabets are unseen).",
        parse=dataset_name,
    )
    loss: str = o.option(
        "dcgan",
        "dcgan: the report's variant (sigmoid cross-entropy on logits); wgan-gp: the FIGR paper's "
        "Wasserstein loss with a per-example gradient penalty (lambda 10).",
        parse=one_of(LOSSES),
    )
    held_out: tuple = o.option(
        (),
        "Classes never seen in meta-training, graded at the end (an index or a list like 8,9). "
        "Default: 9 for mnist (the paper), 1 (trousers) for fashion-mnist.",
        parse=o.classes,
    )
    inner_steps: int = o.option(
        10, "K: SGD steps of D and of G on a task's copy of the weights.", check=o.positive
    )
    shots: int = o.option(4, "n: images of a task's class (and fakes) in every inner step.", check=o.positive)
    meta_iterations: int = o.option(
        3000,
        "Meta-iterations (meta-steps of --meta_batch tasks each; ~8 min on 2 CPU cores at 1); a rerun "
        "with more continues the run.",
        identity=False,
        check=o.positive,
    )
    meta_batch: int = o.option(
        1,
        "Tasks per meta-step (per device): their inner loops run side by side as one batched "
        "computation and the meta-gradient is the mean of their meta - adapted (Reptile's batched "
        "form). 1: one task per meta-step, FIGR's Algorithm 1.",
        check=o.positive,
        absent=1,
    )
    image_size: int = o.option(
        32, "Images are padded (or resized) to this square size; a multiple of 8.", check=o.multiple_of(8, 8)
    )
    z_dim: int = o.option(100, "Size of the noise vector z.", check=o.positive)
    network: str = o.option(
        "dcgan",
        "dcgan (strided convolutions) or resnet (residual blocks, as the paper).",
        parse=one_of(NETWORKS),
    )
    width: int = o.option(
        64, "Channels of D's first and G's last block (doubled twice towards 4x4).", check=o.positive
    )
    inner_optimizer: str = o.option(
        "adam",
        "Optimizer of the inner loop, started afresh for every task: adam (Reptile's option; beta1 0, "
        "beta2 0.99) or sgd (FIGR's Algorithm 1).",
        choices=("adam", "sgd"),
    )
    inner_lr: float = o.option(1e-3, "Learning rate of the inner loop.", check=o.above_zero)
    meta_optimizer: str = o.option(
        "adam",
        "adam: FIGR's meta-update, an Adam step on the gradient meta - adapted; sgd: Reptile's serial "
        "phi <- phi + meta_lr * (adapted - phi).",
        choices=("adam", "sgd"),
    )
    meta_lr: float = o.option(1e-4, "Learning rate of the meta-update.", check=o.above_zero)
    r1_gamma: float = o.option(
        10.0,
        "dcgan loss: weight of the R1 penalty gamma/2 E||grad D(x_real)||^2 on the task's real images "
        "(0: none; without it G collapsed within 1,500 meta-iterations).",
        check=o.non_negative,
    )
    pretraining: str = o.option(
        "reptile",
        "reptile: FIGR's meta-training (a task is --shots images of one class; Reptile's meta-step). "
        "plain: the control without meta-learning, a GAN pre-trained conventionally on the same "
        "classes: tasks of --shots images of mixed classes, each task's adapted weights kept as they "
        "are (meta-step SGD at rate 1; --meta_optimizer/--meta_lr are not used), then adapted to the "
        "shots by the same inner loop: plain fine-tuning.",
        choices=("reptile", "plain"),
    )
    gen_steps: int | None = o.option(
        None,
        "Inner steps when generating for an unseen class (default: --inner_steps).",
        identity=False,
        check=o.non_negative,
    )
    num_samples: int = o.option(
        64, "Generations per held-out class and episode.", identity=False, check=o.positive
    )
    eval_episodes: int = o.option(
        5,
        "Draws of shots per held-out class at the end; the first is the draw VAE.py --remove-label c "
        "--few-shot n makes with the same --seed.",
        identity=False,
        check=o.positive,
    )
    sample_every: int = o.option(
        500,
        "Meta-iterations between checkpoints and few-shot generations in TensorBoard.",
        identity=False,
        check=o.positive,
    )
    # absl.logging already defines --log_dir (for log files it only writes when asked to): it is
    # reused as the original's flag instead of defining a second one.
    log_dir: str = o.option(
        "Runs",
        "Where run directories go when --out_dir is not given (the original's Runs/, so "
        "`tensorboard --logdir Runs/` shows every run).",
        identity=False,
        existing=True,
    )
    data_dir: str | None = o.idx_data_dir_option()
    download: bool = o.download_option()
    judge: bool = o.judge_option()

    @property
    def model(self):
        """The FIGR networks and their optimizers (one-channel images; FIGRExperiment sets the
        data's channels)."""
        from figr.figr_models import FIGRConfig  # TensorFlow: only once the flags are checked

        return FIGRConfig(
            image_size=self.image_size,
            z_dim=self.z_dim,
            network=self.network,
            width=self.width,
            loss=self.loss,
            inner_steps=self.inner_steps,
            inner_optimizer=self.inner_optimizer,
            inner_lr=self.inner_lr,
            meta_optimizer="sgd" if self.pretraining == "plain" else self.meta_optimizer,
            meta_lr=1.0 if self.pretraining == "plain" else self.meta_lr,
            r1_gamma=self.r1_gamma if self.loss == "dcgan" else 0.0,
            meta_batch=self.meta_batch,
        )

    def check(self):
        side, width = self.image_size, self.width
        parameters = (side // 4) ** 2 * 4 * width * (self.z_dim + 1) + 50 * width * width
        images = max(self.shots, self.num_samples)
        activations = images * side * side * 4 * width * 4
        resources.require_fits(
            resources.training_bytes(parameters, activations) * 3,  # meta + inner weights, Adam
            f"--image_size {side}, --width {width}, --shots/--num_samples {images}",
        )
        if self.dataset == "omniglot":
            o.require(not self.held_out, "--held_out: omniglot always holds out its evaluation alphabets")
        else:
            validate_classes(self.held_out or DEFAULT_HELD_OUT[self.dataset], 10, "--held_out")

    def resolve(self):
        held_out = self.held_out or DEFAULT_HELD_OUT.get(self.dataset, ())
        gen_steps = self.inner_steps if self.gen_steps is None else self.gen_steps
        return self.replace(
            held_out=held_out, gen_steps=gen_steps, sample_every=min(self.sample_every, self.meta_iterations)
        )

    def runs_root(self):
        return self.log_dir

    def name_parts(self):
        plain = ["plain"] if self.pretraining == "plain" else []
        held_out = ["heldout" + "-".join(map(str, self.held_out))] if self.held_out else []
        return [self.dataset, self.loss, *plain, *held_out]


def from_run_dir(run_dir, **changes):
    """The spec a train.py run directory was made with (its run_config.json, of this release or an
    older one), with `changes`; UsageError when the directory is not a FIGR run."""
    from common import rundir

    config = rundir.read_config(os.path.join(run_dir, rundir.CONFIG_FILE))
    if isinstance(config, dict) and config.get("format") == o.RECORD_FORMAT:
        values = config.get("spec", {})
    else:
        values = config
    if not isinstance(values, dict) or not {"inner_lr", "dataset", "inner_steps", "shots"} <= set(values):
        raise UsageError(f"--run_dir {run_dir} is not a FIGR run (no run_config.json of train.py)")
    values = {**values, "out_dir": run_dir, **changes}
    return o.build(FIGRRunSpec, values)


@dataclasses.dataclass(frozen=True)
class GenerateSpec(o.Spec):
    """generate.py's flags: few-shot generation from a trained run, into a folder of its own."""

    experiment = "figr-generate"

    run_dir: str | None = o.option(None, "A train.py run directory (holds run_config.json and checkpoints/).")
    shots_dir: str | None = o.option(
        None,
        "A folder of your own images to use as the shots (all of its images).",
        check=o.existing_directory,
    )
    target: int | None = o.option(
        None,
        "Shots drawn from this class of the run's data set instead (default: the run's first held-out "
        "class).",
        flag="class",
    )
    shots: int | None = o.option(
        None, "How many shots to draw with --class (default: the run's --shots).", check=o.positive
    )
    steps: int | None = o.option(
        None,
        "Inner steps of adaptation (default: the run's --inner_steps; 0: no adaptation).",
        check=o.non_negative,
    )
    num_samples: int = o.option(64, "Images to generate.", check=o.positive)
    seed: int = o.seed_option(1)
    out_dir: str | None = o.option(
        None,
        "Where to write (default: <run_dir>/generate/<class or folder name>); never another program's run.",
        identity=False,
    )
    notebook: bool = o.option(
        False, "Show the figure inline when running under IPython/Jupyter.", identity=False
    )

    def check(self):
        o.require(self.run_dir is not None, "--run_dir is required: a directory written by train.py")
        o.require(not (self.shots_dir and self.target is not None), "give --shots_dir or --class, not both")
        if self.trained().dataset == "omniglot":
            o.require(
                self.target is None and self.shots_dir,
                "omniglot runs generate from --shots_dir (their unseen characters are graded by "
                "train.py itself)",
            )
        elif self.target is not None:
            validate_classes((self.target,), 10, "--class", allow_all=True)

    def trained(self):
        """The spec of the train.py run generated from."""
        return from_run_dir(self.run_dir)

    def default_out_dir(self):
        if self.shots_dir:
            what = os.path.basename(os.path.normpath(self.shots_dir))
        else:
            trained = self.trained()
            target = trained.held_out[0] if self.target is None else self.target
            what = f"class{target}-{self.shots or trained.shots}shot-seed{self.seed}"
        return os.path.join(self.run_dir, "generate", what)
