"""Few-shot generation from a meta-trained FIGR run (Algorithm 2), for generate.py: shots of a
class of the run's data set, graded by the judge, or the user's own images. Reads no flags."""

import dataclasses

import numpy as np

from common import metrics, outputs, plotting
from common.pipelines import fit_images
from figr.figr_models import FIGRConfig
from figr.figr_run import FIGRExperiment, FIGRRunSpec, few_shot_plot, restore_meta_model

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


def model_config(config):
    """FIGRConfig of a run from its run_config.json (the three data sets are all one-channel)."""
    fields = {f.name for f in dataclasses.fields(FIGRConfig)}
    return FIGRConfig(**{k: v for k, v in config.items() if k in fields}, channels=1)


def generate_from_class(config, run_dir, out_dir_of, target, shots, steps, num_samples, seed):
    """Shots of class `target` (default: the run's first held-out class) drawn with `seed`."""
    held_out = (target,) if target is not None else tuple(config["held_out_classes"])
    spec = FIGRRunSpec(
        out_dir=run_dir,
        dataset=config["dataset"],
        held_out=held_out,
        model=model_config(config),
        shots=shots,
        gen_steps=steps,
        num_samples=num_samples,
        eval_episodes=1,
        seed=seed,
        data_dir=config.get("data_dir"),
        progress=False,
    )
    experiment = FIGRExperiment(spec)
    c = experiment.held_out[0]
    model, step = restore_meta_model(run_dir, experiment.config)
    values, evals = experiment.evaluate(model)
    values = {k[len("shots_") :]: v for k, v in values.items() if k.startswith("shots_")}
    values.update(
        {
            "class": c,
            "meta_iterations": step,
            "adaptation_steps": steps,
            "class_seen_in_meta_training": c not in config["held_out_classes"],
        }
    )
    out_dir = out_dir_of(c)
    n_shots = len(experiment.episodes[0][c])
    title = f"{n_shots} shots of '{experiment.name(c)}' (boxed); generations after {steps} steps below"
    figure = few_shot_plot(
        experiment.fit(experiment.episodes[0][c]),
        evals["generations"][c],
        title,
        plotting.metrics_text(values, SHOT_KEYS),
    )
    paths = outputs.write_run_outputs(
        out_dir,
        evals["generations"][c],
        values,
        {"run_dir": run_dir, "seed": seed},
        labels=np.full(num_samples, c),
        figures={"few_shot.png": figure},
    )
    return {"metrics": values, "paths": paths, "out_dir": out_dir}


def generate_from_images(config, run_dir, out_dir, images, names, steps, num_samples, seed):
    """The user's images (N, H, W) uint8 as the shots."""
    import tensorflow as tf

    model_cfg = model_config(config)
    shots = fit_images(images[..., None], model_cfg.image_size)
    border = np.concatenate([shots[:, 0], shots[:, -1], shots[:, :, 0], shots[:, :, -1]], axis=1)
    inverted = bool(border.mean() > 0.5)
    if inverted:  # dark strokes on light paper -> the training data's bright strokes on black
        shots = 1.0 - shots
    model, step = restore_meta_model(run_dir, model_cfg)
    generate = tf.function(model.few_shot, autograph=False)
    gens = generate(
        tf.constant(shots), tf.constant(steps), num_samples, tf.constant([seed, 100], tf.int64)
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
        out_dir, gens, values, {"run_dir": run_dir, "seed": seed}, figures={"few_shot.png": figure}
    )
    return {"metrics": values, "paths": paths, "out_dir": out_dir}
