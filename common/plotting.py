"""Figures. Functions take numpy arrays and return matplotlib Figures built without pyplot (Agg,
no global state, never blocks); `common.files.save_figure` writes them atomically."""

import numpy as np
from matplotlib.figure import Figure

REAL_COLOUR, FAKE_COLOUR, REMOVED_COLOUR = "black", "#3a8a2e", "#d62728"


def style_axes(ax, lim=None):
    """The seaborn 'darkgrid' look of the report's figures, without importing seaborn."""
    ax.set_facecolor("#eaeaf2")
    ax.grid(True, color="white", linewidth=1.0)
    ax.set_axisbelow(True)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if lim is not None:
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")


def class_colours(num_classes):
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if num_classes <= 10 else "hsv"]
    return [cmap(i % 10 if num_classes <= 10 else i / num_classes) for i in range(num_classes)]


def mark_removed(ax, removed_centres):
    if removed_centres is not None and len(removed_centres):
        ax.scatter(
            removed_centres[:, 0],
            removed_centres[:, 1],
            s=90,
            marker="X",
            facecolor="none",
            edgecolor=REMOVED_COLOUR,
            linewidth=1.5,
            label="removed mixture",
            zorder=5,
        )


def toy_scatter(ax, real, fake, removed_centres=None, title=None, lim=2.0):
    """Real points black, generated green, removed centres as red crosses (figure 2.2.4, top)."""
    style_axes(ax, lim)
    ax.scatter(real[:, 0], real[:, 1], s=3, c=REAL_COLOUR, label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=3, c=FAKE_COLOUR, label="generated")
    mark_removed(ax, removed_centres)
    if title:
        ax.set_title(title, fontsize=9)


def scatter_image(real, fake, title=None, lim=2.0, size=3.0, dpi=80):
    """toy_scatter rendered to an (H, W, 3) float array in [0, 1], for TensorBoard."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(size, size), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    toy_scatter(fig.add_axes([0.02, 0.02, 0.96, 0.9]), real, fake, title=title, lim=lim)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].astype(np.float32) / 255.0


def density_image(samples, lim=2.0, bins=160, bandwidth=0.12):
    """Gaussian kernel density of 2-d samples on a bins x bins grid over [-lim, lim]^2."""
    hist, _, _ = np.histogram2d(samples[:, 0], samples[:, 1], bins=bins, range=[[-lim, lim], [-lim, lim]])
    cell = 2.0 * lim / bins
    radius = int(np.ceil(3 * bandwidth / cell))
    offsets = np.arange(-radius, radius + 1) * cell
    kernel = np.exp(-0.5 * (offsets / bandwidth) ** 2)
    kernel /= kernel.sum()
    # Separable convolution: rows, then columns.
    smooth = np.apply_along_axis(lambda r: np.convolve(r, kernel, mode="same"), 0, hist)
    smooth = np.apply_along_axis(lambda r: np.convolve(r, kernel, mode="same"), 1, smooth)
    return smooth.T / max(len(samples), 1) / cell**2  # (y, x) for imshow


def toy_density(ax, samples, lim=2.0):
    """Greyscale KDE of the generated points (figure 2.2.4, bottom)."""
    ax.imshow(density_image(samples, lim), origin="lower", extent=[-lim, lim, -lim, lim], cmap="Greys")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def toy_label_scatter(ax, real, fake, fake_labels, num_classes, removed=(), title=None, lim=2.0):
    """Generated points coloured by their (conditioning) label; removed labels as large stars
    (figure 2.3)."""
    style_axes(ax, lim)
    ax.scatter(real[:, 0], real[:, 1], s=3, c=REAL_COLOUR)
    colours = class_colours(num_classes)
    for c in range(num_classes):
        points = fake[fake_labels == c]
        if c in removed:
            ax.scatter(
                points[:, 0],
                points[:, 1],
                s=30,
                marker="*",
                color=colours[c],
                edgecolor="black",
                linewidth=0.4,
                label=f"label {c} (removed)",
                zorder=4,
            )
        else:
            ax.scatter(points[:, 0], points[:, 1], s=4, color=colours[c], label=f"label {c}")
    if title:
        ax.set_title(title, fontsize=9)


def metrics_text(metrics, keys):
    lines = []
    for key in keys:
        if key in metrics:
            value = metrics[key]
            lines.append(f"{key} = {value:.3f}" if isinstance(value, float) else f"{key} = {value}")
    return "\n".join(lines)


def add_text(ax, text):
    ax.axis("off")
    ax.text(0.0, 1.0, text, va="top", ha="left", family="monospace", fontsize=8, transform=ax.transAxes)


def scatter_density_figure(panels, metric_keys, lim=2.0):
    """Figure 2.2.4: one column per run (scatter on top, density below, numbers at the bottom).

    panels: list of dicts with keys name, real, fake, removed_centres, title, metrics."""
    fig = Figure(figsize=(3.6 * len(panels), 9.2))
    axes = fig.subplots(3, len(panels), squeeze=False, gridspec_kw={"height_ratios": [3, 3, 1.6]})
    for column, panel in enumerate(panels):
        toy_scatter(
            axes[0, column], panel["real"], panel["fake"], panel.get("removed_centres"), panel["title"], lim
        )
        toy_density(axes[1, column], panel["fake"], lim)
        add_text(axes[2, column], metrics_text(panel["metrics"], metric_keys))
        if panel.get("name"):
            axes[0, column].annotate(
                panel["name"],
                (0.5, 1.18),
                xycoords="axes fraction",
                ha="center",
                fontsize=12,
                color="#555555",
                weight="bold",
            )
    axes[0, 0].legend(loc="lower left", fontsize=6)
    fig.tight_layout()
    return fig


def snapshots_figure(snapshots, real, num_classes=None, removed=(), removed_centres=None, lim=2.0, text=None):
    """Samples over training, one panel per snapshot (figure 2.3 when coloured by label), and
    optionally a column of numbers at the right.

    snapshots: list of dicts with step, samples, labels (or None), title."""
    columns = len(snapshots) + (1 if text else 0)
    fig = Figure(figsize=(3.4 * columns, 3.8))
    axes = fig.subplots(1, columns, squeeze=False)[0]
    legend_axes = axes[0]
    if text:
        add_text(axes[-1], text)
        legend_axes = axes[-1]
        axes = axes[:-1]
    for ax, snap in zip(axes, snapshots):
        if snap.get("labels") is not None and num_classes:
            toy_label_scatter(
                ax, real, snap["samples"], snap["labels"], num_classes, removed, snap["title"], lim
            )
        else:
            toy_scatter(ax, real, snap["samples"], removed_centres, snap["title"], lim)
            continue
        mark_removed(ax, removed_centres)
    handles, names = axes[-1].get_legend_handles_labels()
    if handles:
        legend_axes.legend(handles, names, loc="lower left", fontsize=6, ncol=2)
    fig.tight_layout()
    return fig


def loss_figure(history, keys=None):
    """Training losses against the step, one line per key."""
    fig = Figure(figsize=(6, 3.4))
    ax = fig.subplots()
    style_axes(ax)
    steps = [h["step"] for h in history]
    keys = keys or sorted({k for h in history for k in h if k != "step"})
    for key in keys:
        ax.plot(steps, [h.get(key, np.nan) for h in history], label=key, linewidth=1)
    ax.set_xlabel("step")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
