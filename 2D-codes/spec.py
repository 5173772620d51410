"""The specs of the 2-d runs (STYLEGAN.py's and CGAN.py's flags): declared once, checked without
TensorFlow. `ToySpec` holds what both scripts share."""

import dataclasses
import os
import re

from common import resources, toy_data
from common import spec as o
from common.classes import validate_classes

# --settings report: what the report's own code (its 2D-codes/STYLEGAN.py) did where our defaults
# differ. Its --nlayers 4 meant 3 hidden layers (the 4th layer is the output), ours counts hidden
# layers; TF1's AdamOptimizer had epsilon 1e-8. A flag given on the command line wins.
REPORT_SETTINGS = {
    "pack": 1,
    "lr_decay": False,
    "lrg": 3e-3,
    "lrd": 9e-3,
    "nlayers": 3,
    "activation": "relu",
    "shared_noise": True,
    "adam_epsilon": 1e-8,
}


def toy_name(value, name):
    return toy_data.canonical_name(value)


def snapshot_steps(niters):
    """The report's iterations 300 / 1200 / 2400 for 3001 steps, scaled for other lengths."""
    return tuple(sorted({max(1, round(f * (niters - 1))) for f in (0.1, 0.4, 0.8)} - {niters}))


@dataclasses.dataclass(frozen=True)
class ToySpec(o.RunSpec):
    PRESETS = {"report": REPORT_SETTINGS}

    batch_size: int = o.batch_size_option(400)
    dataset: str = o.option(
        "8Gaussians", f"Toy data set: {', '.join(toy_data.TOY_DATASETS)} (any case).", parse=toy_name
    )
    scale: float = o.option(
        2.0, "Radius factor of the 8 Gaussians (before the division by 1.414).", check=o.above_zero
    )
    missing_mixt: tuple = o.option(
        (), "Mixtures (classes) removed from training, e.g. 1 or 1,4.", parse=o.classes
    )
    niters: int = o.option(
        3001,
        "Training iterations (one D and one G update each); a rerun with more continues the run.",
        identity=False,
        check=o.positive,
    )
    z_dim: int = o.option(2, "Dimension of the generator's Gaussian noise.", check=o.positive)
    nhidden: int = o.option(64, "Width of every hidden layer of G and D.", check=o.positive)
    nlayers: int = o.option(4, "Hidden layers of G and D.", check=o.positive)
    lrg: float = o.option(3e-3, "Adam learning rate of the generator.", check=o.above_zero)
    lrd: float = o.option(
        3e-3,
        "Adam learning rate of the discriminator (the original default 9e-3 drops modes; see README).",
        check=o.above_zero,
    )
    adam_epsilon: float = o.option(
        1e-7,
        "Adam's epsilon (Keras' default; TF1's AdamOptimizer, the report's, had 1e-8).",
        check=o.above_zero,
    )
    pack: int | None = o.option(
        None,
        "PacGAN packing: D judges this many samples at once (a remedy for mode collapse); --batch_size "
        "must be a multiple of it. Default 2, and 1 with a class head (STYLEGAN --label), whose "
        "predictions must be per sample.",
        check=o.positive,
    )
    activation: str = o.option(
        "leaky_relu",
        "Hidden activation of G and D: leaky_relu (0.2, GAN hacks) or relu (the report's code).",
        choices=("leaky_relu", "relu"),
    )
    shared_noise: bool = o.option(
        False,
        "Feed the D update's noise batch to the G update too, as the report's code did (default: G draws "
        "its own).",
    )
    lr_decay: bool = o.option(
        True,
        "Cosine-decay both learning rates to 0 over --niters (lets G settle on sharp modes; see README). "
        "--nolr_decay: constant rates as in the original.",
    )
    r1_gamma: float = o.option(
        0.0,
        "R1 penalty weight on D's gradient at real points (0: off). With --r1_gamma 1 the 8 modes come "
        "out evenly weighted (mode KL 0.001-0.002 vs 0.004-0.09 without, 3 seeds) at no gain in HQ "
        "fraction; see README.",
        check=o.non_negative,
    )
    jit: bool = o.option(True, "Compile the training step with XLA (faster on CPU and GPU).", identity=False)
    num_eval: int = o.state(2500)  # samples the metrics are computed on (as VEEGAN / PacGAN)
    name: str | None = o.state(None)  # what the run is called in its lines and figures

    # ----------------------------------------------------------------------- per script
    class_head = False  # whether D classifies samples (STYLEGAN --label with a loss that uses it)
    conditional = False

    def model_options(self):
        """The ToyGANConfig fields that only one script sets."""
        return {}

    # ---------------------------------------------------------------------------- derived
    @property
    def title(self):
        return self.name or self.default_title()

    def default_title(self):
        return self.experiment

    colour_by_label = False  # the snapshots coloured by conditioning label

    @property
    def missing(self):
        return self.missing_mixt

    @property
    def num_classes(self):
        return toy_data.toy_spec(self.dataset).num_classes

    @property
    def snapshot_steps(self):
        return snapshot_steps(self.niters)

    def model_config(self):
        from toy2d.toy_models import ToyGANConfig  # TensorFlow: only once the flags are checked

        return ToyGANConfig(
            nhidden=self.nhidden,
            nlayers=self.nlayers,
            z_dim=self.z_dim,
            num_classes=self.num_classes,
            lrg=self.lrg,
            lrd=self.lrd,
            pack=self.pack,
            r1_gamma=self.r1_gamma,
            decay_steps=self.niters if self.lr_decay else 0,
            activation=self.activation,
            shared_noise=self.shared_noise,
            adam_epsilon=self.adam_epsilon,
            conditional=self.conditional,
            **self.model_options(),
        )

    def check(self):
        validate_classes(self.missing_mixt, self.num_classes)
        o.require(
            not (self.class_head and self.pack and self.pack > 1),
            f"--pack {self.pack}: the class head of --label judges one sample at a time (its creativity "
            "loss must not depend on a partner); use --pack 1 with --label",
        )
        pack = self.pack or (1 if self.class_head else 2)
        o.require(
            self.batch_size % pack == 0,
            f"--batch_size ({self.batch_size}) must be a multiple of --pack ({pack})",
        )
        width, layers, batch = self.nhidden, self.nlayers, self.batch_size
        k = self.num_classes
        parameters = resources.mlp_parameters(self.z_dim + k, width, layers, 2) + resources.mlp_parameters(
            2 * pack + k, width, layers, 1 + k
        )
        activations = 3 * batch * width * layers
        if getattr(self, "minibatch_discriminate", False):
            activations += 16 * batch * batch  # every pair of the batch, per kernel
        resources.require_fits(
            resources.training_bytes(parameters, activations),
            f"--nhidden {width} x --nlayers {layers} at --batch_size {batch}",
        )

    def resolve(self):
        return self.replace(pack=self.pack or (1 if self.class_head else 2))

    def name_parts(self):
        missing = ["missing" + "-".join(map(str, self.missing_mixt))] if self.missing_mixt else []
        return [self.dataset, *self.extra_parts(), *missing, f"seed{self.seed}"]

    def extra_parts(self):
        return []

    @classmethod
    def legacy_values(cls, previous):
        """An older release recorded the network's settings as the string of its ToyGANConfig
        ("model"): the class head, packing and creativity loss of a --compare panel, and Adam's
        epsilon of --settings report, are read back from it."""
        values = super().legacy_values(previous)
        model = str(previous.get("model", ""))
        for key, field in (("pack", "pack"), ("adam_epsilon", "adam_epsilon")):
            found = re.search(rf"\b{key}=([0-9.e-]+)", model)
            if found:
                values[field] = float(found.group(1)) if field == "adam_epsilon" else int(found.group(1))
        found = re.search(r"\buse_labels=(True|False)", model)
        if found and "label" in {f.name for f in dataclasses.fields(cls)}:
            values["label"] = found.group(1) == "True"
        found = re.search(r"\bcreativity_loss='(\w+)'", model)
        if found and "creativity_loss" in values:
            values["creativity_loss"] = found.group(1)
        return values


