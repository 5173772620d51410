"""FIGR: few-shot image generation with a GAN meta-trained by Reptile (report section 2.6).

    python train.py --dataset Mnist & tensorboard --logdir Runs/     # the report's command
    python train.py --dataset Mnist --loss wgan-gp                   # the paper's loss
    python generate.py --run_dir Runs/<run> --shots_dir my_images/   # your own shots

Meta-trains on tasks of --shots images of one class (never a --held_out class), then adapts the
meta-weights to --shots images of each held-out class and grades the generations. Writes
metrics.json (judge accuracy of the generations, their diversity beside real images', distance
to the shots beside real images', Fréchet judge distance), samples.npz, few_shot.png (the shots
boxed, generations below, as the report's 2.6), adaptation.png, progression.png, losses.png,
checkpoints/ and logs/ (TensorBoard: losses and few-shot generations every --sample_every).
"""

from common import experiment
from common import flags as common_flags
from common import spec as spec_lib
from figr.spec import FIGRRunSpec


def main(argv):
    spec = spec_lib.from_flags(FIGRRunSpec)  # every flag checked before TensorFlow is imported
    experiment.run_experiment(spec, "figr.figr_run:FIGRExperiment", quiet_grappler=True)


if __name__ == "__main__":
    spec_lib.define_flags(FIGRRunSpec)
    common_flags.run(main)
