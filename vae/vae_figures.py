"""The VAE run's figures (latent codes, decoded manifold, reconstructions, prior samples, few-shot
generations and interpolations; the 2-d sets' scatter), drawn from what VAEExperiment.evaluate
computed. `ex` is the VAEExperiment: its data, spec and encode/decode."""

import numpy as np

from common import image_plots, plotting


def figures(ex, model, values, evals, history):
    spec = ex.spec
    removed_names = ", ".join(f"{c} ({ex.class_names[c]})" for c in spec.removed) or "none"
    what = f"{spec.few_shot}-shot" if spec.few_shot else "removed"
    headline = f"{spec.dataset}, latent {spec.latent_dim}, {spec.arch}; {what}: {removed_names}"
    xy, axis_labels = ex.project(evals["codes"])
    figures = {"losses.png": plotting.loss_figure(history)}
    if spec.toy:
        return toy_figures(ex, figures, values, evals, xy, headline)
    examples = np.stack(
        [ex.as_float(ex.test_x[np.flatnonzero(ex.test_y == c)[:12]]) for c in range(len(ex.class_names))]
    )
    figures["latent.png"] = image_plots.latent_figure(
        xy, ex.test_y, ex.class_names, examples, title=f"test-set codes; {headline}", axis_labels=axis_labels
    )
    judge_text = numbers_text(ex, values)
    plane = "z1, z2" if spec.latent_dim == 2 else "principal plane of the codes"
    hit = evals.get("grid_removed") if spec.removed else None
    figures["manifold.png"] = image_plots.grid_figure(
        evals["grid"],
        spec.grid_size,
        title=f"decoded manifold ({plane}); red: judged {removed_names}"
        if spec.removed
        else f"decoded manifold ({plane})",
        text=f"{headline}\n\n{judge_text}",
        highlight=hit,
        size=9.0,
    )
    order = np.argsort(ex.test_y, kind="stable")
    picks = order[np.linspace(0, len(order) - 1, 16).astype(int)]
    recon = ex.decode(model, ex.encode(model, ex.test_x[picks]))
    figures["reconstructions.png"] = image_plots.rows_figure(
        [("test", ex.as_float(ex.test_x[picks])), ("reconstructed", recon)], title=headline
    )
    figures["prior_samples.png"] = image_plots.grid_figure(
        evals["prior"][:100], 10, title=f"prior samples; {headline}", text=judge_text
    )
    if len(ex.shots):
        figures["few_shot.png"] = image_plots.few_shot_figure(
            ex.as_float(ex.shots),
            evals["near_shots"][:, :4],
            text=f"{headline}\n\n{few_shot_text(ex, values)}",
        )
        figures["interpolation.png"] = image_plots.rows_figure(
            interpolations(ex, model, evals), title=headline
        )
    return figures


def interpolations(ex, model, evals, steps=10):
    """Rows decoded along straight lines between consecutive shots' codes (with one shot: from
    the shot to the mean code of the nearest present class)."""
    codes = evals["shot_codes"]
    if len(codes) >= 2:
        pairs = [
            (codes[i], codes[(i + 1) % len(codes)], f"shot {i + 1} -> {(i + 1) % len(codes) + 1}")
            for i in range(len(codes) if len(codes) > 2 else 1)
        ]
    else:
        means = {
            c: evals["codes"][ex.test_y == c].mean(axis=0)
            for c in range(len(ex.class_names))
            if c not in ex.spec.removed
        }
        c = min(means, key=lambda k: np.linalg.norm(means[k] - codes[0]))
        pairs = [(codes[0], means[c], f"shot -> mean {ex.class_names[c]}")]
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return [(label, ex.decode(model, (1 - t) * a + t * b)) for a, b, label in pairs]


def numbers_text(ex, values):
    keys = [
        "test_neg_elbo",
        "test_neg_elbo_removed",
        "test_neg_elbo_present",
        "prior_removed_class_hits",
        "grid_removed_class_hits",
        "prior_classifier_score",
        "prior_frechet_judge_distance",
        "prior_precision",
        "prior_recall",
        "prior_nn_distance",
        "prior_nn_distance_heldout_real",
        "judge_test_accuracy",
    ]
    text = plotting.metrics_text(values, keys)
    shares = [(values.get(f"grid_class_{c}_share"), c) for c in range(len(ex.class_names))]
    if shares[0][0] is not None:
        text += "\n\njudge on the manifold grid:\n" + "\n".join(
            f"  {c} {ex.class_names[c][:11]:<11} {share:.3f}"
            + ("  (removed)" if c in ex.spec.removed else "")
            for share, c in shares
        )
    return text


def few_shot_text(ex, values):
    return plotting.metrics_text(
        values,
        [
            "shots_judge_accuracy",
            "shots_nn_distance",
            "shots_real_nn_distance_mean",
            "shots_real_nn_distance_min",
            "shots_copy_fraction",
            "shots_diversity",
            "shots_real_diversity",
            "test_neg_elbo_removed",
        ],
    )


def toy_figures(ex, figures, values, evals, xy, headline):
    removed_centres = ex.toy_spec.centres[list(ex.spec.removed)] if ex.spec.removed else None
    figures["latent.png"] = image_plots.latent_figure(
        xy, ex.test_y, ex.class_names, title=f"test codes; {headline}"
    )
    panel = {
        "name": headline,
        "real": ex.test_x[:600],
        "fake": evals["prior"],
        "title": "prior samples",
        "removed_centres": removed_centres,
        "metrics": {k[len("prior_") :]: v for k, v in values.items() if k.startswith("prior_")},
    }
    figures["samples.png"] = plotting.scatter_density_figure(
        [panel], ["modes_captured", "hq_fraction", "missing_mode_hits", "mode_kl"]
    )
    return figures
