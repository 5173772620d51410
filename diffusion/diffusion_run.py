"""One diffusion run end to end: image data with classes removed (and k shots kept, repeated to
balance, as the VAE's), training through common.harness (optionally from another run's weights:
fine-tuning), samples of every class by DDIM with classifier-free guidance, graded by the judge.
Used by train.py and the league; reads no flags."""

import dataclasses
import os

import numpy as np
import tensorflow as tf

from common import harness, image_plots, metrics, plotting
from common.classes import kept_index
from common.distribute import make_strategy
from common.experiment import Experiment
from common.image_data import load_image_data
from common.pipelines import epoch_dataset, to_float
from diffusion.diffusion_models import Diffusion
from diffusion.spec import DiffusionRunSpec


class DiffusionExperiment(Experiment):
    summary_keys = (
        "judge_accuracy_present",
        "frechet_judge_distance_present",
        "seconds_per_step",
    )

    def __init__(self, spec: DiffusionRunSpec):
        super().__init__(spec)
        self.data = load_image_data(spec.dataset, spec.data_dir)
        self.log(f"data: {self.data.source}")
        rng = np.random.default_rng(spec.seed)  # first draw: the shots every family gets for this seed
        self.train_index, self.shots = kept_index(self.data.train_y, spec.removed, spec.few_shot, rng)
        self.config = dataclasses.replace(
            spec.model, image_shape=self.data.image_shape, num_classes=self.data.num_classes
        )

    def describe(self):
        spec = self.spec
        what = f"{spec.few_shot}-shot" if spec.few_shot else "removed"
        removed = ", ".join(self.data.class_names[c] for c in spec.removed) or "none"
        tuned = f", fine-tuned from {spec.init_from}" if spec.init_from else ""
        return (
            f"diffusion: {spec.dataset}, {len(self.train_index)} training images, {what}: {removed}, "
            f"{spec.steps} steps{tuned}"
        )

    def use_xla(self):
        if self.spec.jit is not None:
            return self.spec.jit
        return not (self.spec.mixed_precision and not tf.config.list_physical_devices("GPU"))

    # ---------------------------------------------------------------------------- training
    def initialize(self, model):
        """Fine-tuning: the weights (and their moving average) of the run in --init_from."""
        latest = tf.train.latest_checkpoint(os.path.join(self.spec.init_from, "checkpoints"))
        if latest is None:
            from common.classes import UsageError

            raise UsageError(f"--init_from {self.spec.init_from} has no checkpoint")
        harness.restore_model(model, latest)
        self.log(f"fine-tuning from {latest}")

    def train(self):
        spec = self.spec
        config = harness.TrainConfig(
            out_dir=spec.out_dir,
            steps=spec.steps,
            seed=spec.seed,
            log_every=min(50, spec.steps),
            checkpoint_every=max(spec.steps // 10, 100),
            jit_compile=self.use_xla(),
            progress=spec.progress,
        )
        trainer = harness.Trainer(
            lambda: Diffusion(self.config),
            epoch_dataset(
                self.data.train_x,
                spec.batch_size,
                spec.seed,
                labels=self.data.train_y,
                index=self.train_index,
            ),
            config,
            make_strategy(spec.strategy),
            initialize=self.initialize if spec.init_from else None,
        )
        result = trainer.run()
        return trainer.model, result

    # -------------------------------------------------------------------------- evaluation
    def generate(self, model, labels, salt=0, batch=250):
        spec = self.spec
        sample = tf.function(model.sample, autograph=False)
        out = []
        for i in range(0, len(labels), batch):
            seed = tf.constant([spec.seed, 5000 + salt + i], tf.int64)
            out.append(
                sample(
                    tf.constant(labels[i : i + batch]), tf.constant(spec.sample_steps), spec.guidance, seed
                ).numpy()
            )
        return np.concatenate(out)

    def evaluate(self, model, result):
        spec, data = self.spec, self.data
        k = data.num_classes
        labels = np.repeat(np.arange(k, dtype=np.int32), spec.per_class)
        samples = self.generate(model, labels)
        out = {
            "data_source": data.source,
            "train_examples": int(len(self.train_index)),
            "removed_classes": list(spec.removed),
            "few_shot": spec.few_shot,
            **{f"class_{c}_shot_indices": v.tolist() for c, v in self.shots.items()},
        }
        out.update(result.numbers())
        out["steps"] = int(result.step)
        out["seconds_per_step"] = round(1.0 / max(result.total_steps_per_second, 1e-12), 4)
        if spec.judge:
            out.update(self.judge_metrics(samples, labels))
        return out, {"samples": samples, "labels": labels}

    def judge_metrics(self, samples, labels):
        from common import judge as judge_lib

        spec, data = self.spec, self.data
        with self.stages("judge"):
            judge = judge_lib.load_judge(data, log=self.log)
        probs, features = judge.outputs(samples)
        predicted = np.argmax(probs, axis=1)
        present = ~np.isin(labels, spec.removed)
        real_present = ~np.isin(data.test_y, spec.removed)
        real_features = judge.features(to_float(data.test_x[real_present]))
        out = {
            "judge_test_accuracy": judge.info.test_accuracy,
            "judge_accuracy_present": float(np.mean(predicted[present] == labels[present])),
            "frechet_judge_distance_present": metrics.frechet_distance(features[present], real_features),
        }
        for c in spec.removed:
            mine = labels == c
            real_c = judge.features(to_float(data.test_x[data.test_y == c]))
            out[f"class_{c}_rate"] = float(np.mean(predicted[mine] == c))
            out[f"class_{c}_frechet_judge_distance"] = metrics.frechet_distance(features[mine], real_c)
            out[f"class_{c}_precision"], out[f"class_{c}_recall"] = metrics.precision_recall(
                features[mine], real_c
            )
            if c in self.shots:
                shot_features = judge.features(to_float(data.train_x[self.shots[c]]))
                out[f"class_{c}_copy_rate"] = metrics.copy_rate(features[mine], shot_features, real_c)
        return out

    # ----------------------------------------------------------------------------- outputs
    def figures(self, model, values, evals, history):
        spec = self.spec
        per_row = min(10, spec.per_class)
        rows = np.concatenate(
            [evals["samples"][evals["labels"] == c][:per_row] for c in range(self.data.num_classes)]
        )
        highlight = np.repeat(np.isin(np.arange(self.data.num_classes), spec.removed), per_row)
        text = plotting.metrics_text(values, list(self.summary_keys))
        figures = {
            "samples.png": image_plots.grid_figure(
                rows,
                per_row,
                title=f"one row per class (removed: boxed); {spec.sample_steps} DDIM steps, guidance "
                f"{spec.guidance}",
                text=text,
                highlight=highlight,
            )
        }
        if history:
            figures["losses.png"] = plotting.loss_figure(history)
        return figures

    def samples(self, evals):
        return evals["samples"], evals["labels"]
