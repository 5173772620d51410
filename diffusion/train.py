"""A class-conditional diffusion model with classes removed (zero-shot) or kept as k shots
(few-shot): the league's diffusion family (DDPM, Ho et al. 2020, with the v-parameterisation and
a cosine schedule; classifier-free guidance, Ho & Salimans 2022; DDIM sampling, Song et al. 2021).

    python train.py --dataset fashion-mnist --remove_label 1                 # never a trouser
    python train.py --dataset fashion-mnist --remove_label 1 --few_shot 4    # four trousers, repeated
    python train.py --remove_label 1 --few_shot 4 --init_from <zero-shot run> --steps 500   # fine-tune

Asked for a removed class, the model is conditioned on a label it never trained (the report's 2.3
question, for diffusion). Writes metrics.json (the judge's accuracy on the present classes and
their Fréchet judge distance; per removed class its rate among the samples asked for it, their
distance, precision and recall, and with shots their copy rate), samples.npz (--per_class samples
of every class, with labels), samples.png (a row per class), losses.png, checkpoints/ and logs/.
"""

from common import experiment
from common import flags as common_flags
from common import spec as spec_lib
from diffusion.spec import DiffusionRunSpec


def main(argv):
    spec = spec_lib.from_flags(DiffusionRunSpec)  # every flag checked before TensorFlow is imported
    experiment.run_experiment(spec, "diffusion.diffusion_run:DiffusionExperiment")


if __name__ == "__main__":
    spec_lib.define_flags(DiffusionRunSpec)
    common_flags.run(main)
