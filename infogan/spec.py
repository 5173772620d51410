"""The spec of one InfoGAN-family run (main.py's flags): declared once, checked without TensorFlow."""

import dataclasses

from common import resources, toy_data
from common import spec as o
from common.classes import UsageError, validate_classes
from infogan import gan_variants


def gan_type(value, name):
    variant = gan_variants.lookup(value)
    if variant is None:
        raise UsageError(f"{name}: unknown type '{value}'; choose one of {', '.join(gan_variants.GAN_TYPES)}")
    return variant.name


@dataclasses.dataclass(frozen=True)
class GANRunSpec(o.RunSpec):
    experiment = "infogan"
    # --settings report: what the report ran where our defaults differ. Its InfoGAN came from the GAN
    # collection with Chen et al.'s MNIST networks at full width (ours: --width auto, full for the
    # report's MNIST command but quarter for longer runs such as Fashion-MNIST's).
    PRESETS = {"report": {"width": "full"}}

    batch_size: int = o.batch_size_option(64)
    gan_type: str = o.option(
        "infoGAN",
        "One of (case-insensitive): "
        + "; ".join(f"{v.name}: {v.about}" for v in gan_variants.VARIANTS.values()),
        parse=gan_type,
    )
    dataset: str = o.option(
        "mnist",
        "mnist, fashion-mnist or 8Gaussians (case-insensitive; the toy sets 25Gaussians and swissroll "
        "work too, with MLP networks).",
        parse=o.dataset("infogan"),
    )
    missing_mixt: tuple = o.option(
        (), "Classes removed from training (an index or a list like 3 or 3,5).", parse=o.classes
    )
    few_shot: int = o.option(
        0,
        "Keep this many images of each removed class, repeated until the class is about as frequent "
        "as the others (as the report's few-shot VAE; the league's few-shot setting). 0: zero-shot.",
        check=o.non_negative,
    )
    epoch: int = o.option(50, "Passes over the training set.", identity=False, check=o.positive)
    z_dim: int = o.option(62, "Size of the noise vector z.", check=o.positive)
    lr_g: float = o.option(
        2e-4, "Adam learning rate of G (and of InfoGAN's Q head).", flag="lrG", check=o.above_zero
    )
    lr_d: float = o.option(2e-4, "Adam learning rate of D.", flag="lrD", check=o.above_zero)
    beta1: float = o.option(0.5, "Adam beta1 of both optimizers.", check=o.below(1.0))
    width: str = o.option(
        "auto",
        "Network widths: full = Chen et al.'s MNIST networks (~150-600 ms per step on a 2-core CPU); "
        "half; quarter (every layer / 4, ~45 s per Fashion-MNIST epoch on 2 cores); auto = full when "
        "the run is at most 6,000 steps (the report's MNIST command), else quarter.",
        choices=("auto", "quarter", "half", "full"),
    )
    info_to_d: bool = o.option(
        True,
        "infoGAN: the information loss also trains D's shared body, with the Q head in D's optimizer "
        "(Chen et al.; the GAN collection). --noinfo_to_d: G and the Q head only.",
    )
    jit: bool | None = o.option(
        None,
        "XLA-compile the training step. Default: on (faster on a CPU in float32), except with "
        "--mixed_precision on a CPU, where XLA computes bfloat16 more slowly than oneDNN.",
        identity=False,
    )
    data_dir: str | None = o.idx_data_dir_option()
    download: bool = o.download_option()
    mixed_precision: bool = o.mixed_precision_option()
    per_code: int = o.state(100)  # samples per categorical code / label graded by the judge

    @property
    def removed(self):
        return self.missing_mixt

    @property
    def epochs(self):
        return self.epoch

    @property
    def info_trains_d(self):
        return self.info_to_d

    @property
    def toy(self):
        return self.dataset in toy_data.TOY_DATASETS

    def check(self):
        # The full-width networks (the largest): G's first layer reads z, D and G hold 7x7x128 x 1024 FCs.
        parameters = (self.z_dim + 12) * 1024 + 2 * 7 * 7 * 128 * 1024
        activations = 3 * self.batch_size * (1024 + 7 * 7 * 128 + 14 * 14 * 64 + 28 * 28)
        resources.require_fits(
            resources.training_bytes(parameters, activations),
            f"--z_dim {self.z_dim} with --batch_size {self.batch_size}",
        )
        classes = toy_data.toy_spec(self.dataset).num_classes if self.toy else 10
        validate_classes(self.missing_mixt, classes)
        o.require(
            not (self.few_shot and not self.missing_mixt),
            "--few_shot needs --missing_mixt: the shots are examples of the removed class",
        )
        o.require(not (self.few_shot and self.toy), "--few_shot: images only")

    def name_parts(self):
        removed = ["remove" + "-".join(map(str, self.removed))] if self.removed else []
        shots = [f"{self.few_shot}shot"] if self.few_shot else []
        return [self.gan_type, self.dataset, *removed, *shots]
