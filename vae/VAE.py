"""VAE with a class removed (zero-shot) or kept as k shots (few-shot): report sections 2.5-2.6.

    python3 VAE.py --dataset fashion-mnist --encoding-vector-size 2 --remove-label 1    # no trousers
    python3 VAE.py --dataset fashion-mnist --encoding-vector-size 2 --remove-label 7    # sneakers?
    python3 VAE.py --dataset fashion-mnist --encoding-vector-size 2 --remove-label 3 --few-shot 4
    python3 VAE.py --dataset mnist --encoding-vector-size 3 --remove-label 9 --few-shot 4 --epochs 50

Writes metrics.json (test -ELBO in nats per image, overall and on the removed class; the judge's
verdict on prior samples and on the manifold grid; few-shot: accuracy and novelty of generations
near the shots), samples.npz (prior samples), latent.png, manifold.png, reconstructions.png,
prior_samples.png, few_shot.png and interpolation.png (few-shot), losses.png, checkpoints/, logs/.
"""

from common import experiment
from common import flags as common_flags
from common import spec as spec_lib
from vae.spec import VAERunSpec


def main(argv):
    spec = spec_lib.from_flags(VAERunSpec)  # every flag checked before TensorFlow is imported
    experiment.run_experiment(spec, "vae.vae_run:VAEExperiment")


if __name__ == "__main__":
    spec_lib.define_flags(VAERunSpec)
    common_flags.run(main)
