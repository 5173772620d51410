"""DesIGN-style GAN on 2-d toy data with mixtures removed (report section 2.2).

python STYLEGAN.py --missing_mixt 1                  # plain GAN, mixture 1 never shown
python STYLEGAN.py --label --missing_mixt 1          # + classification and creativity losses
python STYLEGAN.py --compare --missing_mixt 1        # normal and style GANs side by side (2.2.4)
"""

import dataclasses
import os

from absl import flags

from common import flags as common_flags
from common import tf_env
from toy2d import toy_cli  # next to this script

FLAGS = flags.FLAGS


def define_flags():
    common_flags.define_run_flags(default_batch_size=400)
    toy_cli.define_toy_flags(default_niters=3001)
    flags.DEFINE_integer("nhidden", 64, "Width of every hidden layer of G and D.")
    flags.DEFINE_integer("nlayers", 4, "Hidden layers of G and D.")
    flags.DEFINE_float("lrg", 3e-3, "Adam learning rate of the generator.")
    flags.DEFINE_float(
        "lrd",
        3e-3,
        "Adam learning rate of the discriminator (the original default 9e-3 drops modes; see README).",
    )
    flags.DEFINE_boolean(
        "label",
        False,
        "Use the labels: D gets a K-way class head trained on real data "
        "(lambda_d) and G the creativity loss, cross-entropy to uniform (lambda_g). "
        "Without it: a plain GAN.",
    )
    flags.DEFINE_float("lambda_d", 0.5, "Weight of D's classification loss (with --label).")
    flags.DEFINE_float("lambda_g", 0.5, "Weight of G's creativity loss (with --label).")
    flags.DEFINE_boolean(
        "minibatch_discriminate",
        False,
        "Minibatch discrimination layer in D (Salimans 2016); slow at large batches (it compares all pairs).",
    )
    flags.DEFINE_enum(
        "loss",
        "gan",
        ["gan", "wgan-gp"],
        "gan: non-saturating GAN loss; wgan-gp: WGAN with gradient penalty 10.",
    )
    flags.DEFINE_integer("d_steps", 1, "Discriminator updates per generator update (5 is usual for wgan-gp).")
    flags.DEFINE_enum(
        "creativity_loss",
        "uniform",
        ["uniform", "report"],
        "With --label: uniform = DesIGN's "
        "cross-entropy to the uniform distribution over classes; report = what the report's code did "
        "(G pushed to one fixed random class per batch position, D's class head also trained on fakes "
        "with random labels), to reproduce its figure 2.2.4.",
    )
    flags.DEFINE_boolean(
        "compare",
        False,
        "Train a normal GAN and the style GAN with each creativity loss "
        "(DesIGN's, the report's) on the same seed and draw them side by side in comparison.png "
        "(figure 2.2.4).",
    )


def main(argv):
    # --compare trains the style GAN unpacked whatever --pack says (its class head is per sample).
    toy_cli.apply_settings(FLAGS, class_head=FLAGS.label and not FLAGS.compare)
    run = toy_cli.run_settings(FLAGS, "STYLEGAN", name_parts=["label"] if FLAGS.label else [])
    for name in ("nhidden", "nlayers", "d_steps"):
        common_flags.check_positive(name, FLAGS[name].value)
    for name in ("lrg", "lrd"):
        common_flags.require(FLAGS[name].value > 0, f"--{name} must be positive (got {FLAGS[name].value})")
    for name in ("lambda_d", "lambda_g"):
        common_flags.check_non_negative(name, FLAGS[name].value)
    common_flags.require(
        not (FLAGS.r1_gamma and FLAGS.loss == "wgan-gp"),
        "--r1_gamma applies to --loss gan; wgan-gp has its own gradient penalty",
    )
    tf_env.import_tensorflow()  # after the checks: bad input fails fast, without TensorFlow
    from toy2d.toy_runs import ToyRunSpec, report_snapshot_steps

    model = toy_cli.model_config(
        FLAGS,
        run["num_classes"],
        loss=FLAGS.loss,
        use_labels=FLAGS.label,
        lambda_d=FLAGS.lambda_d,
        lambda_g=FLAGS.lambda_g,
        d_steps=FLAGS.d_steps,
        minibatch_discrimination=FLAGS.minibatch_discriminate,
        creativity_loss=FLAGS.creativity_loss,
        label_seed=FLAGS.seed,
    )
    spec = ToyRunSpec(model=model, snapshot_steps=report_snapshot_steps(FLAGS.niters), **run["spec"])
    if not FLAGS.compare:
        return toy_cli.run_toy(spec, FLAGS, "STYLE GAN" if FLAGS.label else "GAN")
    # Figure 2.2.4 with both creativity losses: DesIGN's and what the report's code did.
    runs = [
        ("NORMAL GAN", dataclasses.replace(model, use_labels=False), "normal_gan"),
        (
            "STYLE GAN (DesIGN loss)",
            dataclasses.replace(model, use_labels=True, pack=1, creativity_loss="uniform"),
            "style_gan",
        ),
        (
            "STYLE GAN (report's loss)",
            dataclasses.replace(model, use_labels=True, pack=1, creativity_loss="report"),
            "style_gan_report_loss",
        ),
    ]
    summaries = [
        toy_cli.run_toy(
            dataclasses.replace(spec, model=m, out_dir=os.path.join(spec.out_dir, sub)), FLAGS, name
        )
        for name, m, sub in runs
    ]
    toy_cli.write_comparison(spec.out_dir, summaries, FLAGS.notebook)


if __name__ == "__main__":
    define_flags()
    flags.adopt_module_key_flags(common_flags)
    flags.adopt_module_key_flags(toy_cli)
    common_flags.run(main)
