"""One 2-d experiment end to end: data, training through common.harness, evaluation, figures and
the output contract. Shared by STYLEGAN.py and CGAN.py; reads no flags."""

import dataclasses
import os

import numpy as np
import tensorflow as tf

from common import files, harness, metrics, outputs, plotting, toy_data
from common.distribute import make_strategy
from toy2d.toy_models import ToyGAN, ToyGANConfig

TOY_KEYS = [
    "modes_captured",
    "modes_present",
    "hq_fraction",
    "missing_mode_hits",
    "mode_kl",
    "nn_distance",
    "nn_distance_heldout_real",
]


@dataclasses.dataclass(frozen=True)
class ToyRunSpec:
    out_dir: str
    model: ToyGANConfig
    dataset: str = "8Gaussians"
    scale: float = 2.0
    missing: tuple = ()
    seed: int = 0
    niters: int = 3001
    batch_size: int = 400
    strategy: str = "default"
    num_eval: int = 2500  # samples the metrics are computed on (as VEEGAN / PacGAN)
    snapshot_steps: tuple = ()
    jit_compile: bool = True
    progress: bool = True


def report_snapshot_steps(niters):
    """The report's iterations 300 / 1200 / 2400 for 3001 steps, scaled for other lengths."""
    return tuple(sorted({max(1, round(f * (niters - 1))) for f in (0.1, 0.4, 0.8)} - {niters}))


def loss_title(step, losses):
    return f"It #{step}: g = {losses['g_loss']:.4f}, d = {losses['d_loss']:.4f}"


class ToyExperiment:
    def __init__(self, spec: ToyRunSpec):
        self.spec = spec
        self.toy = toy_data.toy_spec(spec.dataset, spec.scale)
        self.x, self.y = toy_data.toy_training_set(spec.dataset, spec.seed, spec.scale, spec.missing)
        # Held-out real points from the training distribution: the yardstick for nn_distance.
        self.heldout, _ = toy_data.toy_training_set(
            spec.dataset, spec.seed + 10_000, spec.scale, spec.missing, size=spec.num_eval
        )
        self.real_for_plots = self.x[:600]
        self.removed_centres = self.toy.centres[list(spec.missing)] if spec.missing else None

    def generate(self, model, n, seed_value):
        seed = tf.constant([self.spec.seed, seed_value], tf.int64)
        if model.config.conditional:
            labels = np.arange(n, dtype=np.int32) % self.toy.num_classes  # removed labels too
            return model.generate(n, seed, tf.constant(labels)).numpy(), labels
        return model.generate(n, seed).numpy(), None

    def snapshot_path(self, step):
        return os.path.join(self.spec.out_dir, "snapshots", f"step_{step:06d}.npz")

    def train(self):
        spec = self.spec
        dataset = toy_data.toy_dataset(self.x, self.y, spec.batch_size, spec.seed)
        trainer = None

        def on_step(step, losses):
            samples, labels = self.generate(trainer.model, 600, -step)
            files.write_npz(
                self.snapshot_path(step),
                samples=samples,
                labels=np.asarray(labels if labels is not None else []),
                g_loss=losses["g_loss"],
                d_loss=losses["d_loss"],
            )
            image = plotting.scatter_image(self.x[:600], samples, title=f"step {step}")
            outputs.log_images(spec.out_dir, step, {"samples": image[None]})

        config = harness.TrainConfig(
            out_dir=spec.out_dir,
            steps=spec.niters,
            seed=spec.seed,
            log_every=50,
            jit_compile=spec.jit_compile,
            progress=spec.progress,
        )
        trainer = harness.Trainer(
            lambda: ToyGAN(spec.model),
            dataset,
            config,
            make_strategy(spec.strategy),
            on_step=on_step,
            hook_steps=spec.snapshot_steps,
        )
        return trainer, trainer.run()

    def load_snapshots(self):
        snapshots = []
        for step in self.spec.snapshot_steps:
            path = self.snapshot_path(step)
            if os.path.exists(path):
                data = np.load(path)
                labels = data["labels"] if data["labels"].size else None
                snapshots.append(
                    {
                        "step": step,
                        "samples": data["samples"],
                        "labels": labels,
                        "title": loss_title(
                            step, {"g_loss": float(data["g_loss"]), "d_loss": float(data["d_loss"])}
                        ),
                    }
                )
        return snapshots

    def evaluate(self, model, result):
        samples, labels = self.generate(model, self.spec.num_eval, 0)
        values = metrics.toy_metrics(samples, self.toy, self.spec.missing, self.x, self.heldout)
        if labels is not None:
            values.update(metrics.conditional_metrics(samples, labels, self.toy, self.spec.missing))
        values.update(
            {
                "steps": result.step,
                **result.numbers(),
                "data_source": f"{self.toy.name} (generated, seed {self.spec.seed})",
            }
        )
        return samples, labels, values

    def summary_text(self, values, conditional):
        """The numbers printed beside the snapshots figure."""
        text = plotting.metrics_text(values, TOY_KEYS[:5])
        if not conditional:
            return text
        lines = [text, "", "fraction of label c's samples", "on its own mode:"]
        lines += [
            f"  label {c}: {values[f'label_{c}_on_own_mode']:.3f}"
            + ("  (removed)" if c in self.spec.missing else "")
            for c in range(self.toy.num_classes)
        ]
        for c in self.spec.missing:
            landing = sorted(
                ((values[f"removed_label_{c}_on_mode_{k}"], k) for k in range(self.toy.num_classes)),
                reverse=True,
            )
            lines += ["", f"removed label {c} lands on:"]
            lines += [f"  mode {k}: {share:.3f}" for share, k in landing[:3] if share > 0]
            lines += [f"  off every mode: {values[f'removed_label_{c}_off_modes']:.3f}"]
        return "\n".join(lines)

    def run(self, flag_values, label=None, colour_by_label=True):
        """Trains (or resumes), evaluates and writes the output contract. Returns a summary."""
        trainer, result = self.train()
        samples, labels, values = self.evaluate(trainer.model, result)
        final_losses = (
            result.history[-1] if result.history else {"g_loss": float("nan"), "d_loss": float("nan")}
        )
        title = loss_title(result.step, final_losses)
        snapshots = self.load_snapshots() + [
            {
                "step": result.step,
                "samples": samples[:600],
                "labels": None if labels is None else labels[:600],
                "title": title,
            }
        ]
        panel = {
            "name": label,
            "real": self.real_for_plots,
            "fake": samples,
            "title": title,
            "removed_centres": self.removed_centres,
            "metrics": values,
        }
        figures = {
            "scatter_density.png": plotting.scatter_density_figure([panel], TOY_KEYS),
            "snapshots.png": plotting.snapshots_figure(
                snapshots,
                self.real_for_plots,
                self.toy.num_classes if colour_by_label else None,
                self.spec.missing,
                self.removed_centres,
                text=self.summary_text(values, labels is not None),
            ),
            "losses.png": plotting.loss_figure(result.history),
        }
        paths = outputs.write_run_outputs(self.spec.out_dir, samples, values, flag_values, labels, figures)
        return {"metrics": values, "panel": panel, "paths": paths, "result": result}
