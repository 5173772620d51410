"""Pillow images of any mode brought to 8-bit RGB or grayscale the same way everywhere (the folder
scan, FIGR's shots, the survey's real images). Reads no flags; imports no TensorFlow.

Pillow's own `convert("L")` clips a 16-bit image at 255 (almost everything turns white) and
drops alpha onto black; here 16-bit and 32-bit integer images are scaled by their bit depth, float
images by [0, 1] (or their own range when outside it), and transparency is composited on white.
"""

import numpy as np

HIGH_DEPTH_MODES = ("I", "F")  # and every "I;16..." variant
ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}


def _depth_to_8bit(image):
    """A one-channel 16-bit / 32-bit integer or float image -> mode 'L', scaled, never clipped."""
    from PIL import Image

    values = np.asarray(image, dtype=np.float64)
    if image.mode.startswith("I;16"):
        unit = values / 65535.0
    elif image.mode == "F":
        low, high = float(np.nanmin(values)), float(np.nanmax(values))
        if 0.0 <= low and high <= 1.0:
            unit = values
        else:
            unit = (values - low) / (high - low) if high > low else np.zeros_like(values)
    else:  # "I": 32-bit signed; in practice 16-bit data (a 16-bit PNG) or 8-bit data widened
        high = float(values.max()) if values.size else 0.0
        unit = np.clip(values, 0, None) / (255.0 if high <= 255 else 65535.0 if high <= 65535 else high)
    unit = np.nan_to_num(unit, nan=0.0)
    return Image.fromarray(np.round(np.clip(unit, 0.0, 1.0) * 255.0).astype(np.uint8), "L")


def has_alpha(image):
    return image.mode in ALPHA_MODES or (image.mode == "P" and "transparency" in image.info)


def to_8bit(image, mode="RGB"):
    """`image` (any Pillow mode) as an 8-bit image of `mode` ('RGB' or 'L')."""
    from PIL import Image

    if mode not in ("RGB", "L"):
        raise ValueError(f"mode {mode!r}: 'RGB' or 'L'")
    if image.mode.startswith(HIGH_DEPTH_MODES) and image.mode not in ALPHA_MODES:
        image = _depth_to_8bit(image)
    elif has_alpha(image):
        rgba = image.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat.alpha_composite(rgba)
        image = flat
    if image.mode == mode:
        return image.copy()  # loaded: usable after its file is closed
    if mode == "L" and image.mode != "RGB":
        image = image.convert("RGB")  # CMYK, YCbCr, palette: through RGB, then luminance
    return image.convert(mode)
