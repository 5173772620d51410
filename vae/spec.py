"""The options of one VAE run (VAE.py's flags): declared once, checked without TensorFlow."""

import dataclasses

from common import image_data, resources, toy_data
from common import spec as o
from common.classes import validate_classes


@dataclasses.dataclass(frozen=True)
class VAERunSpec(o.RunSpec):
    experiment = "vae"

    seed: int = o.seed_option(1)
    dataset: str = o.option(
        "fashion-mnist",
        "Data set (case-insensitive): "
        + ", ".join([*image_data.sets_for("vae"), *toy_data.TOY_DATASETS])
        + ". cifar10 ... lsun-bed come from tensorflow-datasets when prepared on this machine.",
        parse=o.dataset("vae"),
    )
    encoding_vector_size: int = o.option(
        20,
        "Size of the latent code z (2 draws the manifold directly).",
        flag="encoding-vector-size",
        check=o.positive,
    )
    remove_label: tuple = o.option(
        (),
        "Class removed from training (an index, or a list like 1,7).",
        flag="remove-label",
        parse=o.classes,
    )
    few_shot: int = o.option(
        0,
        "Keep this many examples of the removed class, repeated until the class is about as frequent "
        "as the others (needs --remove-label). 0: zero-shot.",
        flag="few-shot",
        check=o.non_negative,
    )
    epochs: int = o.option(
        10,
        "Passes over the training set; a rerun with more continues the run.",
        identity=False,
        check=o.positive,
    )
    batch_size: int = o.batch_size_option(128)
    lr: float = o.option(1e-3, "Adam learning rate.", check=o.above_zero)
    adam_epsilon: float = o.option(
        1e-7,
        "Adam's epsilon, in TensorFlow's form (added to the square root of the uncorrected second "
        "moment) for the loss averaged over the batch. The PyTorch example's 1e-8 on a loss summed "
        "over a batch of 128 is about 1e-8 / 128 here.",
        check=o.above_zero,
    )
    init: str | None = o.option(
        None,
        "Initial weights of the dense and convolution layers. glorot: Keras' default (Glorot-uniform "
        "kernels, zero biases); fan_in: PyTorch's default (kernels and biases uniform in "
        "+-1/sqrt(fan in)). Default: fan_in for --arch mlp (the PyTorch example's network; 0.34 nats "
        "lower test -ELBO than glorot, BENCHMARKS.md), glorot for conv.",
        choices=("glorot", "fan_in"),
        absent="glorot",  # runs made before --init had Keras' default
    )
    arch: str | None = o.option(
        None,
        "conv: two stride-2 convolutions each way (the default for images); mlp: the 784-400-z "
        "network of the PyTorch example (toy 2-d data always uses it).",
        choices=("conv", "mlp"),
    )
    filters: tuple = o.option(
        (16, 32), "Channels of the conv architecture's two convolutions.", parse=o.positive_ints
    )
    hidden: int | None = o.option(
        None,
        "Width of the fully connected hidden layer of encoder and decoder (default: 400 for mlp, the "
        "PyTorch example's; 128 for conv).",
        check=o.positive,
    )
    data_dir: str | None = o.idx_data_dir_option()
    download: bool = o.download_option()
    mixed_precision: bool = o.mixed_precision_option()
    num_samples: int = o.option(
        2000, "Prior samples generated and graded by the judge.", identity=False, check=o.positive
    )
    grid_size: int = o.option(
        20, "The manifold figure decodes a grid_size x grid_size grid.", identity=False, check=o.positive
    )
    shot_radius: float = o.option(
        0.5,
        "Few-shot generations are decoded at mu(shot) + shot_radius * N(0, I).",
        identity=False,
        check=o.non_negative,
    )
    jit: str = o.option(
        "auto",
        "XLA-compile the training step. auto: on for --arch mlp (1.4x faster per step on a CPU), off "
        "for conv (XLA's CPU convolutions are no faster than TensorFlow's own).",
        identity=False,
        choices=("auto", "on", "off"),
    )
    judge: bool = o.judge_option()
    per_shot: int = o.option(
        8,
        "Few-shot: generations decoded near each shot (figure and metrics).",
        identity=False,
        check=o.positive,
    )

    # ---------------------------------------------------------------------------- derived
    @property
    def toy(self):
        return self.dataset in toy_data.TOY_DATASETS

    @property
    def latent_dim(self):
        return self.encoding_vector_size

    @property
    def removed(self):
        return self.remove_label

    @property
    def use_xla(self):
        """auto: XLA for the mlp (its step is 1.4x faster compiled on a 2-core CPU), not for conv
        (no faster: XLA's CPU convolutions do not beat oneDNN's; benchmarks/bench_roofline.py)."""
        return self.jit == "on" or (self.jit == "auto" and self.arch == "mlp")

    def check(self):
        o.require(
            not (self.few_shot and not self.remove_label),
            "--few-shot needs --remove-label: the shots are examples of the removed class",
        )
        o.require(
            len(self.filters) == 2, f"--filters must be two positive integers like 16,32 (got {self.filters})"
        )
        if self.toy:
            o.require(self.arch != "conv", "--arch conv needs images; toy data uses --arch mlp")
            validate_classes(self.remove_label, toy_data.toy_spec(self.dataset).num_classes, "--remove-label")
        else:
            known = image_data.IMAGE_SETS[self.dataset].class_names
            if known and self.dataset != "bags":  # class count known without loading anything
                validate_classes(self.remove_label, len(known), "--remove-label")
        # The manifold grid and the prior samples are decoded, judged and drawn at once (28x28 images).
        pixels = 28 * 28
        resources.require_fits(
            resources.FLOAT * 4 * pixels * self.grid_size**2, f"--grid_size {self.grid_size}"
        )
        resources.require_fits(
            resources.FLOAT * 4 * pixels * self.num_samples, f"--num_samples {self.num_samples}"
        )
        hidden = self.hidden or 400
        resources.require_fits(
            resources.training_bytes(2 * pixels * hidden, 4 * self.batch_size * (pixels + hidden)),
            f"--hidden {hidden} with --batch_size {self.batch_size}",
        )

    def resolve(self):
        arch = self.arch or ("mlp" if self.toy else "conv")
        return self.replace(
            arch=arch,
            hidden=self.hidden or (400 if arch == "mlp" else 128),
            init=self.init or ("fan_in" if arch == "mlp" else "glorot"),
        )

    def name_parts(self):
        parts = [self.dataset, f"z{self.latent_dim}", self.arch]
        if self.remove_label:
            parts.append("remove" + "-".join(map(str, self.remove_label)))
        if self.few_shot:
            parts.append(f"{self.few_shot}shot")
        return parts
