"""One InfoGAN-family experiment end to end (report section 2.4): image data with classes
removed, training through common.harness, the judge's verdict per code or label, figures and the
output contract. Used by main.py; reads no flags. On the 2-d toy sets the same GANs use MLPs and
are graded by the toy metrics instead of the judge."""

import os

import numpy as np
import tensorflow as tf

from common import files, harness, image_plots, metrics, outputs, toy_data
from common.classes import check_batch, check_image_sides, remove_classes
from common.distribute import make_strategy
from common.experiment import Experiment
from common.image_data import load_image_data
from common.pipelines import epoch_dataset, random_subset, stratified_sample, to_float
from infogan import infogan_figures
from infogan.gan_models import GANConfig, ImageGAN
from infogan.gan_variants import VARIANTS
from infogan.spec import GANRunSpec

WIDTHS = {  # G (FC, 7x7 channels, 14x14 channels) / D (14x14 channels, 7x7 channels, FC)
    "full": ((1024, 128, 64), (64, 128, 1024)),  # Chen et al.'s MNIST networks
    "half": ((512, 64, 32), (32, 64, 512)),
    "quarter": ((256, 32, 16), (16, 32, 256)),
}
# --width auto: Chen et al.'s networks ("full") when the run is at most this many steps (about
# 15 minutes on a 2-core CPU at ~150 ms per step: MNIST's 5k digits for 50 epochs), else quarter
# width (Fashion-MNIST's 60,000 images for 50 epochs would take hours there).
AUTO_FULL_WIDTH_STEPS = 6000


def resolve_width(width, steps):
    """The width a run uses: `width`, or for "auto" full up to AUTO_FULL_WIDTH_STEPS, else quarter."""
    if width != "auto":
        return width
    return "full" if steps <= AUTO_FULL_WIDTH_STEPS else "quarter"


