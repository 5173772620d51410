"""A small WikiArt-style folder the tests write: genre directories named as in the WikiArt dump,
each with images of its own colour, plus the odd files a real dump holds (grayscale, CMYK, alpha,
palette, truncated, not an image)."""

import os

import numpy as np

GENRE_DIRS = {"cubism": "Cubism", "early renaissance": "Early_Renaissance", "pop art": "pop-art"}
COLOURS = {"cubism": (200, 40, 40), "early renaissance": (40, 200, 40), "pop art": (40, 40, 200)}


def write_art_folder(root, per_genre=12, odd=True, seed=0):
    """Returns the number of odd files of each kind written."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for genre, folder in GENRE_DIRS.items():
        path = os.path.join(root, folder)
        os.makedirs(path, exist_ok=True)
        for i in range(per_genre):
            pixels = np.clip(np.array(COLOURS[genre]) + rng.normal(0, 25, (40, 30 + i, 3)), 0, 255).astype(
                np.uint8
            )
            Image.fromarray(pixels).save(os.path.join(path, f"painting_{i}.jpg"), quality=90)
    os.makedirs(os.path.join(root, "New_Realism"), exist_ok=True)  # must not be taken for 'realism'
    if not odd:
        return {}
    cubism = os.path.join(root, "Cubism")
    Image.fromarray(rng.integers(0, 255, (20, 20), dtype=np.uint8)).save(os.path.join(cubism, "gray.png"))
    Image.new("CMYK", (24, 24), (10, 200, 30, 5)).save(os.path.join(cubism, "cmyk.jpg"))
    Image.new("RGBA", (24, 24), (200, 40, 40, 128)).save(os.path.join(cubism, "alpha.png"))
    Image.new("P", (24, 24), 3).save(os.path.join(cubism, "palette.gif"))
    with open(os.path.join(cubism, "painting_0.jpg"), "rb") as f:
        whole = f.read()
    with open(os.path.join(cubism, "truncated.jpg"), "wb") as f:
        f.write(whole[: len(whole) // 3])
    with open(os.path.join(cubism, "notes.txt"), "w") as f:
        f.write("not an image")
    return {
        "stream_grayscale": 1,
        "convert_cmyk": 1,
        "convert_alpha": 1,
        "convert_palette": 1,
        "skip_corrupt": 1,
        "skip_not_image": 1,
    }
