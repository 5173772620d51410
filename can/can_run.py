"""One CAN experiment end to end: art genres from a WikiArt-style folder (or the announced
stand-in), training through common.harness, the style-ambiguity and diversity metrics, figures
and the output contract. Used by train.py; reads no flags."""

import os

import numpy as np
import tensorflow as tf

from can.can_models import CAN, style_entropy
from can.spec import QUALITY_KEYS, CANRunSpec
from common import files, harness, image_plots, metrics, outputs, plotting
from common.classes import check_batch
from common.distribute import make_strategy
from common.experiment import Experiment
from common.folder_data import (
    artgan_layout,
    csv_split,
    load_arrays,
    match_classes,
    scan_folders,
    split_heldout,
    stream_dataset,
)
from common.image_data import load_image_data
from common.pipelines import epoch_dataset, stratified_sample, to_float

STANDIN_NOTICE = (
    "*** no --data_dir: training on a STAND-IN for WikiArt — Fashion-MNIST classes posing as "
    "genres, upsampled to {size}x{size} RGB. Pass --data_dir <WikiArt>/ for real art. ***"
)


class ArtData:
    """Training stream, held-out real images and (for the independent classifier) an in-memory
    sample, from a WikiArt folder or the stand-in."""

    def __init__(self, spec: CANRunSpec):
        size = spec.model.image_size
        self.size, self.genres = size, tuple(spec.genres)
        if spec.data_dir:
            root, val_csv = artgan_layout(spec.data_dir)
            class_dirs = match_classes(root, self.genres)
            cache = files.cache_dir("wikiart")
            scan = scan_folders(class_dirs, size, cache, log=spec.log)
            labels = np.asarray(scan.labels)
            empty = [g for i, g in enumerate(self.genres) if not np.any(labels == i)]
            if empty:
                from common.classes import UsageError

                raise UsageError(
                    f"--data_dir: genre directory '{os.path.basename(class_dirs[empty[0]])}' has no readable "
                    "image"
                )
            split = f"{spec.heldout_fraction:.0%} of each genre held out"
            train, heldout = split_heldout(labels, spec.heldout_fraction, spec.seed)
            if val_csv:
                csv_train, csv_heldout = csv_split(scan.origins, root, val_csv)
                if all(np.any(labels[csv_heldout] == i) for i in range(len(self.genres))):
                    train, heldout, split = csv_train, csv_heldout, f"held out: ArtGAN's {val_csv}"
                else:
                    spec.log(f"data: {val_csv} lists no image of some genre; holding out a random split")
            self.counts = scan.counts
            self.train_paths, self.train_labels = [scan.paths[i] for i in train], labels[train]
            self.heldout_paths, self.heldout_labels = [scan.paths[i] for i in heldout], labels[heldout]
            self.source = f"WikiArt-style folders in {os.path.abspath(root)} ({split})"
            self.num_train = len(train)
        else:
            spec.log(STANDIN_NOTICE.format(size=size))
            data = load_image_data("fashion-mnist")
            self.fashion = data
            keep, keep_test = data.train_y < len(self.genres), data.test_y < len(self.genres)
            self.train_x, self.train_y = data.train_x[keep], data.train_y[keep]
            self.test_x, self.test_y = data.test_x[keep_test], data.test_y[keep_test]
            self.genres = tuple(f"{data.class_names[c]} (as '{g}')" for c, g in enumerate(self.genres))
            # The names only label the stand-in's classes, in order: say so, whatever was asked for.
            spec.log(
                "stand-in genres (no art is read; the names only label these classes): "
                + ", ".join(self.genres)
            )
            self.source = f"STAND-IN: {data.source}, first {len(self.genres)} classes as genres"
            self.counts = {"files_seen": 0, "used": len(self.train_x)}
            self.num_train = len(self.train_x)
        spec.log(f"data: {self.source}; {self.num_train} training images")

    def upsample(self, x):
        """Stand-in images (B, 28, 28, 1) in [0, 1] -> (B, size, size, 3)."""
        return tf.image.grayscale_to_rgb(tf.image.resize(x, (self.size, self.size)))

    def dataset(self, batch_size, seed):
        if hasattr(self, "train_paths"):
            return stream_dataset(self.train_paths, self.train_labels, self.size, batch_size, seed)
        return epoch_dataset(self.train_x, batch_size, seed, labels=self.train_y).map(
            lambda x, y: (self.upsample(x), tf.cast(y, tf.int32))
        )

    def real_sample(self, which, limit, rng):
        """(images, labels) in memory: up to `limit` of the training or held-out images, stratified."""
        if hasattr(self, "train_paths"):
            paths, labels = (
                (self.train_paths, self.train_labels)
                if which == "train"
                else (self.heldout_paths, self.heldout_labels)
            )
            pick = stratified_sample(labels, limit // len(self.genres) + 1, rng)[:limit]
            return load_arrays([paths[i] for i in pick], self.size), labels[pick]
        x, y = (self.train_x, self.train_y) if which == "train" else (self.test_x, self.test_y)
        pick = stratified_sample(y, limit // len(self.genres) + 1, rng)[:limit]
        return self.upsample(to_float(x[pick])).numpy(), y[pick]


class CANExperiment(Experiment):
    summary_keys = (
        "style_entropy_dc",
        "style_entropy_judge",
        "style_entropy_max",
        "realness",
        "nn_distance",
        "nn_distance_heldout_real",
        "diversity",
        "diversity_real",
        "seconds_per_iteration",
    )

    def __init__(self, spec: CANRunSpec):
        super().__init__(spec)
        self.data = ArtData(spec)
        check_batch(spec.batch_size, self.data.num_train)
        self.config = spec.model
        self.fixed_noise = tf.random.stateless_normal(
            (16, self.config.z_dim), tf.constant([spec.seed, 77], tf.int64)
        )

    def train(self):
        spec = self.spec
        strategy = make_strategy(spec.strategy)
        config = harness.TrainConfig(
            out_dir=spec.out_dir,
            steps=spec.iterations,
            seed=spec.seed,
            log_every=min(10, spec.sample_every),
            checkpoint_every=max(spec.sample_every, 50),
            progress=spec.progress,
        )
        trainer = None

        def on_sample(step, losses):  # Ahn et al.'s 4x4 grid every --sample_every iterations, same noise
            grid = trainer.model.generator(self.fixed_noise).numpy()
            files.write_npz(os.path.join(spec.out_dir, "samples", f"iter_{step:06d}.npz"), samples=grid)
            files.save_figure(
                image_plots.grid_figure(grid, 4, title=f"iteration {step}", size=4.0),
                os.path.join(spec.out_dir, "samples", f"iter_{step:06d}.png"),
            )
            outputs.log_images(spec.out_dir, step, {"samples": grid})

        trainer = harness.Trainer(
            lambda: CAN(self.config),
            self.data.dataset(spec.batch_size, spec.seed),
            config,
            strategy,
            on_step=on_sample,
            hook_steps=range(spec.sample_every, spec.iterations + 1, spec.sample_every),
        )
        result = trainer.run()
        return trainer.model, result

    def evaluate(self, model, result):
        spec = self.spec
        rng = np.random.default_rng(spec.seed)
        gens = np.concatenate(
            [
                model.generator(
                    model.noise(min(64, spec.num_samples - i), tf.constant([spec.seed, 900 + i], tf.int64))
                ).numpy()
                for i in range(0, spec.num_samples, 64)
            ]
        )
        heldout, heldout_labels = self.data.real_sample("heldout", spec.num_samples, rng)
        train, _ = self.data.real_sample("train", 2000, rng)
        d_gen, d_real = model.discriminator(tf.constant(gens)), model.discriminator(tf.constant(heldout))
        k = len(spec.genres)
        out = {
            "style_entropy_max": float(np.log(k)),
            "style_entropy_dc": float(np.mean(style_entropy(d_gen["genre"]))),
            "style_entropy_dc_real": float(np.mean(style_entropy(d_real["genre"]))),
            "dc_accuracy_heldout_real": float(np.mean(np.argmax(d_real["genre"], 1) == heldout_labels)),
            "realness": float(np.mean(tf.sigmoid(d_gen["real"]))),
            "realness_heldout_real": float(np.mean(tf.sigmoid(d_real["real"]))),
            "nn_distance": metrics.nn_distance(gens, train),
            "nn_distance_heldout_real": metrics.nn_distance(heldout, train),
            "diversity": metrics.mean_pairwise_distance(gens),
            "diversity_real": metrics.mean_pairwise_distance(heldout),
            "saturated_fraction": metrics.saturated_fraction(gens),
            "saturated_fraction_heldout_real": metrics.saturated_fraction(heldout),
            "saturated_foreground": metrics.foreground_saturated_fraction(gens),
            "saturated_foreground_heldout_real": metrics.foreground_saturated_fraction(heldout),
        }
        out["diversity_ratio"] = out["diversity"] / max(out["diversity_real"], 1e-12)
        if spec.judge:
            out.update(self.judge_metrics(gens, heldout, heldout_labels))
        out.update(
            {
                "data_source": self.data.source,
                "iterations": result.step,
                **result.numbers(),
                "seconds_per_iteration": 1.0 / max(result.total_steps_per_second, 1e-12),
                "images_per_second": result.total_steps_per_second * spec.batch_size,
                "genres": list(self.data.genres),
                "train_images": self.data.num_train,
                **{f"data_{k}": v for k, v in self.data.counts.items()},
            }
        )
        return out, {"samples": gens}

    def judge_metrics(self, gens, heldout, heldout_labels):
        """The independent genre classifier's verdict: trained on real images of the K genres only
        (the stand-in: Fashion-MNIST restricted to its first K classes, so no probability is left
        on classes that are not genres), so the style entropy of the generations is graded neither
        by the discriminator G was trained against nor by classes outside the genres. The entropy
        is also given among the generations the judge finds realistic (inside the real images'
        manifold in its feature space: improved precision's membership), so an image that is
        ambiguous only because it is no picture of anything is told apart."""
        from common import judge as judge_lib
        from common.image_data import ImageData

        k = len(self.spec.genres)
        if hasattr(self.data, "fashion"):  # stand-in: a K-class judge on 28x28 gray images
            f = self.data.fashion
            keep, keep_test = f.train_y < k, f.test_y < k
            data = ImageData(
                f"{f.name}-first{k}",
                f.train_x[keep],
                f.train_y[keep],
                f.test_x[keep_test],
                f.test_y[keep_test],
                f.class_names[:k],
                f.source,
                f.source_key,
            )
            to_judge = lambda x: tf.image.resize(tf.image.rgb_to_grayscale(x), (28, 28)).numpy()  # noqa: E731
        else:
            rng = np.random.default_rng(self.spec.seed + 1)
            x, y = self.data.real_sample("train", 1000 * k, rng)
            data = ImageData(
                "wikiart-" + "-".join(g.replace(" ", "") for g in self.spec.genres),
                (x * 255).astype(np.uint8),
                y.astype(np.int64),
                (heldout * 255).astype(np.uint8),
                heldout_labels.astype(np.int64),
                tuple(self.spec.genres),
                self.data.source,
                "folder",
            )
            to_judge = lambda x: x  # noqa: E731
        with self.stages("judge"):
            judge = judge_lib.load_judge(data, log=self.spec.log)
        probs_gen, features_gen = judge.outputs(to_judge(gens))
        probs_real, features_real = judge.outputs(to_judge(heldout))
        realistic = metrics.realistic(features_gen, features_real)
        out = {
            "judge_test_accuracy": judge.info.test_accuracy,
            "judge_classes": k,
            "judge_accuracy_heldout_real": float(np.mean(np.argmax(probs_real, 1) == heldout_labels)),
            "realistic_fraction": float(np.mean(realistic)),
            "frechet_judge_distance": metrics.frechet_distance(features_gen, features_real),
        }

        def entropy(p):
            return -np.sum(p * np.log(np.maximum(p, 1e-12)), axis=1)

        out["style_entropy_judge"] = float(np.mean(entropy(probs_gen)))
        out["style_entropy_judge_real"] = float(np.mean(entropy(probs_real)))
        out["style_entropy_judge_realistic"] = (
            float(np.mean(entropy(probs_gen[realistic]))) if realistic.any() else None
        )
        for c, share in enumerate(metrics.class_histogram(probs_gen)):
            out[f"judge_genre_{c}_share"] = float(share)
        return out

    def figures(self, model, values, evals, history):
        gens = evals["samples"]
        keys = list(QUALITY_KEYS)
        what = (
            "baseline DCGAN"
            if self.config.lambda_style == 0
            else f"CAN ({self.config.style_loss} style loss)"
        )
        what += ", minibatch discrimination" if self.config.minibatch_discrimination else ""
        what += f", g_steps {self.config.g_steps}" if self.config.g_steps != 2 else ""
        figures = {
            "samples.png": image_plots.grid_figure(
                gens[:64],
                8,
                title=f"{what}, iteration {values['iterations']}",
                text=plotting.metrics_text(values, keys),
            )
        }
        rows = outputs.snapshot_rows(
            os.path.join(self.spec.out_dir, "samples"), "iter", max_rows=6, per_row=8
        )
        if rows:
            figures["progression.png"] = image_plots.rows_figure(
                rows, title="the same noise through training (Ahn et al.'s Figures 2-4)"
            )
        if history:
            figures["losses.png"] = plotting.loss_figure(history)
        return figures

    def describe(self):
        spec = self.spec
        what = (
            "baseline DCGAN"
            if spec.baseline
            else f"CAN ({spec.style_loss} style loss, lambda {spec.lambda_style})"
        )
        return (
            f"{what}: {len(spec.genres)} genres, {self.data.num_train} images, batch {spec.batch_size}, "
            f"{spec.iterations} iterations"
        )

    def samples(self, evals):
        return evals["samples"], None
