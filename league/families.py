"""The league's families: one registry entry each, saying how the family trains without class c,
how it uses k shots of c, how its samples are aimed at c, and which images of its run the league
grades. A new family is one entry here (and its experiment folder).

A cell is (data set, held-out class c, shots k, seed). The k shots of c are drawn by the seed from
c's training images — the first draw of numpy's default_rng(seed), which every experiment makes —
so every family sees the same shots at a given (class, seed); the league checks it where a run
records them.
"""

import dataclasses
import math
import os

import numpy as np

AIMED = 100  # samples aimed at c graded per run (the same number for every family)
PRESENT = 900  # samples of the present classes graded per run


@dataclasses.dataclass(frozen=True)
class Cell:
    dataset: str
    cls: int
    k: int
    seed: int

    @property
    def key(self):
        return f"{self.dataset}-c{self.cls}-k{self.k}-s{self.seed}"


@dataclasses.dataclass(frozen=True)
class Budget:
    """A family's training budget in the league (full; quick: a few steps that run the code)."""

    full: tuple  # arguments of its script
    quick: tuple
    seconds: float  # expected seconds of a full run here
    text: str  # for the page: steps, epochs, what it costs
    tune: tuple = ()  # fine-tuning steps (full, quick) where the few-shot mechanism fine-tunes


@dataclasses.dataclass(frozen=True)
class Family:
    name: str
    folder: str  # the experiment's folder ("" for the reference rows, which train nothing)
    trains: str  # without c
    few_shot: str  # how it uses k shots
    aimed: str  # how its samples aim at c
    representation: str
    budget: Budget | None
    command: object = None  # (cell, budget args, tune steps, base run dir) -> (script, args)
    base: object = None  # cell -> the cell whose run this one builds on, or None
    images: object = None  # (run dir, cell, base run dir) -> (aimed images, present images) in [0, 1]
    runs_as: object = None  # cell -> the cell whose run holds this cell's images (default: itself)

    def run_cell(self, cell):
        return self.runs_as(cell) if self.runs_as else cell

    @property
    def reference(self):
        return self.budget is None


# ------------------------------------------------------------------------------ the families
def _load(path, key):
    with np.load(path) as f:
        return f[key] if key in f.files else None


def gan_images(run_dir, cell=None):
    """infogan/main.py's samples.npz: per label (CGAN, ACGAN) or per code, or unconditional (GAN)."""
    samples = _load(os.path.join(run_dir, "samples.npz"), "samples")
    labels = _load(os.path.join(run_dir, "samples.npz"), "labels")
    return samples, labels


def labelled(run_dir, cell, base_dir=None):
    """Families with a handle on c (CGAN, ACGAN, diffusion): the samples asked for label c; the
    present classes' samples beside them."""
    samples, labels = gan_images(run_dir, cell)
    return samples[labels == cell.cls][:AIMED], samples[labels != cell.cls][:PRESENT]


def unconditional(run_dir, cell, base_dir=None):
    """Families without a handle on c (GAN, InfoGAN): every sample is 'aimed' (how often c comes out
    by itself); the same samples grade the present classes."""
    samples, _ = gan_images(run_dir, cell)
    return samples[:AIMED], samples[:PRESENT]


def vae_images(run_dir, cell, base_dir=None):
    """k = 0: prior samples (no handle on c); k > 0: decoder means near the shots."""
    prior = _load(os.path.join(run_dir, "samples.npz"), "samples")
    if cell.k == 0:
        return prior[:AIMED], prior[:PRESENT]
    near = _load(os.path.join(run_dir, "latent_codes.npz"), "near_shots")
    return near.reshape(-1, *near.shape[-3:])[:AIMED], prior[:PRESENT]


def figr_images(run_dir, cell, base_dir=None):
    """FIGR: adapted to the k shots (train.py's own 4-shot evaluation, or generate.py's), or k = 0:
    the meta-generator itself; its unadapted samples grade the present classes (a generator of
    every meta-training class)."""
    trained = base_dir or run_dir
    unadapted = _load(os.path.join(trained, "few_shot.npz"), f"unadapted_{cell.cls}")
    if cell.k == 0:
        return unadapted[:AIMED], unadapted[:PRESENT]
    adapted = _load(os.path.join(run_dir, "samples.npz"), "samples")
    return adapted[:AIMED], unadapted[:PRESENT]


def gan_command(gan_type):
    def command(cell, budget, tune, base_dir):
        args = ["--gan_type", gan_type, "--dataset", cell.dataset, "--missing_mixt", str(cell.cls)]
        args += ["--width", "quarter"] + (["--few_shot", str(cell.k)] if cell.k else [])
        return "main.py", [*args, *budget, "--seed", str(cell.seed)]

    return command


def vae_command(cell, budget, tune, base_dir):
    args = ["--dataset", cell.dataset, "--remove-label", str(cell.cls), "--encoding-vector-size", "20"]
    if cell.k:
        args += ["--few-shot", str(cell.k), "--per_shot", str(math.ceil(AIMED / cell.k))]
    return "VAE.py", [*args, *budget, "--seed", str(cell.seed)]


def figr_command(cell, budget, tune, base_dir):
    if base_dir is None:  # meta-training; its own evaluation adapts to 4 shots (cells k = 0 and 4)
        args = ["--dataset", cell.dataset, "--held_out", str(cell.cls), "--num_samples", str(AIMED)]
        return "train.py", [*args, "--eval_episodes", "1", *budget, "--seed", str(cell.seed)]
    # other k: the meta-trained run of this (class, seed) adapted to k shots (Algorithm 2)
    args = ["--run_dir", base_dir, "--class", str(cell.cls), "--shots", str(cell.k)]
    return "generate.py", [*args, "--num_samples", str(AIMED), "--seed", str(cell.seed)]


