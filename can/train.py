"""CAN: the Creative Adversarial Network on art genres (Ahn et al.; report section 2.2's style loss).

    python train.py --genres 7                                  # Ahn et al.'s seven genres
    python train.py --genres 7 --data_dir ~/wikiart             # real WikiArt (<dir>/<Genre>/*.jpg)
    python train.py --genres cubism,fauvism --data_dir ~/wikiart
    python train.py --genres 7 --baseline                       # the same DCGAN without the style term

Without --data_dir it runs on a loudly announced stand-in (Fashion-MNIST classes as "genres").
Writes metrics.json (style entropy of generations under CAN's own genre head and under an
independent classifier trained on real images, realness, nn_distance, diversity beside real
images'), samples.npz, samples.png, progression.png, samples/iter_*.png (4x4 grid every
--sample_every iterations), losses.png, checkpoints/ and logs/.
"""

from can.spec import CANRunSpec
from common import experiment
from common import flags as common_flags
from common import spec as spec_lib


def main(argv):
    spec = spec_lib.from_flags(CANRunSpec)  # every flag checked before TensorFlow is imported
    experiment.run_experiment(spec, "can.can_run:CANExperiment", quiet_grappler=True)


if __name__ == "__main__":
    spec_lib.define_flags(CANRunSpec)
    common_flags.run(main)
