"""FIGR few-shot generation (Algorithm 2) from a meta-trained run: adapt the meta-weights for
--steps inner steps to a few shots, then generate.

    python generate.py --run_dir Runs/<run>                      # shots of the run's held-out class
    python generate.py --run_dir Runs/<run> --class 8 --shots 4  # shots of another class
    python generate.py --run_dir Runs/<run> --shots_dir my_9s/   # your own images (png, jpg, ...)

Your images are turned into one channel, resized to the run's image size and, when their border
is light (dark strokes on white paper), inverted to the training data's bright-on-dark. Writes
few_shot.png (the shots boxed, generations below), samples.npz and metrics.json (diversity of
the generations, their distance to the shots; with --class, the judge's accuracy too) in
--out_dir (default: <run_dir>/generate/<what>).
"""

import os

from common import flags as common_flags
from common import outputs, rundir, tf_env
from common import spec as spec_lib
from common.classes import UsageError
from figr.spec import GenerateSpec

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm")


MAX_SHOT_PIXELS = 4096 * 4096  # far above any shot; refuses decompression bombs before decoding


def read_images(folder):
    """The folder's images as a uint8 array (N, H, W) of one channel, each resized to the first
    one's size; a clear UsageError for an empty folder or an unreadable file."""
    from PIL import Image, UnidentifiedImageError

    from common.image_files import to_8bit

    names = sorted(f for f in os.listdir(folder) if f.lower().endswith(IMAGE_SUFFIXES))
    if not names:
        raise UsageError(f"--shots_dir {folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    images = []
    for name in names:
        try:
            with Image.open(os.path.join(folder, name)) as image:  # reads the header only
                if image.size[0] * image.size[1] > MAX_SHOT_PIXELS:
                    raise UsageError(
                        f"--shots_dir: {name} is {image.size[0]}x{image.size[1]} pixels; shots are "
                        f"small drawings (at most {MAX_SHOT_PIXELS:,} pixels): resize it first"
                    )
                image = to_8bit(image, "L")  # 16-bit scaled, transparency on white
                images.append(image if not images else image.resize(images[0].size))
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as error:
            raise UsageError(f"--shots_dir: cannot read {name} as an image ({str(error)[:100]})") from None
    import numpy as np

    return np.stack([np.asarray(i, np.uint8) for i in images]), names


def main(argv):
    spec = spec_lib.from_flags(GenerateSpec)
    trained = spec.trained()
    user_images = read_images(spec.shots_dir) if spec.shots_dir else None  # before TensorFlow: fail fast
    tf_env.quiet_grappler(tf_env.import_tensorflow())
    from figr.few_shot import generate_from_class, generate_from_images

    spec = spec.replace(out_dir=spec.resolved_out_dir)
    with rundir.claim(spec.out_dir, spec):  # its own folder: never another program's run
        if user_images is not None:
            values, paths = generate_from_images(spec, trained, *user_images)
        else:
            values, paths = generate_from_class(spec, trained)
    outputs.report_run(
        values,
        paths,
        spec.out_dir,
        notebook=spec.notebook,
        keys=(
            "judge_accuracy",
            "diversity",
            "shots_diversity",
            "real_diversity",
            "nn_distance",
            "real_nn_distance_min",
            "copy_fraction",
            "class_seen_in_meta_training",
        ),
    )


if __name__ == "__main__":
    spec_lib.define_flags(GenerateSpec)
    common_flags.run(main)