def figr_runs_as(cell):
    return dataclasses.replace(cell, k=4) if cell.k == 0 else cell


def figr_base(cell):
    return None if cell.k in (0, 4) else dataclasses.replace(cell, k=4)


def diffusion_command(cell, budget, tune, base_dir):
    args = ["--dataset", cell.dataset, "--remove_label", str(cell.cls), "--per_class", str(AIMED)]
    if base_dir is None:
        return "train.py", [*args, *budget, "--seed", str(cell.seed)]
    steps = budget.index("--steps")
    budget = [*budget[:steps], *budget[steps + 2 :]]
    args += ["--few_shot", str(cell.k), "--init_from", base_dir, "--steps", str(tune)]
    return "train.py", [*args, *budget, "--seed", str(cell.seed)]


def diffusion_base(cell):
    return None if cell.k == 0 else dataclasses.replace(cell, k=0)


GAN_BUDGET = Budget(
    ("--epoch", "5"),
    ("--epoch", "1", "--batch_size", "64"),
    200,
    "5 epochs of the 54,000 images at quarter width (~4,200 steps of 64)",
)
FAMILIES = {
    family.name: family
    for family in (
        Family(
            "GAN",
            "infogan",
            "plain GAN on the nine other classes",
            "the shots added to training, repeated to balance",
            "none: every sample (how often c comes out by itself)",
            "samples",
            GAN_BUDGET,
            gan_command("GAN"),
            None,
            unconditional,
        ),
        Family(
            "CGAN",
            "infogan",
            "conditional GAN, label c never trained",
            "the shots added with label c, repeated to balance",
            "label c (for k = 0 a label it never trained: the report's 2.3 question)",
            "samples",
            GAN_BUDGET,
            gan_command("CGAN"),
            None,
            labelled,
        ),
        Family(
            "ACGAN",
            "infogan",
            "auxiliary-classifier GAN, label c never trained",
            "the shots added with label c, repeated to balance",
            "label c",
            "samples",
            GAN_BUDGET,
            gan_command("ACGAN"),
            None,
            labelled,
        ),
        Family(
            "InfoGAN",
            "infogan",
            "InfoGAN, 10 categorical codes",
            "the shots added to training, repeated to balance",
            "none: every sample",
            "samples",
            GAN_BUDGET,
            gan_command("infoGAN"),
            None,
            unconditional,
        ),
        Family(
            "VAE",
            "vae",
            "conv VAE (latent 20) on the nine other classes",
            "the shots added to training, repeated to balance (the report's)",
            "k = 0: none (prior samples); k > 0: decoded near the shots' codes",
            "decoder means",
            Budget(("--epochs", "10"), ("--epochs", "1"), 90, "10 epochs (~4,200 steps of 128)"),
            vae_command,
            None,
            vae_images,
        ),
        Family(
            "FIGR",
            "figr",
            "a GAN meta-trained by Reptile on tasks of the nine other classes",
            "adapted to the k shots (10 inner steps)",
            "k = 0: the meta-generator itself; k > 0: adapted to the shots",
            "samples",
            Budget(
                ("--meta_iterations", "1500"),
                ("--meta_iterations", "20"),
                300,
                "1,500 meta-iterations (15,000 inner steps on 4 images)",
            ),
            figr_command,
            figr_base,
            figr_images,
            figr_runs_as,
        ),
        Family(
            "diffusion",
            "diffusion",
            "class-conditional DDPM, label c never trained",
            "fine-tuned from the zero-shot model for a tenth of its steps, the shots added",
            "label c with classifier-free guidance (for k = 0 a label it never trained)",
            "samples",
            Budget(
                # the recipe bench_diffusion found furthest (BENCHMARKS.md): at equal steps Min-SNR-5
                # reached a Fréchet judge distance of 5.9 on the present classes against 7.7 (one seed)
                (
                    "--steps",
                    "4500",
                    "--channels",
                    "16,32,64",
                    "--batch_size",
                    "64",
                    "--min_snr",
                    "5",
                    "--mixed_precision",
                ),
                # quick: no XLA (compiling the U-Net takes longer than its 10 steps), a narrow two-level U-Net
                # and small batches (30 steps of 128 were ~1 s each at one thread: most of the run)
                ("--steps", "10", "--sample_steps", "3", "--nojit", "--channels", "8,16")
                + ("--batch_size", "16"),
                1200,
                "4,500 steps of 64, U-Net 16-32-64, Min-SNR-5, bfloat16 (+450 to fine-tune on the shots)",
                (450, 10),
            ),
            diffusion_command,
            diffusion_base,
            labelled,
        ),
        Family(
            "copy",
            "",
            "nothing: the k shots themselves",
            "returns the shots, lightly augmented (±2 px shifts)",
            "the shots",
            "the shots",
            None,
        ),
        Family(
            "real", "", "nothing: held-out real images of c", "—", "real images of c", "real images", None
        ),
    )
}
TRAINED = [name for name, family in FAMILIES.items() if not family.reference]


def copy_images(shots, seed, n=AIMED):
    """The copy baseline: the shots shifted by up to 2 pixels (the trivial few-shot generator)."""
    rng = np.random.default_rng([seed, 17])
    out = []
    for i in range(n):
        image = shots[i % len(shots)]
        dy, dx = rng.integers(-2, 3, size=2)
        out.append(np.roll(np.roll(image, dy, axis=0), dx, axis=1))
    return np.stack(out)
