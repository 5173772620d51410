"""The spec of one diffusion run (train.py's flags): declared once, checked without TensorFlow."""

import dataclasses

from common import image_data, resources
from common import spec as o
from common.classes import validate_classes


@dataclasses.dataclass(frozen=True)
class DiffusionRunSpec(o.RunSpec):
    experiment = "diffusion"

    batch_size: int = o.batch_size_option(128)
    dataset: str = o.option(
        "fashion-mnist",
        f"Data set: {', '.join(image_data.sets_for('diffusion'))} (case-insensitive).",
        parse=o.dataset("diffusion", toys=False),
    )
    remove_label: tuple = o.option(
        (), "Classes removed from training (an index, or a list like 1,7).", parse=o.classes
    )
    few_shot: int = o.option(
        0,
        "Keep this many images of each removed class, repeated until the class is about as frequent as "
        "the others (needs --remove_label). 0: zero-shot.",
        check=o.non_negative,
    )
    init_from: str | None = o.option(
        None,
        "Start from the weights of another diffusion run (its directory), e.g. the zero-shot run, and "
        "fine-tune: the league's few-shot mechanism for this family.",
        check=o.existing_directory,
    )
    steps: int = o.option(
        6000,
        "Training steps (batches); a rerun with more continues the run.",
        identity=False,
        check=o.positive,
    )
    channels: tuple = o.option(
        (32, 64, 128), "U-Net channels per resolution (28, 14, 7 for 28x28 images).", parse=o.positive_ints
    )
    blocks: int = o.option(1, "Residual blocks per resolution on the way down.", check=o.positive)
    lr: float = o.option(
        2e-3, "Adam learning rate (after a linear warm-up of --warmup steps).", check=o.above_zero
    )
    warmup: int = o.option(200, "Warm-up steps of the learning rate.", check=o.non_negative)
    ema: float = o.option(
        0.995, "Decay of the weights' moving average that samples are drawn with.", check=o.below(1.0)
    )
    label_dropout: float = o.option(
        0.1, "Share of labels replaced by 'none' in training (classifier-free guidance).", check=o.below(1.0)
    )
    min_snr: float = o.option(
        0.0,
        "Min-SNR-gamma loss weighting (Hang et al. 2023, 'Efficient Diffusion Training via Min-SNR "
        "Weighting Strategy'): each noise level's loss times min(SNR, gamma) / (SNR + 1). 0: unweighted.",
        check=o.non_negative,
    )
    sample_steps: int = o.option(
        25, "DDIM steps per sample (deterministic).", identity=False, check=o.positive
    )
    guidance: float = o.option(
        1.0,
        "Classifier-free guidance weight w: (1 + w) v(x, c) - w v(x, none).",
        identity=False,
        check=o.non_negative,
    )
    per_class: int = o.option(
        100, "Samples generated per class at the end.", identity=False, check=o.positive
    )
    jit: bool | None = o.option(
        None,
        "XLA-compile the training step. Default: on, except with --mixed_precision on a CPU (oneDNN computes "
        "bfloat16 faster than XLA there).",
        identity=False,
    )
    data_dir: str | None = o.idx_data_dir_option()
    download: bool = o.download_option()
    mixed_precision: bool = o.mixed_precision_option()
    judge: bool = o.judge_option()

    @property
    def removed(self):
        return self.remove_label

    @property
    def model(self):
        from diffusion.diffusion_models import DiffusionConfig  # TensorFlow: only once the flags are checked

        return DiffusionConfig(
            channels=self.channels,
            blocks=self.blocks,
            lr=self.lr,
            warmup=self.warmup,
            ema=self.ema,
            label_dropout=self.label_dropout,
            min_snr=self.min_snr,
        )

    def check(self):
        o.require(
            not (self.few_shot and not self.remove_label),
            "--few_shot needs --remove_label: the shots are examples of the removed class",
        )
        known = image_data.IMAGE_SETS[self.dataset].class_names
        validate_classes(self.remove_label, len(known), "--remove_label")
        widest = max(self.channels)
        resources.require_fits(
            resources.training_bytes(
                40 * widest * widest * 9, 6 * self.batch_size * 28 * 28 * sum(self.channels)
            ),
            f"--channels {','.join(map(str, self.channels))} with --batch_size {self.batch_size}",
        )

    def name_parts(self):
        removed = ["remove" + "-".join(map(str, self.remove_label))] if self.remove_label else []
        shots = [f"{self.few_shot}shot"] if self.few_shot else []
        tuned = ["finetuned"] if self.init_from else []
        return [self.dataset, *removed, *shots, *tuned]
