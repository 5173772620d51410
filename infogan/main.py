"""InfoGAN and its siblings (GAN, CGAN, ACGAN) with classes removed: report section 2.4.

    python3 main.py --gan_type infoGAN --dataset mnist --missing_mixt 3    # the report's command

Writes metrics.json (per categorical code or label: the judge's majority class and its purity;
classes covered; removed_class_hits; classifier score; Fréchet judge distance; nn_distance),
samples.npz, code_grid.png (one column per code/label), continuous_sweep.png (infoGAN),
label_rows.png (CGAN/ACGAN: one row per label, the removed ones marked),
epochs/epoch_NNN.png, losses.png, checkpoints/, logs/. On 8Gaussians: the toy metrics (modes,
missing-mode hits, per-code purity over modes) and code_scatter.png.
"""

from common import experiment
from common import flags as common_flags
from common import spec as spec_lib
from infogan.spec import GANRunSpec


def main(argv):
    spec = spec_lib.from_flags(GANRunSpec)  # every flag checked before TensorFlow is imported
    experiment.run_experiment(spec, "infogan.infogan_run:GANExperiment")


if __name__ == "__main__":
    spec_lib.define_flags(GANRunSpec)
    common_flags.run(main)
