"""Builds a human-evaluation study (the poster's survey, Q1-Q6) from our image runs.

    python make_study.py --runs RUN_A,RUN_B --labels CAN,baseline --per_run 40 --real 40 --out study/

Takes --per_run generated images from each run's samples.npz (VAE, InfoGAN family, FIGR, CAN)
and --real held-out real images of the data set the runs trained on (balanced over its classes;
or images from --real_dir), plus four labelled tutorial images and one repeated image (the
attention check), seeded. Writes <out>/images/<random id>.png (upscaled for viewing) and
<out>/manifest.json, which maps each id to its source; the source never reaches a participant.
Then: python serve.py --study <out>, and python analyze.py --study <out>.
"""

import os

from absl import flags

from common import flags as common_flags

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_list("runs", None, "Run directories (comma-separated) whose samples.npz the study shows.")
    flags.DEFINE_list("labels", None, "Names of the runs in the results (default: the directories' names).")
    flags.DEFINE_integer("per_run", 40, "Generated images per run.")
    flags.DEFINE_integer("real", 40, "Real images (held-out split of the runs' data set).")
    flags.DEFINE_string("real_dir", None, "A folder of real images to use instead (e.g. WikiArt's held-out).")
    flags.DEFINE_string("out", None, "The new study directory.")
    flags.DEFINE_integer(
        "seed", 0, "Seed of the image selection (the same seed and runs give the same study)."
    )


def main(argv):
    del argv
    common_flags.require(FLAGS.runs, "--runs: give at least one run directory")
    common_flags.require(FLAGS.out, "--out: give the new study directory")
    labels = FLAGS.labels or [None] * len(FLAGS.runs)
    common_flags.require(len(labels) == len(FLAGS.runs), "--labels: one label per run")
    from survey import study

    runs = [study.read_run(run_dir, label) for run_dir, label in zip(FLAGS.runs, labels)]
    manifest = study.build(runs, FLAGS.out, FLAGS.per_run, FLAGS.real, FLAGS.seed, real_dir=FLAGS.real_dir)
    print(
        f"study: {len(manifest['images'])} images ({', '.join(manifest['sources'])}) + 4 tutorial images in "
        f"{os.path.abspath(FLAGS.out)}; real images from {manifest['real_source']}\n"
        f"serve it: python serve.py --study {FLAGS.out}"
    )


if __name__ == "__main__":
    define_flags()
    common_flags.run(main)
