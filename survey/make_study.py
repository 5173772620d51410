"""Builds a human-evaluation study (the poster's survey, Q1-Q6) from our image runs.

    python make_study.py --runs RUN_A,RUN_B --labels CAN,baseline --per_run 40 --real 40 --out study/

Takes --per_run generated images from each run's samples.npz (VAE, InfoGAN family, FIGR, CAN,
diffusion) and --real held-out real images of the data set the runs trained on (read as the runs
read it: their --data_dir; balanced over its classes; or images from --real_dir), plus four
labelled tutorial images, a few repeated images and an instructed-response item (quality
checks), seeded. Every source is put into one format (the real images' channels, one size, PNG
files of one length); a classifier on low-level statistics then tries to tell each generated
source from the real images, and the study is refused when it can (AUC >= --tell_threshold)
unless --accept_tells. Writes <out>/images/<random id>.png and <out>/manifest.json, which maps
each id to its source; the source never reaches a participant.
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
    flags.DEFINE_string("questions", None, "A JSON file of the questions (default: the poster's Q1-Q6).")
    flags.DEFINE_string("consent", None, "A text file of the consent page (default: a short neutral one).")
    flags.DEFINE_integer("repeats", 2, "Study images shown a second time (the consistency check), 1-5.")
    flags.DEFINE_float("tell_threshold", 0.75, "AUC at which a low-level statistic counts as a tell.")
    flags.DEFINE_bool(
        "accept_tells",
        False,
        "Build the study although the tell check finds tells (recorded in the manifest).",
    )


def main(argv):
    del argv
    common_flags.require(FLAGS.runs, "--runs: give at least one run directory")
    common_flags.require(FLAGS.out, "--out: give the new study directory")
    labels = FLAGS.labels or [None] * len(FLAGS.runs)
    common_flags.require(len(labels) == len(FLAGS.runs), "--labels: one label per run")
    common_flags.check_range("tell_threshold", FLAGS.tell_threshold, 0.5, 1.0, high_open=False)
    from survey import questions, study

    spec = questions.load(FLAGS.questions)
    consent = questions.load_consent(FLAGS.consent)
    runs = [study.read_run(run_dir, label) for run_dir, label in zip(FLAGS.runs, labels)]
    manifest = study.build(
        runs,
        FLAGS.out,
        FLAGS.per_run,
        FLAGS.real,
        FLAGS.seed,
        real_dir=FLAGS.real_dir,
        questions=spec,
        consent=consent,
        repeats=FLAGS.repeats,
        accept_tells=FLAGS.accept_tells,
        tell_threshold=FLAGS.tell_threshold,
    )
    worst = max((e.get("max_auc", 0.5) for e in manifest["tells"]["sources"].values()), default=0.5)
    print(
        f"study: {len(manifest['images'])} images ({', '.join(manifest['sources'])}) + 4 tutorial images in "
        f"{os.path.abspath(FLAGS.out)}; real images from {manifest['real_source']}; tell check: "
        + (f"TELLS ACCEPTED ({'; '.join(manifest['tells']['tells'])})" if manifest["tells"]["tells"] else
           f"no statistic tells real from generated (largest AUC {worst:.2f})")
        + f"\nserve it: python serve.py --study {FLAGS.out}"
    )  # fmt: skip


if __name__ == "__main__":
    define_flags()
    common_flags.run(main)
