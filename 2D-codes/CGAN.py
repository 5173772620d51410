"""Conditional GAN on 2-d toy data with mixtures removed (report section 2.3).

    python CGAN.py --fig_name result_file_name --label --notebook --missing_mixt 4

G(z | y) and D(x | y) see the label as a one-hot vector. After training we ask the generator
for every label, including the removed ones it never saw data for, and measure where those
samples land.
"""

from common import experiment
from common import flags as common_flags
from common import spec as spec_lib
from toy2d.spec import CGANSpec


def main(argv):
    spec = spec_lib.from_flags(CGANSpec)  # every flag checked before TensorFlow is imported
    experiment.run_experiment(spec, "toy2d.toy_runs:ToyExperiment")


if __name__ == "__main__":
    spec_lib.define_flags(CGANSpec)
    common_flags.run(main)
