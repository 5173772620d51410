"""Few-shot generation from a meta-trained FIGR run (Algorithm 2), for generate.py: shots of a
class of the run's data set, graded by the judge, or the user's own images. Reads no flags."""

import dataclasses

import numpy as np

from common import metrics, outputs, plotting
from common import spec as spec_lib
from common.pipelines import fit_images
from figr.figr_run import FIGRExperiment, few_shot_plot, restore_meta_model

SHOT_KEYS = [
    "judge_accuracy",
    "diversity",
    "real_diversity",
    "shots_diversity",
    "nn_distance",
    "real_nn_distance_min",
    "real_nn_distance_mean",
    "copy_fraction",
    "frechet_judge_distance",
]


def generate_from_class(spec, trained):
    """Shots of class spec.target (default: the run's first held-out class) drawn with spec.seed,
    from the run of `trained` (its FIGRRunSpec)."""
    held_out = (spec.target,) if spec.target is not None else trained.held_out
    steps = trained.inner_steps if spec.steps is None else spec.steps
    graded = trained.replace(
        held_out=held_out,
        shots=spec.shots or trained.shots,
        gen_steps=steps,
        num_samples=spec.num_samples,
        eval_episodes=1,
        seed=spec.seed,
        progress=False,
    )
    experiment = FIGRExperiment(graded)
    c = experiment.held_out[0]
    model, step = restore_meta_model(trained.out_dir, experiment.config)
    values, evals = experiment.evaluate(model)
    values = {k[len("shots_") :]: v for k, v in values.items() if k.startswith("shots_")}
    values.update(
        {
            "class": c,
            "meta_iterations": step,
            "adaptation_steps": steps,
            "class_seen_in_meta_training": c not in trained.held_out,
        }
    )
    n_shots = len(experiment.episodes[0][c])
    title = f"{n_shots} shots of '{experiment.name(c)}' (boxed); generations after {steps} steps below"
    figure = few_shot_plot(
        experiment.fit(experiment.episodes[0][c]),
        evals["generations"][c],
        title,
        plotting.metrics_text(values, SHOT_KEYS),
    )
    paths = outputs.write_run_outputs(
        spec.out_dir,
        evals["generations"][c],
        values,
        spec_lib.record(spec),
        labels=np.full(spec.num_samples, c),
        figures={"few_shot.png": figure},
    )
    return values, paths


def generate_from_images(spec, trained, images, names):
    """The user's images (N, H, W) uint8 as the shots."""
    import tensorflow as tf

    model_cfg = dataclasses.replace(trained.model, channels=1)  # the three data sets are one-channel
    steps = trained.inner_steps if spec.steps is None else spec.steps
    shots = fit_images(images[..., None], model_cfg.image_size)
    border = np.concatenate([shots[:, 0], shots[:, -1], shots[:, :, 0], shots[:, :, -1]], axis=1)
    inverted = bool(border.mean() > 0.5)
    if inverted:  # dark strokes on light paper -> the training data's bright strokes on black
        shots = 1.0 - shots
    model, step = restore_meta_model(trained.out_dir, model_cfg)
    generate = tf.function(model.few_shot, autograph=False)
    gens = generate(
        tf.constant(shots), tf.constant(steps), spec.num_samples, tf.constant([spec.seed, 100], tf.int64)
    ).numpy()
    _, to_shot = metrics.nearest_neighbours(gens, shots)
    values = {
        "num_shots": len(shots),
        "shot_files": names,
        "inverted": inverted,
        "meta_iterations": step,
        "adaptation_steps": steps,
        "diversity": metrics.mean_pairwise_distance(gens),
        "shots_diversity": metrics.mean_pairwise_distance(shots),
        "nn_distance": float(np.mean(to_shot)),
    }
    boxed = "boxed, inverted" if inverted else "boxed"
    title = f"your {len(shots)} shot(s) ({boxed}); generations after {steps} steps below"
    figure = few_shot_plot(shots, gens, title, plotting.metrics_text(values, SHOT_KEYS))
    paths = outputs.write_run_outputs(
        spec.out_dir, gens, values, spec_lib.record(spec), figures={"few_shot.png": figure}
    )
    return values, paths
