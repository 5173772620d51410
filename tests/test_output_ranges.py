"""G's output range equals the data's range in every image experiment: real images are in [0, 1]
(FIGR trains on them mapped to [-1, 1]), and a generator that cannot reach an end of that range
lets D tell real from fake by range alone (CAN's old output stopped at 0.018 / 0.982). Each test
drives the final layer's bias to -/+100 and checks the generated images reach both ends."""

import numpy as np
import pytest
import tensorflow as tf

from can.can_models import CAN, CANConfig
from figr.figr_models import FIGR, FIGRConfig
from infogan.gan_models import GANConfig, ImageGAN
from vae.vae_models import VAE, VAEConfig

SEED = tf.constant([1, 2], tf.int64)


def extremes(final_bias, produce):
    """The images produced with the final bias at -100 and at +100."""
    out = []
    for value in (-100.0, 100.0):
        final_bias.assign(tf.fill(final_bias.shape, value))
        out.append(np.asarray(produce()))
    return out


def assert_spans_unit_interval(low, high):
    assert float(low.max()) == pytest.approx(0.0, abs=1e-6)
    assert float(high.min()) == pytest.approx(1.0, abs=1e-6)


def test_can():
    model = CAN(CANConfig(num_genres=3, image_size=16, z_dim=8, d_channels=(4, 8, 8), fc=16, kernel=3))
    bias = model.generator.trainable_variables[-1]
    assert tuple(bias.shape) == (3,)
    assert_spans_unit_interval(*extremes(bias, lambda: model.generator(model.noise(4, SEED))))


def test_infogan():
    model = ImageGAN(GANConfig("infoGAN", g_width=(32, 8, 4), d_width=(4, 8, 32)))
    bias = model.generator.trainable_variables[-1]
    assert tuple(bias.shape) == (1,)
    assert_spans_unit_interval(*extremes(bias, lambda: model.generate(4, SEED)[0]))


def test_vae():
    model = VAE(VAEConfig(input_shape=(28, 28, 1), latent_dim=2))
    bias = model.decoder.trainable_variables[-1]
    assert tuple(bias.shape) in ((1,), (784,), (28, 28, 1))
    assert_spans_unit_interval(*extremes(bias, lambda: model.decode(tf.zeros((3, 2)))))


def test_figr():
    config = FIGRConfig(image_size=16, z_dim=8, width=4, inner_steps=1)
    model = FIGR(config)
    bias = model.generator.trainable_variables[-1]
    assert tuple(bias.shape) == (1,)
    produce = lambda: model.few_shot(tf.zeros((4, 16, 16, 1)), tf.constant(0), 4, SEED)  # noqa: E731
    assert_spans_unit_interval(*extremes(bias, produce))
