"""One VAE experiment end to end (report sections 2.5-2.6): data with a class removed (and k shots
of it kept), training through common.harness, the judge's verdict, figures and the output
contract. Used by VAE.py and the benchmark; reads no flags."""

import os

import numpy as np
import tensorflow as tf

from common import files, harness, metrics, outputs, toy_data
from common.classes import check_batch, check_image_sides, kept_index, validate_classes
from common.distribute import make_strategy
from common.experiment import Experiment
from common.image_data import load_image_data
from common.pipelines import epoch_dataset, random_subset, stratified_sample, to_float
from vae import vae_figures
from vae.spec import VAERunSpec
from vae.vae_models import VAE, VAEConfig


class VAEExperiment(Experiment):
    summary_keys = (
        "prior_removed_class_hits",
        "grid_removed_class_hits",
        "shots_judge_accuracy",
        "shots_copy_fraction",
        "prior_missing_mode_hits",
    )

    def __init__(self, spec: VAERunSpec):
        super().__init__(spec)
        self.rng = np.random.default_rng(spec.seed)
        if spec.toy:
            self._load_toy()
        else:
            self._load_images()
        spec.log(f"data: {self.source}")
        # The training set is full_train_x[train_index] (no copy of the images is made).
        self.train_index, shots = kept_index(self.full_train_y, spec.removed, spec.few_shot, self.rng)
        self.train_y = self.full_train_y[self.train_index]
        # The shots, one removed class after another (the figures and metrics use them).
        self.shot_index = (
            np.concatenate([shots[c] for c in sorted(shots)]) if shots else np.zeros(0, np.int64)
        )
        self.shots = self.full_train_x[self.shot_index]
        check_batch(spec.batch_size, len(self.train_index))
        self.config = VAEConfig(
            input_shape=tuple(self.full_train_x.shape[1:]),
            latent_dim=spec.latent_dim,
            arch=spec.arch,
            hidden=spec.hidden,
            filters=tuple(spec.filters),
            lr=spec.lr,
            init=spec.init,
            adam_epsilon=spec.adam_epsilon,
        )

    # ------------------------------------------------------------------------------------ data
    def _load_images(self):
        data = load_image_data(self.spec.dataset, self.spec.data_dir)
        self.data = data
        self.full_train_x, self.full_train_y = data.train_x, data.train_y
        self.test_x, self.test_y = data.test_x, data.test_y
        self.class_names = data.class_names
        self.source = data.source

    def _load_toy(self):
        spec = self.spec
        self.data = None
        self.toy_spec = toy_data.toy_spec(spec.dataset)
        rng = np.random.default_rng(spec.seed)
        self.full_train_x, self.full_train_y = toy_data.sample_toy(spec.dataset, 60_000, rng)
        self.test_x, self.test_y = toy_data.sample_toy(
            spec.dataset, 10_000, np.random.default_rng(spec.seed + 10_000)
        )
        self.class_names = tuple(str(c) for c in range(self.toy_spec.num_classes))
        self.source = f"{self.toy_spec.name} (generated, seed {spec.seed})"

    def as_float(self, x):
        return x if self.spec.toy else to_float(x)

    # -------------------------------------------------------------------------------- training
    def steps_per_epoch(self):
        return len(self.train_index) // self.spec.batch_size

    def train(self):
        spec = self.spec
        steps = spec.epochs * self.steps_per_epoch()
        config = harness.TrainConfig(
            out_dir=spec.out_dir,
            steps=steps,
            seed=spec.seed,
            log_every=min(50, self.steps_per_epoch()),
            checkpoint_every=max(1, self.steps_per_epoch()),
            progress=spec.progress,
            jit_compile=spec.use_xla,
        )
        fixed_z = self.normal((16, spec.latent_dim), 3)
        trainer = None

        def on_epoch(step, losses):  # the same 16 prior samples after every epoch, in TensorBoard
            if not spec.toy:
                outputs.log_images(spec.out_dir, step, {"prior_samples": self.decode(trainer.model, fixed_z)})

        per_epoch = self.steps_per_epoch()
        trainer = harness.Trainer(
            lambda: VAE(self.config),
            epoch_dataset(self.full_train_x, spec.batch_size, spec.seed, index=self.train_index),
            config,
            make_strategy(spec.strategy),
            on_step=on_epoch,
            hook_steps=range(per_epoch, steps + 1, per_epoch),
        )
        result = trainer.run()
        return trainer.model, result

    # ------------------------------------------------------------------------------ evaluation
    def encode(self, model, x, batch=1000):
        mus = [
            model.encode(tf.constant(self.as_float(x[i : i + batch])))[0].numpy()
            for i in range(0, len(x), batch)
        ]
        return np.concatenate(mus) if mus else np.zeros((0, self.spec.latent_dim), np.float32)

    def decode(self, model, z, batch=1000):
        z = np.asarray(z, np.float32)
        return np.concatenate(
            [model.decode(tf.constant(z[i : i + batch])).numpy() for i in range(0, len(z), batch)]
        )

    def neg_elbo(self, model, x, batch=1000):
        """Single-sample estimate of -ELBO (reconstruction + KL) per example, in nats."""
        evaluate = tf.function(model.neg_elbo_terms, autograph=False)
        recon, kl = [], []
        for i in range(0, len(x), batch):
            chunk = tf.constant(self.as_float(x[i : i + batch]))
            eps = tf.random.stateless_normal((len(chunk), self.spec.latent_dim), [self.spec.seed, 7_000 + i])
            r, k = evaluate(chunk, eps)
            recon.append(r.numpy())
            kl.append(k.numpy())
        return np.concatenate(recon), np.concatenate(kl)

    def normal(self, shape, salt):
        return np.random.default_rng([self.spec.seed, salt]).standard_normal(shape).astype(np.float32)

    def manifold(self, codes):
        """Latent points of the n x n manifold figure: an even grid over the 2nd-98th percentile
        of the test codes on each axis (for a latent above 2-d, on the plane through the codes'
        mean spanned by their two principal directions). Rows run top to bottom in decreasing
        second coordinate, as the scatter plot's y axis."""
        n = self.spec.grid_size
        centre, basis = self.plane(codes)
        xy = (codes - centre) @ basis.T
        lo, hi = np.percentile(xy, 2, axis=0), np.percentile(xy, 98, axis=0)
        u, v = np.linspace(lo[0], hi[0], n), np.linspace(hi[1], lo[1], n)
        grid = np.array([(a, b) for b in v for a in u])
        return (centre + grid @ basis).astype(np.float32)

    def plane(self, codes):
        """(centre, 2 x latent basis): the axes themselves for a 2-d latent, else the codes'
        principal plane."""
        if codes.shape[1] == 2:
            return np.zeros(2), np.eye(2)
        centre = codes.mean(axis=0)
        _, _, vt = np.linalg.svd(codes - centre, full_matrices=False)
        return centre, vt[:2]

    def project(self, codes):
        """2-d coordinates of latent codes for the scatter figure (principal plane above 2-d)."""
        centre, basis = self.plane(codes)
        names = ("z1", "z2") if codes.shape[1] == 2 else ("principal direction 1", "principal direction 2")
        return (codes - centre) @ basis.T, names

    def evaluate(self, model, result):
        spec = self.spec
        out = {
            "data_source": self.source,
            "train_examples": int(len(self.train_index)),
            "removed_classes": list(spec.removed),
            "few_shot": spec.few_shot,
        }
        recon, kl = self.neg_elbo(model, self.test_x)
        out.update(
            {
                "test_neg_elbo": float(np.mean(recon + kl)),
                "test_reconstruction": float(np.mean(recon)),
                "test_kl": float(np.mean(kl)),
            }
        )
        for c in range(len(self.class_names)):
            mine = self.test_y == c
            if mine.any():
                out[f"test_neg_elbo_class_{c}"] = float(np.mean(recon[mine] + kl[mine]))
        removed = np.isin(self.test_y, spec.removed)
        if removed.any():
            out["test_neg_elbo_removed"] = float(np.mean(recon[removed] + kl[removed]))
            out["test_neg_elbo_present"] = float(np.mean(recon[~removed] + kl[~removed]))
        codes = self.encode(model, self.test_x)
        evals = {"codes": codes}
        evals["prior"] = self.decode(model, self.normal((spec.num_samples, spec.latent_dim), 1))
        evals["grid"] = self.decode(model, self.manifold(codes))
        if len(self.shots):
            shot_codes = self.encode(model, self.shots)
            evals["shot_codes"] = shot_codes
            near = shot_codes[:, None, :] + spec.shot_radius * self.normal(
                (len(self.shots), spec.per_shot, spec.latent_dim), 2
            )
            evals["near_shots"] = self.decode(model, near.reshape(-1, spec.latent_dim)).reshape(
                len(self.shots), spec.per_shot, *self.config.input_shape
            )
            evals["shot_reconstructions"] = self.decode(model, shot_codes)
        if spec.toy:
            out.update(self.toy_metrics(evals))
        else:
            out.update(self.image_metrics(evals))
        out.update({"steps": result.step, "epochs": spec.epochs, **result.numbers(self.steps_per_epoch())})
        return out, evals

    def nn_distances(self, samples, prefix):
        """nn_distance of samples to the training images actually shown (removal applied, each
        distinct image once) beside held-out real test images of the present classes."""
        present_index = np.flatnonzero(~np.isin(self.full_train_y, self.spec.removed))
        shown = np.concatenate([present_index, self.shot_index])
        pool = self.as_float(self.full_train_x[shown[random_subset(len(shown), 20_000, self.rng)]])
        present = np.flatnonzero(~np.isin(self.test_y, self.spec.removed))[: len(samples)]
        return {
            f"{prefix}nn_distance": metrics.nn_distance(samples, pool),
            f"{prefix}nn_distance_heldout_real": metrics.nn_distance(
                self.as_float(self.test_x[present]), pool
            ),
        }

    def image_metrics(self, evals):
        spec = self.spec
        out = self.nn_distances(evals["prior"], "prior_")
        if not spec.judge:
            return out
        from common import judge as judge_lib

        with self.stages("judge"):
            judge = judge_lib.load_judge(self.data, log=spec.log)
        self.judge = judge
        out.update({"judge_test_accuracy": judge.info.test_accuracy, "judge_key": judge.info.key})
        real = self.as_float(
            self.test_x[
                stratified_sample(self.test_y, spec.num_samples // len(self.class_names) + 1, self.rng)
            ]
        )
        real_features = judge.features(real)
        out.update(judge.grade(evals["prior"], "prior_", spec.removed, real_features))
        grid_probs, grid_features = judge.outputs(evals["grid"])
        out.update(judge.grade_outputs(grid_probs, grid_features, "grid_", spec.removed))
        evals["grid_removed"] = metrics.removed_class_mask(grid_probs, spec.removed)
        if len(self.shots):
            out.update(self.few_shot_metrics(evals, judge))
        return out

    def few_shot_metrics(self, evals, judge):
        """Are the generations near the shots of the shots' class, and are they copies? The
        generations' distance to their nearest shot is set beside real images of that class
        (from the test set, never trained on): real images closer to a shot than a generation
        is show how near 'new' can be."""
        spec = self.spec
        target = self.full_train_y[self.shot_index]
        means = evals["near_shots"].reshape(-1, *self.config.input_shape)
        # The decoder's output is the mean of a Bernoulli per pixel, a blur over what the model
        # would draw; a GAN's output is a sample. shots_* grade samples x ~ Bernoulli(mean) (like
        # with like when set beside FIGR), shots_mean_* the means the figure shows.
        samples = np.random.default_rng([spec.seed, 7]).binomial(1, means).astype(np.float32)
        near_target = np.repeat(target, spec.per_shot)
        same_class = self.as_float(self.test_x[np.isin(self.test_y, target)])
        shots = self.as_float(self.shots)
        _, shot_features = judge.outputs(shots)
        _, real_features = judge.outputs(same_class)
        out = {}
        for prefix, near in (("shots_", samples), ("shots_mean_", means)):
            probs, features = judge.outputs(near)
            values = metrics.shot_metrics(
                near,
                shots,
                same_class,
                np.argmax(probs, axis=1),
                near_target,
                features=(features, shot_features, real_features),
            )
            out.update({prefix + k: v for k, v in values.items()})
        out["shots_judge_accuracy_of_reconstructions"] = float(
            np.mean(np.argmax(judge.probabilities(evals["shot_reconstructions"]), axis=1) == target)
        )
        return out

    def toy_metrics(self, evals):
        spec = self.spec
        train = self.full_train_x[~np.isin(self.full_train_y, spec.removed)][:20_000]
        heldout = self.test_x[~np.isin(self.test_y, spec.removed)][: spec.num_samples]
        out = {
            f"prior_{k}": v
            for k, v in metrics.toy_metrics(
                evals["prior"], self.toy_spec, spec.removed, train, heldout
            ).items()
        }
        if len(self.shots):
            near = evals["near_shots"].reshape(-1, 2)
            out["shots_on_removed_mode"] = metrics.missing_mode_hits(near, self.toy_spec, spec.removed)
        return out

    # ---------------------------------------------------------------------------- outputs
    def describe(self):
        spec = self.spec
        return (
            f"VAE: {spec.dataset}, latent {spec.latent_dim}, {spec.arch}, "
            f"{len(self.train_index)} training examples"
        )

    def validate(self):
        if not self.spec.toy:
            validate_classes(self.spec.removed, len(self.class_names), "--remove-label")
            if self.spec.arch == "conv":
                check_image_sides(
                    self.full_train_x.shape[1:], self.spec.dataset, "--arch conv", instead="use --arch mlp"
                )

    def figures(self, model, values, evals, history):
        return vae_figures.figures(self, model, values, evals, history)

    def samples(self, evals):
        return evals["prior"], None

    def write_extra(self, evals):
        extra = {}
        if len(self.shots):
            extra["shots"] = self.as_float(self.shots)
            extra["near_shots"] = evals["near_shots"]
        files.write_npz(
            os.path.join(self.spec.out_dir, "latent_codes.npz"),
            codes=evals["codes"],
            labels=self.test_y,
            grid=evals["grid"],  # the decoded manifold (manifold.png), graded again by the report
            **extra,
        )

    def run(self):
        summary = super().run()
        values = summary.metrics
        self.log(
            f"test -ELBO {values['test_neg_elbo']:.2f} nats/image"
            + (
                f" (removed class {values['test_neg_elbo_removed']:.2f})"
                if "test_neg_elbo_removed" in values
                else ""
            )
        )
        return summary