@dataclasses.dataclass(frozen=True)
class StyleGANSpec(ToySpec):
    experiment = "STYLEGAN"
    PRESETS = {"report": {**REPORT_SETTINGS, "creativity_loss": "report"}}

    label: bool = o.option(
        False,
        "Use the labels: D gets a K-way class head trained on real data (lambda_d) and G the creativity "
        "loss, cross-entropy to uniform (lambda_g). Without it, or with both lambdas 0 (an inert head): "
        "a plain GAN.",
    )
    lambda_d: float = o.option(0.5, "Weight of D's classification loss (with --label).", check=o.non_negative)
    lambda_g: float = o.option(0.5, "Weight of G's creativity loss (with --label).", check=o.non_negative)
    minibatch_discriminate: bool = o.option(
        False,
        "Minibatch discrimination layer in D (Salimans 2016); slow at large batches (it compares all pairs).",
    )
    loss: str = o.option(
        "gan",
        "gan: non-saturating GAN loss; wgan-gp: WGAN with gradient penalty 10.",
        choices=("gan", "wgan-gp"),
    )
    d_steps: int = o.option(
        1, "Discriminator updates per generator update (5 is usual for wgan-gp).", check=o.positive
    )
    creativity_loss: str = o.option(
        "uniform",
        "With --label: uniform = DesIGN's cross-entropy to the uniform distribution over classes; report "
        "= what the report's code did (G pushed to one fixed random class per batch position, D's class "
        "head also trained on fakes with random labels), to reproduce its figure 2.2.4.",
        choices=("uniform", "report"),
    )
    compare: bool = o.option(
        False,
        "Train a normal GAN and the style GAN with each creativity loss (DesIGN's, the report's) on the "
        "same seed and draw them side by side in comparison.png (figure 2.2.4).",
        identity=False,
    )

    @property
    def class_head(self):
        """--label trains a class head only when one of its losses has weight: with both lambdas 0
        the head is inert and the run is the normal GAN (packed as one)."""
        return self.label and (self.lambda_d > 0 or self.lambda_g > 0) and not self.compare

    def default_title(self):
        return "STYLE GAN" if self.class_head else "GAN"

    def model_options(self):
        return dict(
            loss=self.loss,
            use_labels=self.class_head,
            lambda_d=self.lambda_d,
            lambda_g=self.lambda_g,
            d_steps=self.d_steps,
            minibatch_discrimination=self.minibatch_discriminate,
            creativity_loss=self.creativity_loss,
            label_seed=self.seed,
        )

    def check(self):
        super().check()
        o.require(
            not (self.r1_gamma and self.loss == "wgan-gp"),
            "--r1_gamma applies to --loss gan; wgan-gp has its own gradient penalty",
        )

    def extra_parts(self):
        return ["label"] if self.label else []

    def compared(self):
        """--compare: [(title, spec, sub-folder)] of the normal GAN and the style GAN with each
        creativity loss on one seed (figure 2.2.4), each run in its own sub-folder."""
        base = self.replace(compare=False)
        style = dict(label=True, pack=1)
        runs = [
            ("NORMAL GAN", base.replace(label=False), "normal_gan"),
            ("STYLE GAN (DesIGN loss)", base.replace(creativity_loss="uniform", **style), "style_gan"),
            (
                "STYLE GAN (report's loss)",
                base.replace(creativity_loss="report", **style),
                "style_gan_report_loss",
            ),
        ]
        return [
            spec.replace(out_dir=os.path.join(self.out_dir, sub), name=title) for title, spec, sub in runs
        ]


@dataclasses.dataclass(frozen=True)
class CGANSpec(ToySpec):
    experiment = "CGAN"

    label: bool = o.option(
        False,
        "Colour the generated points by their conditioning label in the figures (as figure 2.3); without "
        "it they are drawn green like STYLEGAN's. The CGAN itself always conditions on the label.",
        identity=False,
    )
    conditional = True

    @property
    def colour_by_label(self):
        return self.label
