"""The InfoGAN family's figures: the code grid (report 2.4, left), the continuous-code sweep
(2.4, right), CGAN/ACGAN's rows per label, the 2-d scatter, and the numbers beside them. `ex` is
the GANExperiment: its data, spec, variant and sampling helpers."""

import numpy as np
import tensorflow as tf

from common import image_plots, plotting


def figures(ex, model, samples, codes, values, history):
    """The run's figures by file name."""
    removed = ", ".join(f"{c} ({ex.class_names[c]})" for c in ex.spec.removed) or "none"
    headline = f"{ex.spec.gan_type}, {ex.spec.dataset}, removed: {removed}"
    figures = {"losses.png": plotting.loss_figure(history)}
    if ex.toy:
        figures["code_scatter.png"] = toy_figure(ex, samples, codes, values, headline)
    else:
        what = "categorical code" if ex.variant.coded else "label"
        title = f"{headline}; one column per {what}" if ex.variant.conditioned else f"{headline}; samples"
        figures["code_grid.png"] = image_plots.grid_figure(
            ex.code_grid(model), ex.num_codes, size=7.0, text=summary_text(ex, values), title=title
        )
        if ex.variant.coded:
            figures["continuous_sweep.png"] = sweep_figure(ex, model, values, headline)
        elif ex.variant.labelled:
            figures["label_rows.png"] = label_rows_figure(ex, model, values, headline)
    return figures


def summary_text(ex, values):
    lines = [
        plotting.metrics_text(
            values,
            [
                "code_purity_mean",
                "classes_covered",
                "classes_generated",
                "removed_class_hits",
                "classifier_score",
                "frechet_judge_distance",
                "precision",
                "recall",
                "nn_distance",
                "nn_distance_heldout_real",
                "judge_test_accuracy",
                "modes_captured",
                "hq_fraction",
                "missing_mode_hits",
            ],
        )
    ]
    if "code_0_purity" in values:
        lines += [
            "",
            "code: majority class (purity)" if ex.variant.coded else "label: majority class (purity)",
        ]
        lines += [
            f"  {c}: {ex.class_name(values[f'code_{c}_majority_class'])[:11]:<11} "
            f"({values[f'code_{c}_purity']:.2f})" + (" removed" if ex.is_removed_label(c) else "")
            for c in range(ex.num_codes)
        ]
    return "\n".join(lines)


def toy_figure(ex, samples, codes, values, headline):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.5, 6))
    ax = fig.add_axes([0.05, 0.08, 0.6, 0.84])
    removed = ex.toy_spec.centres[list(ex.spec.removed)] if ex.spec.removed else None
    if codes is None:
        plotting.toy_scatter(ax, ex.train_x[:600], samples, removed, title=headline)
    else:
        # infoGAN's codes are not labels: no code is "removed"
        removed_codes = () if ex.variant.coded else ex.spec.removed
        plotting.toy_label_scatter(
            ax,
            ex.train_x[:600],
            samples,
            codes,
            ex.num_codes,
            removed_codes,
            title=f"{headline}; colour = {'code' if ex.variant.coded else 'label'}",
        )
        plotting.mark_removed(ax, removed)
    plotting.add_text(fig.add_axes([0.68, 0.08, 0.31, 0.84]), summary_text(ex, values))
    return fig


def sweep_figure(ex, model, values, headline, rows=5):
    """Report 2.4, right: for the categorical code the judge finds purest, each continuous
    code swept from -2 to 2 (columns) with the other at 0; one noise vector per row."""
    from matplotlib.figure import Figure

    code = int(np.argmax([values.get(f"code_{c}_purity", 0.0) for c in range(ex.num_codes)]))
    judged = (
        ex.class_name(values[f"code_{code}_majority_class"])
        if f"code_{code}_majority_class" in values
        else "?"
    )
    cont_dim = ex.config.cont_dim
    fig = Figure(figsize=(6.2 * cont_dim, 3.6 + 0.2 * rows))
    for dim in range(cont_dim):
        ax = fig.add_subplot(1, cont_dim, dim + 1)
        image_plots.show_image(
            ax,
            image_plots.tile(ex.continuous_sweep(model, code, dim, rows=rows), 10),
            f"continuous code c{dim + 1} from -2 (left) to 2 (right)",
        )
    fig.suptitle(
        f"{headline}\ncategorical code {code} (judged {judged}, purity "
        f"{values.get(f'code_{code}_purity', float('nan')):.2f}); the other continuous code at 0",
        fontsize=10,
    )
    return fig


def label_rows_figure(ex, model, values, headline, per_row=10):
    """CGAN/ACGAN: one row per conditioning label, the removed ones included and marked, with
    the judge's verdict on that label's samples."""
    seed = tf.constant([ex.spec.seed, 3000], tf.int64)
    rows = []
    for c, name in enumerate(ex.class_names):
        images = model.generate(per_row, seed, labels=tf.fill((per_row,), c))[0].numpy()
        tag = " REMOVED" if c in ex.spec.removed else ""
        judged = (
            ex.class_name(values[f"code_{c}_majority_class"]) if f"code_{c}_majority_class" in values else "?"
        )
        acc = values.get(f"label_{c}_accuracy", float("nan"))
        label = str(c) if name == str(c) else f"{c} {name[:10]}"
        rows.append((f"{label}{tag}\njudged {judged[:10]}\nacc {acc:.2f}", images))
    return image_plots.rows_figure(rows, title=f"{headline}; one row per label (acc = judged as that label)")
