"""The spec of one CAN run (train.py's flags): declared once, checked without TensorFlow."""

import dataclasses

from can.genres import SEED_GENRES
from common import resources
from common import spec as o
from common.classes import UsageError


def genre_list(value, name):
    """A number N (the first N of Ahn et al.'s genres) or a comma list of genre names."""
    if isinstance(value, (list, tuple)):
        return tuple(value)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        n, limit = int(text), len(SEED_GENRES)
        if not 1 <= n <= limit:
            raise UsageError(f"{name} {n}: choose 1..{limit} (Ahn et al.'s genres), or list names")
        return SEED_GENRES[:n]
    names = tuple(g.strip() for g in text.split(",") if g.strip())
    if not names or len(set(names)) != len(names):
        raise UsageError(f"{name}: give N or distinct names (got {text!r})")
    return names


# The quality numbers of a CAN run, in the order its figure and the benchmark's tables show them.
QUALITY_KEYS = (
    "style_entropy_dc",
    "style_entropy_dc_real",
    "style_entropy_judge",
    "style_entropy_judge_real",
    "style_entropy_max",
    "realness",
    "realness_heldout_real",
    "nn_distance",
    "nn_distance_heldout_real",
    "diversity",
    "diversity_real",
    "diversity_ratio",
)


@dataclasses.dataclass(frozen=True)
class CANRunSpec(o.RunSpec):
    experiment = "can"

    batch_size: int = o.batch_size_option(200)
    genres: tuple = o.option(
        "7",
        "A number N (the first N of Ahn et al.'s genres: "
        + ", ".join(SEED_GENRES)
        + ") or a comma list of genre names (directory names matched ignoring case, spaces, _ and -).",
        parse=genre_list,
    )
    data_dir: str | None = o.data_dir_option(
        "WikiArt-style folder: one sub-directory per genre of images. Without it: the stand-in "
        "(Fashion-MNIST classes as genres, at most 10)."
    )
    iterations: int = o.option(
        200,
        "Discriminator steps (each followed by --g_steps generator steps); a rerun with more continues "
        "the run. The seed ran 13,310 (a GPU job).",
        identity=False,
        check=o.positive,
    )
    sample_every: int = o.option(
        10,
        "Iterations between the 4x4 sample grids (and checkpoints, at least 50 apart).",
        identity=False,
        check=o.positive,
    )
    style_loss: str = o.option(
        "binary",
        "binary: Ahn et al.'s eq. 2-3 (per genre, (1/K) log D_c + (1 - 1/K) log(1 - D_c)); softmax: "
        "cross-entropy against the uniform distribution.",
        choices=("binary", "softmax"),
    )
    lambda_style: float = o.option(
        1.0, "Weight of the style-ambiguity term in G's loss.", check=o.non_negative
    )
    baseline: bool = o.option(False, "A plain DCGAN with the same networks (lambda_style 0), for comparison.")
    lr_g: float = o.option(1e-3, "Adam learning rate of G.", check=o.above_zero)
    lr_d: float = o.option(1e-4, "Adam learning rate of D.", check=o.above_zero)
    g_steps: int = o.option(
        2,
        "Generator steps per discriminator step (Ahn et al.: 2; 1 is its remedy for collapse).",
        check=o.positive,
    )
    minibatch_discrimination: bool = o.option(
        False,
        "Minibatch discrimination in D's real/fake head (Salimans et al. 2016), Ahn et al.'s suggested "
        "remedy for mode collapse.",
    )
    output: str = o.option(
        "mapped",
        "G's last mapping of its logits to pixels: mapped = Ahn et al.'s fix for over-saturated "
        "outputs (the sigmoid's input mapped into (-4, 4) by 4 tanh(x / 4)), stretched onto [0, 1]; "
        "sigmoid = the plain sigmoid they had before it (the report's control for that fix).",
        choices=("mapped", "sigmoid"),
    )
    image_size: int = o.option(
        64, "Images are resized to this square size (a multiple of 8).", check=o.multiple_of(8, 8)
    )
    num_samples: int = o.option(256, "Generations graded at the end.", identity=False, check=o.positive)
    judge: bool = o.judge_option(
        "Grade with an independent genre classifier trained on real images (cached)."
    )
    mixed_precision: bool = o.mixed_precision_option()
    heldout_fraction: float = o.state(0.1, identity=True)  # of each WikiArt genre, never trained on

    @property
    def model(self):
        from can.can_models import CANConfig  # TensorFlow: only once the flags are checked

        return CANConfig(
            num_genres=len(self.genres),
            image_size=self.image_size,
            style_loss=self.style_loss,
            lambda_style=0.0 if self.baseline else self.lambda_style,
            lr_g=self.lr_g,
            lr_d=self.lr_d,
            g_steps=self.g_steps,
            minibatch_discrimination=self.minibatch_discrimination,
            output=self.output,
        )

    def check(self):
        if self.data_dir is None:
            o.require(
                len(self.genres) <= 10, f"--genres: the stand-in has 10 classes, not {len(self.genres)}"
            )
        side = self.image_size
        parameters = 3 * (side // 8) ** 2 * 128 * 1024  # the FC layers at D's end and G's start dominate
        activations = 3 * self.batch_size * side * side * (3 + 32 + 16)  # per conv block, real + fake + G
        resources.require_fits(
            resources.training_bytes(parameters, activations)
            + resources.FLOAT * self.num_samples * side**2 * 3 * 4,
            f"--image_size {side} with --batch_size {self.batch_size}",
        )

    def resolve(self):
        return self.replace(sample_every=min(self.sample_every, self.iterations))

    def name_parts(self):
        kind = "baseline" if self.baseline else f"can-{self.style_loss}"
        output = [] if self.output == "mapped" else [f"{self.output}-output"]
        return [kind, f"{len(self.genres)}genres", *output] + ([] if self.data_dir else ["standin"])
