"""Conditional GAN on 2-d toy data with mixtures removed (report section 2.3).

    python CGAN.py --fig_name result_file_name --label --notebook --missing_mixt 4

G(z | y) and D(x | y) see the label as a one-hot vector. After training we ask the generator
for every label, including the removed ones it never saw data for, and measure where those
samples land.
"""

from absl import flags

from common import flags as common_flags
from common import tf_env
from toy2d import toy_cli  # next to this script

FLAGS = flags.FLAGS


def define_flags():
    common_flags.define_run_flags(default_batch_size=400)
    toy_cli.define_toy_flags(default_niters=3001)
    flags.DEFINE_boolean(
        "label",
        False,
        "Colour the generated points by their conditioning label in the "
        "figures (as figure 2.3); without it they are drawn green like STYLEGAN's. The "
        "CGAN itself always conditions on the label.",
    )
    flags.DEFINE_integer("nhidden", 64, "Width of every hidden layer of G and D.")
    flags.DEFINE_integer("nlayers", 4, "Hidden layers of G and D.")
    flags.DEFINE_float("lrg", 3e-3, "Adam learning rate of the generator.")
    flags.DEFINE_float("lrd", 3e-3, "Adam learning rate of the discriminator.")


def main(argv):
    toy_cli.apply_settings(FLAGS)
    run = toy_cli.run_settings(FLAGS, "CGAN")
    for name in ("nhidden", "nlayers"):
        common_flags.check_positive(name, FLAGS[name].value)
    for name in ("lrg", "lrd"):
        common_flags.require(FLAGS[name].value > 0, f"--{name} must be positive (got {FLAGS[name].value})")
    tf_env.import_tensorflow()  # after the checks: bad input fails fast, without TensorFlow
    from toy2d.toy_runs import ToyRunSpec, report_snapshot_steps

    model = toy_cli.model_config(FLAGS, run["num_classes"], conditional=True)
    spec = ToyRunSpec(model=model, snapshot_steps=report_snapshot_steps(FLAGS.niters), **run["spec"])
    toy_cli.run_toy(spec, FLAGS, "CGAN", colour_by_label=FLAGS.label)


if __name__ == "__main__":
    define_flags()
    flags.adopt_module_key_flags(common_flags)
    flags.adopt_module_key_flags(toy_cli)
    common_flags.run(main)
