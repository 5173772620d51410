"""One 2-d experiment end to end: data, training through common.harness, evaluation, figures and
the output contract. Shared by STYLEGAN.py and CGAN.py; reads no flags."""

import os

import numpy as np
import tensorflow as tf

from common import files, harness, metrics, outputs, plotting, toy_data
from common.distribute import make_strategy
from common.experiment import Experiment, RunSummary
from toy2d.spec import ToySpec
from toy2d.toy_models import ToyGAN

TOY_KEYS = [
    "modes_captured",
    "modes_present",
    "hq_fraction",
    "missing_mode_hits",
    "mode_kl",
    "nn_distance",
    "nn_distance_heldout_real",
]


def loss_title(step, losses):
    return f"It #{step}: g = {losses['g_loss']:.4f}, d = {losses['d_loss']:.4f}"


class ToyExperiment(Experiment):
    def __init__(self, spec: ToySpec):
        super().__init__(spec)
        self.config = spec.model_config()
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
            jit_compile=spec.jit,
            progress=spec.progress,
        )
        trainer = harness.Trainer(
            lambda: ToyGAN(self.config),
            dataset,
            config,
            make_strategy(spec.strategy),
            on_step=on_step,
            hook_steps=spec.snapshot_steps,
        )
        result = trainer.run()
        return trainer.model, result

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
        return values, {"samples": samples, "labels": labels}

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

    def describe(self):
        spec = self.spec
        missing = ", ".join(map(str, spec.missing)) or "none"
        return f"{spec.title}: {self.toy.name}, mixtures removed: {missing}, {spec.niters} iterations"

    def samples(self, evals):
        return evals["samples"], evals["labels"]

    def figures(self, model, values, evals, history):
        spec = self.spec
        samples, labels = evals["samples"], evals["labels"]
        final_losses = history[-1] if history else {"g_loss": float("nan"), "d_loss": float("nan")}
        title = loss_title(values["steps"], final_losses)
        snapshots = self.load_snapshots() + [
            {
                "step": values["steps"],
                "samples": samples[:600],
                "labels": None if labels is None else labels[:600],
                "title": title,
            }
        ]
        self.panel = {
            "name": spec.title,
            "real": self.real_for_plots,
            "fake": samples,
            "title": title,
            "removed_centres": self.removed_centres,
            "metrics": values,
        }
        return {
            "scatter_density.png": plotting.scatter_density_figure([self.panel], TOY_KEYS),
            "snapshots.png": plotting.snapshots_figure(
                snapshots,
                self.real_for_plots,
                self.toy.num_classes if spec.colour_by_label else None,
                spec.missing,
                self.removed_centres,
                text=self.summary_text(values, labels is not None),
            ),
            "losses.png": plotting.loss_figure(history),
        }

    def run(self):
        """Trains (or resumes), evaluates, writes the output contract and says what it found."""
        summary = super().run()
        m, name = summary.metrics, self.spec.title
        self.log(
            f"{name}: {m['modes_captured']}/{m['modes_present']} modes, HQ fraction {m['hq_fraction']:.3f}, "
            f"missing-mode hits {m['missing_mode_hits']:.4f}, mode KL {m['mode_kl']:.3f}"
        )
        if "present_labels_on_own_mode" in m:
            self.log(
                f"{name}: present labels land on their own mode {m['present_labels_on_own_mode']:.3f}; "
                + "; ".join(
                    f"removed label {c} on its own mode {m[f'label_{c}_on_own_mode']:.3f}, "
                    f"off every mode {m[f'removed_label_{c}_off_modes']:.3f}"
                    for c in self.spec.missing
                )
            )
        return RunSummary(summary.metrics, summary.paths, summary.result, extra={"panel": self.panel})


def write_comparison(out_dir, summaries, notebook=False):
    """comparison.png: the runs' panels side by side (figure 2.2.4)."""
    fig = plotting.scatter_density_figure([s.extra["panel"] for s in summaries], TOY_KEYS)
    path = os.path.join(out_dir, "comparison.png")
    files.save_figure(fig, path)
    print(f"comparison figure: {os.path.abspath(path)}")
    if notebook:
        outputs.show_in_notebook([path])
