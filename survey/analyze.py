"""Analyses a study's answers: per source the mean of each scale (Q1-Q5) and the rate of "made by
a designer" (Q6) with 95 % intervals that account for participants and images (a crossed
bootstrap), the real images' rate as reference, answer distributions, and Krippendorff's alpha
(ordinal) per question, excluding participants the quality checks flag (counted by reason).
Below --min_participants kept participants it gives no intervals and says so.

    python analyze.py --study study/

Writes <study>/results.json, <study>/results.md and <study>/results.png.
"""

import os

from absl import flags

from common import files
from common import flags as common_flags

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("study", None, "The study directory (made by make_study.py, answered via serve.py).")
    flags.DEFINE_integer("resamples", 2000, "Bootstrap resamples.")
    flags.DEFINE_integer("seed", 0, "Seed of the bootstrap.")
    flags.DEFINE_integer("min_participants", 10, "Kept participants needed before intervals are given.")
    flags.DEFINE_string(
        "note", None, "A line for the figure and results.md (e.g. that the answers are simulated)."
    )


def main(argv):
    del argv
    common_flags.require(FLAGS.study, "--study: give the study directory")
    common_flags.check_positive("resamples", FLAGS.resamples)
    common_flags.check_positive("min_participants", FLAGS.min_participants)
    from survey import study, survey_app, survey_stats

    manifest = study.load_manifest(FLAGS.study)
    db = os.path.join(FLAGS.study, "answers.sqlite")
    common_flags.require(os.path.exists(db), f"--study {FLAGS.study} has no answers yet (serve it first)")
    participants, answers = survey_app.Store(db).rows()
    results = survey_stats.analyze(
        manifest,
        participants,
        answers,
        seed=FLAGS.seed,
        resamples=FLAGS.resamples,
        min_participants=FLAGS.min_participants,
    )
    if FLAGS.note:
        results["note"] = FLAGS.note
    files.write_json(os.path.join(FLAGS.study, "results.json"), results)
    text = survey_stats.markdown(results)
    files.write_bytes(os.path.join(FLAGS.study, "results.md"), text.encode())
    survey_stats.figure(results, os.path.join(FLAGS.study, "results.png"))
    print(text)
    print(f"wrote results.json, results.md, results.png in {os.path.abspath(FLAGS.study)}")


if __name__ == "__main__":
    define_flags()
    common_flags.run(main)
