"""The VAE's loss terms against hand-computed values, its shapes, and that it learns."""

import math

import numpy as np
import pytest
import tensorflow as tf

from vae.vae_models import VAE, VAEConfig, bernoulli_nll, gaussian_nll, kl_to_standard_normal


def test_kl_by_hand():
    mu = tf.constant([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    log_var = tf.constant([[0.0, 0.0], [0.0, 0.0], [math.log(4.0), 0.0]])
    # KL(N(m, s^2) || N(0, 1)) = (s^2 + m^2 - 1 - log s^2) / 2 per dimension
    expected = [0.0, 0.5, (4.0 - 1.0 - math.log(4.0)) / 2]
    np.testing.assert_allclose(kl_to_standard_normal(mu, log_var).numpy(), expected, rtol=1e-6)


def test_bernoulli_nll_sums_binary_cross_entropy_over_pixels():
    x = np.array([[[[1.0], [0.0]], [[0.25], [0.5]]]], np.float32)  # one 2x2 image
    logits = np.array([[[[0.0], [2.0]], [[-1.0], [3.0]]]], np.float32)
    p = 1 / (1 + np.exp(-logits))
    expected = -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p))
    assert bernoulli_nll(tf.constant(x), tf.constant(logits)).numpy()[0] == pytest.approx(expected, rel=1e-5)


def test_gaussian_nll_matches_the_density():
    x, mean, log_sigma = np.array([[0.5, -1.0]]), np.array([[0.0, 0.0]]), np.array([0.0, math.log(2.0)])
    sigma = np.exp(log_sigma)
    expected = -np.sum(-0.5 * ((x - mean) / sigma) ** 2 - np.log(sigma) - 0.5 * math.log(2 * math.pi))
    got = gaussian_nll(
        tf.constant(x, tf.float32), tf.constant(mean, tf.float32), tf.constant(log_sigma, tf.float32)
    )
    assert got.numpy()[0] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(
    "arch, shape", [("conv", (28, 28, 1)), ("conv", (32, 32, 3)), ("mlp", (28, 28, 1)), ("mlp", (2,))]
)
def test_shapes(arch, shape):
    model = VAE(VAEConfig(shape, latent_dim=3, arch=arch, filters=(4, 8), hidden=16))
    mu, log_var = model.encode(tf.zeros((5, *shape)))
    assert mu.shape == (5, 3) and log_var.shape == (5, 3)
    images = model.decode(tf.zeros((5, 3))).numpy()
    assert images.shape == (5, *shape)
    if len(shape) == 3:
        assert images.min() >= 0.0 and images.max() <= 1.0
    assert model.config.likelihood == ("bernoulli" if len(shape) == 3 else "gaussian")


def test_conv_needs_sides_divisible_by_four():
    with pytest.raises(ValueError, match="divisible by 4"):
        VAE(VAEConfig((30, 30, 1), arch="conv"))


def test_training_lowers_the_negative_elbo():
    rng = np.random.default_rng(0)
    x = tf.constant((rng.random((64, 28, 28, 1)) < 0.2).astype(np.float32))
    model = VAE(VAEConfig((28, 28, 1), latent_dim=4, arch="conv", filters=(8, 8), lr=3e-3))
    step = tf.function(model.update)
    first = float(step(x, tf.constant([0, 0], tf.int64))["loss"])
    for i in range(1, 60):
        last = step(x, tf.constant([0, i], tf.int64))
    assert float(last["loss"]) < first - 100  # from ~545 nats (uniform pixels) towards ~400
    assert float(last["loss"]) == pytest.approx(float(last["recon"]) + float(last["kl"]), rel=1e-5)
