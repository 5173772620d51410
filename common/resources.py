"""Refusing, in one line and before anything is built, what cannot fit in this machine's memory.

The estimates are rough (float32 weights with their gradient and two Adam slots, the largest
activations of a step, arrays a run keeps for its figures), but a run that needs ten times the
memory there is should be told so at once rather than be killed by the kernel an hour later.
"""

from common.classes import UsageError

FLOAT = 4  # bytes


def available_bytes():
    """MemAvailable of /proc/meminfo (what can be used without swapping), or None elsewhere."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def human(size):
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024


def require_fits(needed_bytes, what, available=None):
    """UsageError when `what` needs more than the memory available now."""
    available = available_bytes() if available is None else available
    if available is not None and needed_bytes > available:
        raise UsageError(
            f"{what} needs about {human(needed_bytes)} of memory, but this machine has "
            f"{human(available)} available; use smaller values"
        )


def training_bytes(parameters, activations):
    """A model's weights + gradients + two Adam slots, and one step's activations kept for the
    backward pass (each float32)."""
    return FLOAT * (4 * parameters + 2 * activations)


def mlp_parameters(inputs, width, layers, outputs):
    """Dense layers: inputs -> width x layers -> outputs."""
    return inputs * width + max(layers - 1, 0) * width * width + width * outputs + width * layers + outputs
