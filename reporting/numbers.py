"""How a number is written on the page and in the benchmark tables."""


def fmt(value, digits=3):
    """A table cell: floats to `digits` places, None as a dash."""
    return "—" if value is None else (f"{value:.{digits}f}" if isinstance(value, float) else str(value))


def spread(values, digits=3):
    """A finding over seeds: 'mean ± sample std (n=...)', or the value marked as one seed."""
    import numpy as np

    values = [float(v) for v in values if v is not None]
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.{digits}f} (1 seed)"
    return f"{np.mean(values):.{digits}f} ± {np.std(values, ddof=1):.{digits}f} (n={len(values)})"
