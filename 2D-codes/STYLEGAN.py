"""DesIGN-style GAN on 2-d toy data with mixtures removed (report section 2.2).

python STYLEGAN.py --missing_mixt 1                  # plain GAN, mixture 1 never shown
python STYLEGAN.py --label --missing_mixt 1          # + classification and creativity losses
python STYLEGAN.py --compare --missing_mixt 1        # normal and style GANs side by side (2.2.4)
"""

from common import experiment
from common import flags as common_flags
from common import spec as spec_lib
from toy2d.spec import StyleGANSpec

EXPERIMENT = "toy2d.toy_runs:ToyExperiment"


def main(argv):
    spec = spec_lib.from_flags(StyleGANSpec)  # every flag checked before TensorFlow is imported
    if not spec.compare:
        experiment.run_experiment(spec, EXPERIMENT)
        return
    # Figure 2.2.4 with both creativity losses: DesIGN's and what the report's code did.
    spec = spec.replace(out_dir=spec.resolved_out_dir)
    summaries = [  # the process's start-up is the first model's
        experiment.run_experiment(run, EXPERIMENT, startup_seconds=None if i == 0 else 0.0)
        for i, run in enumerate(spec.compared())
    ]
    from toy2d.toy_runs import write_comparison

    write_comparison(spec.out_dir, summaries, spec.notebook)


if __name__ == "__main__":
    spec_lib.define_flags(StyleGANSpec)
    common_flags.run(main)