class GANExperiment(Experiment):
    summary_keys = (
        "code_purity_mean",
        "classes_covered",
        "classes_generated",
        "removed_class_hits",
        "classifier_score",
        "frechet_judge_distance",
        "modes_captured",
        "missing_mode_hits",
    )

    def __init__(self, spec: GANRunSpec):
        super().__init__(spec)
        self.judge = None
        self.variant = VARIANTS[spec.gan_type]
        self.rng = np.random.default_rng(spec.seed)
        self.toy = spec.dataset in toy_data.TOY_DATASETS
        if self.toy:
            self.toy_spec = toy_data.toy_spec(spec.dataset)
            self.train_x, self.train_y = toy_data.toy_training_set(
                spec.dataset, spec.seed, missing=spec.removed, size=10_000
            )
            self.heldout, _ = toy_data.toy_training_set(
                spec.dataset, spec.seed + 10_000, missing=spec.removed, size=2_500
            )
            self.class_names = tuple(f"mode {c}" for c in range(self.toy_spec.num_classes))
            self.source = f"{self.toy_spec.name} (generated, seed {spec.seed})"
            shape, g_width, d_width = (2,), (128,), (0, 0, 128)
            self.width = "mlp"
        else:
            self.data = load_image_data(spec.dataset, spec.data_dir)
            check_image_sides(self.data.image_shape, spec.dataset, f"--gan_type {spec.gan_type}")
            self.train_x, self.train_y, self.shots = remove_classes(
                self.data.train_x, self.data.train_y, spec.removed, spec.few_shot, self.rng
            )
            self.class_names = self.data.class_names
            self.source = self.data.source
            self.width = resolve_width(spec.width, spec.epochs * (len(self.train_x) // spec.batch_size))
            shape, (g_width, d_width) = self.data.image_shape, WIDTHS[self.width]
            spec.log(f"network width: {self.width}" + (" (--width auto)" if spec.width == "auto" else ""))
        check_batch(spec.batch_size, len(self.train_x))
        spec.log(f"data: {self.source}")
        k = len(self.class_names)
        self.config = GANConfig(
            spec.gan_type,
            shape,
            spec.z_dim,
            k,
            cat_dim=k if self.toy else 10,
            g_width=g_width,
            d_width=d_width,
            lr_g=spec.lr_g,
            lr_d=spec.lr_d,
            beta1=spec.beta1,
            info_trains_d=spec.info_trains_d,
        )

    @property
    def num_codes(self):
        return self.config.cat_dim if self.variant.coded else len(self.class_names)

    def steps_per_epoch(self):
        return len(self.train_x) // self.spec.batch_size

    def code_grid(self, model, rows=10, salt=0):
        """rows x codes images: row r shares its noise, column k is code (or label) k."""
        k = self.num_codes
        labels = np.tile(np.arange(k, dtype=np.int32), rows)
        seed = tf.constant([self.spec.seed, 1000 + salt], tf.int64)
        # Same z along a row: generate rows noise vectors, repeat each across the codes.
        if not self.variant.conditioned:
            images, _, _ = model.generate(rows * k, seed)
            return images.numpy()
        z = tf.random.stateless_uniform((rows, self.config.z_dim), seed, -1.0, 1.0)
        z = tf.repeat(z, k, axis=0)
        condition, _ = model.sample_condition(rows * k, seed, tf.constant(labels))
        if self.variant.coded:  # continuous codes at 0 in the code grid
            condition = tf.concat([condition[:, :k], tf.zeros((rows * k, self.config.cont_dim))], axis=1)
        return model.generator(tf.concat([z, condition], axis=1), training=False).numpy()

    def sample_codes(self, model, salt=5):
        """per_code samples of every code / label (GAN: unconditional); returns (samples, codes)."""
        k, n = self.num_codes, self.spec.per_code
        seed = tf.constant([self.spec.seed, salt], tf.int64)
        if not self.variant.conditioned:
            return model.generate(k * n, seed)[0].numpy(), None
        codes = np.repeat(np.arange(k, dtype=np.int32), n)
        return model.generate(k * n, seed, labels=tf.constant(codes))[0].numpy(), codes

    def continuous_sweep(self, model, code, dim, steps=10, rows=5):
        """For categorical code `code`: continuous code `dim` swept from -2 to 2 along a row,
        the other at 0; one noise vector per row."""
        seed = tf.constant([self.spec.seed, 2000 + dim], tf.int64)
        z = tf.repeat(tf.random.stateless_uniform((rows, self.config.z_dim), seed, -1.0, 1.0), steps, axis=0)
        cont = np.zeros((rows * steps, self.config.cont_dim), np.float32)
        cont[:, dim] = np.tile(np.linspace(-2.0, 2.0, steps), rows)
        onehot = tf.one_hot(tf.fill((rows * steps,), code), self.config.cat_dim)
        return model.generator(tf.concat([z, onehot, cont], axis=1), training=False).numpy()

    def train(self):
        spec = self.spec
        per_epoch = self.steps_per_epoch()
        steps = spec.epochs * per_epoch
        config = harness.TrainConfig(
            out_dir=spec.out_dir,
            steps=steps,
            seed=spec.seed,
            log_every=min(50, per_epoch),
            checkpoint_every=per_epoch,
            jit_compile=self.use_xla(),
            progress=spec.progress,
        )
        trainer = None

        def on_epoch(step, losses):
            if self.toy:
                return
            grid = self.code_grid(trainer.model, rows=4, salt=1)
            epoch = step // per_epoch
            files.save_figure(
                image_plots.grid_figure(grid, self.num_codes, title=f"epoch {epoch}", size=5.0),
                os.path.join(spec.out_dir, "epochs", f"epoch_{epoch:03d}.png"),
            )
            outputs.log_images(spec.out_dir, step, {"code_grid": grid[: 4 * self.num_codes]})

        trainer = harness.Trainer(
            lambda: ImageGAN(self.config),
            epoch_dataset(self.train_x, spec.batch_size, spec.seed, labels=self.train_y),
            config,
            make_strategy(spec.strategy),
            on_step=on_epoch,
            hook_steps=range(per_epoch, steps + 1, per_epoch),
        )
        result = trainer.run()
        return trainer.model, result

    def use_xla(self):
        """--jit, by default on except for bfloat16 on a CPU (measured: 171 ms per full-width step
        with XLA, 126 without; bench_roofline)."""
        if self.spec.jit is not None:
            return self.spec.jit
        if self.spec.mixed_precision and not tf.config.list_physical_devices("GPU"):
            self.log(
                "--mixed_precision on a CPU: training without XLA (slower in bfloat16 there); --jit forces it"
            )
            return False
        return True

    def purity(self, predicted, codes, out):
        """For each code: the majority class of its samples (predicted: a class per sample,
        -1 for none) and the fraction in it."""
        majority, purity = [], []
        labels = not self.variant.coded
        for c in range(self.num_codes):
            mine = predicted[codes == c]
            counts = np.bincount(mine[mine >= 0], minlength=len(self.class_names))
            majority.append(int(np.argmax(counts)) if counts.sum() else -1)  # -1: no sample in any class
            purity.append(float(counts.max() / max(len(mine), 1)))
            out[f"code_{c}_majority_class"] = majority[-1]
            out[f"code_{c}_purity"] = purity[-1]
            if labels:  # a label should produce its own class
                out[f"label_{c}_accuracy"] = float(np.mean(mine == c))
        # CGAN/ACGAN: the mean over the labels seen in training; removed labels are reported
        # apart (label_<c>_accuracy and removed_class_hits), not mixed into it.
        kept = [p for c, p in enumerate(purity) if not (labels and c in self.spec.removed)]
        out["code_purity_mean"] = float(np.mean(kept))
        majority = [m for m in majority if m >= 0]
        out["classes_covered"] = len(set(majority))
        out["removed_classes_covered"] = len(set(majority) & set(self.spec.removed))

    def evaluate(self, model, result):
        """Per code (infoGAN) or label (CGAN/ACGAN): the judge's (toy: the nearest mode's)
        majority class and purity, plus the data set's metrics on all samples."""
        spec = self.spec
        out = {
            "data_source": self.source,
            "train_examples": int(len(self.train_x)),
            "removed_classes": list(spec.removed),
            "width": self.width,
            "few_shot": spec.few_shot,
            **{f"class_{c}_shot_indices": v.tolist() for c, v in getattr(self, "shots", {}).items()},
        }
        samples, codes = self.sample_codes(model)
        if self.toy:
            out.update(metrics.toy_metrics(samples, self.toy_spec, spec.removed, self.train_x, self.heldout))
            if codes is not None:
                nearest, dist = metrics.assign_modes(samples, self.toy_spec)
                self.purity(np.where(dist < 3.0 * self.toy_spec.sigma, nearest, -1), codes, out)
        else:
            judge = self.judge
            probs, feats = judge.outputs(samples)
            real = to_float(self.data.test_x[stratified_sample(self.data.test_y, 100, self.rng)])
            out.update(judge.grade_outputs(probs, feats, "", spec.removed, judge.features(real)))
            k = len(self.class_names)  # classes given at least half their fair share of the samples
            out["classes_generated"] = int(sum(out[f"class_{c}_share"] >= 0.5 / k for c in range(k)))
            if codes is not None:
                self.purity(np.argmax(probs, axis=1), codes, out)
            pool = to_float(self.train_x[random_subset(len(self.train_x), 20_000, self.rng)])
            heldout = np.flatnonzero(~np.isin(self.data.test_y, spec.removed))[:1000]
            out["nn_distance"] = metrics.nn_distance(samples[:1000], pool)
            out["nn_distance_heldout_real"] = metrics.nn_distance(to_float(self.data.test_x[heldout]), pool)
            out["judge_test_accuracy"] = judge.info.test_accuracy
        out.update({"steps": result.step, "epochs": spec.epochs, **result.numbers(self.steps_per_epoch())})
        return out, {"samples": samples, "codes": codes}

    def class_name(self, index):
        return "none" if index < 0 else self.class_names[index]

    def is_removed_label(self, code):
        return self.variant.labelled and code in self.spec.removed

    def describe(self):
        spec = self.spec
        return f"{spec.gan_type}: {spec.dataset}, {len(self.train_x)} training images, {spec.epochs} epochs"

    def figures(self, model, values, evals, history):
        return infogan_figures.figures(self, model, evals["samples"], evals["codes"], values, history)

    def samples(self, evals):
        return evals["samples"], evals["codes"]

    def run(self):
        if not self.toy:  # before training: a judge that cannot be had fails the run at once
            from common import judge as judge_lib

            with self.stages("judge"):
                self.judge = judge_lib.load_judge(self.data, log=self.spec.log)
        return super().run()
