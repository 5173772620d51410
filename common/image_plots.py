"""Figures of image experiments: grids of images, latent scatter plots, boxed few-shot grids.
Images are float arrays in [0, 1], shape (N, H, W, C). Like common.plotting, figures are built
without pyplot (no global state, never shown; outputs.show_in_notebook displays saved files)."""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from common.plotting import add_text, class_colours


def tile(images, ncol, pad=2, value=1.0):
    """(N, H, W, C) -> one (rows*(H+pad)-pad, ncol*(W+pad)-pad, C) mosaic, row-major."""
    images = np.clip(np.asarray(images, np.float32), 0.0, 1.0)
    n, h, w, c = images.shape
    nrow = -(-n // ncol)
    canvas = np.full((nrow * (h + pad) - pad, ncol * (w + pad) - pad, c), value, np.float32)
    for i, image in enumerate(images):
        r, col = divmod(i, ncol)
        canvas[r * (h + pad) : r * (h + pad) + h, col * (w + pad) : col * (w + pad) + w] = image
    return canvas


def show_image(ax, image, title=None):
    image = np.asarray(image)
    if image.shape[-1] == 1:
        ax.imshow(image[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(image, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def box_cells(ax, mask, ncol, h, w, pad=2, colour="red"):
    """Red frames around the grid cells where mask (row-major, one per image) is true."""
    for i in np.flatnonzero(np.asarray(mask)):
        r, col = divmod(int(i), ncol)
        ax.add_patch(
            Rectangle(
                (col * (w + pad) - 1, r * (h + pad) - 1),
                w + 1,
                h + 1,
                fill=False,
                edgecolor=colour,
                linewidth=1.2,
            )
        )


def grid_figure(images, ncol, title=None, text=None, highlight=None, size=6.0):
    """One mosaic; `highlight` boxes some cells (e.g. judged as the removed class); `text` is
    printed beside it (the run's numbers)."""
    images = np.asarray(images)
    width = size + (3.2 if text else 0.0)
    fig = Figure(figsize=(width, size))
    ax = fig.add_axes([0.02, 0.02, size / width - 0.03, 0.92])
    show_image(ax, tile(images, ncol), title)
    if highlight is not None:
        box_cells(ax, highlight, ncol, images.shape[1], images.shape[2])
    if text:
        add_text(fig.add_axes([size / width, 0.02, 1 - size / width - 0.01, 0.92]), text)
    return fig


def rows_figure(rows, title=None, text=None):
    """Labelled rows of images: rows = [(label, images), ...], every row as long as the first."""
    ncol = max(len(images) for _, images in rows)
    fig = Figure(figsize=(min(1.0 * ncol, 16) + (3 if text else 0), 1.15 * len(rows) + 0.6))
    axes = fig.subplots(len(rows), 1, squeeze=False)
    for ax, (label, images) in zip(axes[:, 0], rows):
        show_image(ax, tile(images, ncol))
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    if text:
        fig.subplots_adjust(right=0.75)
        add_text(fig.add_axes([0.77, 0.05, 0.22, 0.9]), text)
    return fig


def few_shot_figure(shots, generations, title=None, text=None):
    """The report's 2.6.my9 layout: the shots in a red box on top, generations below
    (generations: (k, m, H, W, C), m images decoded near shot i in column i)."""
    shots = np.asarray(shots)
    generations = np.asarray(generations)
    k, m = generations.shape[:2]
    fig = Figure(figsize=(1.3 * max(k, 4) + (3.2 if text else 0), 1.3 * (m + 1) + 0.8))
    right = 0.72 if text else 0.98
    top = fig.add_axes([0.02, 1 - 1.0 / (m + 1.6), right - 0.02, 0.9 / (m + 1.6)])
    show_image(top, tile(shots, k, pad=4))
    for spine in top.spines.values():
        spine.set_edgecolor("red")
        spine.set_linewidth(2.5)
    top.set_title(title or f"{k} shot(s) (boxed); generations decoded near each shot below", fontsize=9)
    below = fig.add_axes([0.02, 0.02, right - 0.02, 1 - 1.25 / (m + 1.6)])
    # column i holds shot i's generations
    show_image(below, tile(np.transpose(generations, (1, 0, 2, 3, 4)).reshape(-1, *generations.shape[2:]), k))
    if text:
        add_text(fig.add_axes([0.74, 0.05, 0.25, 0.9]), text)
    return fig


def latent_figure(
    codes, labels, class_names, examples=None, title=None, max_points=5000, axis_labels=("z1", "z2")
):
    """Latent codes (N, 2) coloured by label (report figure 2.5), and beside it a table of
    example images per class when `examples` (K, n, H, W, C) is given."""
    codes, labels = np.asarray(codes), np.asarray(labels)
    k = len(class_names)
    fig = Figure(figsize=(13 if examples is not None else 7, 6))
    ax = fig.add_axes([0.06, 0.08, 0.42 if examples is not None else 0.88, 0.84])
    colours = class_colours(k)
    for c in range(k):
        mine = np.flatnonzero(labels == c)[: max_points // k]
        ax.scatter(
            codes[mine, 0], codes[mine, 1], s=6, alpha=0.45, color=colours[c], label=f"{c} {class_names[c]}"
        )
    ax.legend(markerscale=3, fontsize=8, loc="best", framealpha=0.8)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    if title:
        ax.set_title(title, fontsize=10)
    if examples is not None:
        examples = np.asarray(examples)
        table = fig.add_axes([0.52, 0.04, 0.46, 0.92])
        show_image(table, tile(examples.reshape(-1, *examples.shape[2:]), examples.shape[1]))
        table.set_yticks((np.arange(k) + 0.5) * (examples.shape[2] + 2))
        table.set_yticklabels([f"{c} {class_names[c]}" for c in range(k)], fontsize=8)
    return fig
