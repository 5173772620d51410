"""CAN's losses against hand-computed values, its networks' shapes, one training step, and
minibatch discrimination."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from can.can_models import CAN, CANConfig, range_matched_sigmoid, style_ambiguity_loss, style_entropy

TINY = CANConfig(num_genres=3, image_size=16, z_dim=8, d_channels=(4, 8, 8), fc=16, kernel=3)
SEED = tf.constant([1, 2], tf.int64)


def tiny(**changes):
    tf.keras.utils.set_random_seed(0)
    return CAN(dataclasses.replace(TINY, **changes))


def test_binary_style_loss_by_hand():
    """-sum_c [(1/K) log p_c + (1 - 1/K) log(1 - p_c)], p = softmax(logits): K = 2, p = (1/4, 3/4)."""
    logits = tf.constant([[0.0, np.log(3.0)]])
    want = -(0.5 * np.log(0.25) + 0.5 * np.log(0.75) + 0.5 * np.log(0.75) + 0.5 * np.log(0.25))
    assert float(style_ambiguity_loss(logits, "binary")) == pytest.approx(want, rel=1e-6)
    logits = np.array([[1.0, -2.0, 0.5], [0.0, 0.0, 3.0]])  # K = 3, two images: the batch mean
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    want = np.mean(-np.sum(np.log(p) / 3 + (2 / 3) * np.log(1 - p), axis=1))
    assert float(style_ambiguity_loss(tf.constant(logits, tf.float32), "binary")) == pytest.approx(
        want, rel=1e-5
    )


@pytest.mark.parametrize("margin", [5.0, 20.0, 40.0, 80.0])
def test_binary_style_loss_is_exact_and_keeps_its_gradient_at_large_margins(margin):
    """float32 log1p(-p) saturated at about -16.6 once a margin passed ~16 and its gradient
    vanished; the loss must follow the float64 value and keep pushing G towards ambiguity."""
    logits = np.array([[margin, 0.0, -1.0, 0.5]])
    z = logits - logits.max(1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(1, keepdims=True))
    others = [np.log(np.sum(np.exp(np.delete(z[0], c)))) for c in range(4)] - np.log(np.exp(z).sum())
    want = -np.sum(log_p[0] / 4 + 0.75 * others)
    x = tf.Variable(logits, dtype=tf.float32)
    with tf.GradientTape() as tape:
        loss = style_ambiguity_loss(x, "binary")
    assert float(loss) == pytest.approx(want, rel=1e-5)
    grad = tape.gradient(loss, x).numpy()
    assert np.all(np.isfinite(grad)) and grad[0, 0] > 0.5  # still pulls the winning logit down


def test_softmax_style_loss_is_cross_entropy_to_uniform():
    logits = np.array([[1.0, -2.0, 0.5]])
    p = np.exp(logits) / np.exp(logits).sum()
    assert float(style_ambiguity_loss(tf.constant(logits, tf.float32), "softmax")) == pytest.approx(
        -np.mean(np.log(p)), rel=1e-5
    )


def test_style_losses_are_smallest_when_d_cannot_place_the_genre():
    uniform, sure = tf.zeros((1, 4)), tf.constant([[8.0, 0.0, 0.0, 0.0]])
    for kind in ("binary", "softmax"):
        assert float(style_ambiguity_loss(uniform, kind)) < float(style_ambiguity_loss(sure, kind))
    assert float(style_entropy(uniform)[0]) == pytest.approx(np.log(4.0), rel=1e-6)
    assert float(style_entropy(sure)[0]) < 0.01


def test_networks_shapes_and_image_range():
    model = tiny()
    images = model.generator(tf.random.normal((5, 8)))
    assert images.shape == (5, 16, 16, 3)
    assert 0.0 <= float(tf.reduce_min(images)) and float(tf.reduce_max(images)) <= 1.0
    out = model.discriminator(images)
    assert out["genre"].shape == (5, 3) and out["real"].shape == (5,)


def test_generator_range_is_the_data_range():
    """Real images span [0, 1] (half the stand-in's pixels are exactly 0): G's last mapping must
    reach both ends, or D tells real from fake by range alone."""
    ends = range_matched_sigmoid(tf.constant([-1e4, -30.0, 0.0, 30.0, 1e4])).numpy()
    assert ends[0] == pytest.approx(0.0, abs=1e-6) and ends[-1] == pytest.approx(1.0, abs=1e-6)
    assert ends[2] == pytest.approx(0.5)
    assert ends[1] < 1e-3 and ends[3] > 1 - 1e-3
    inner = range_matched_sigmoid(tf.linspace(-50.0, 50.0, 101)).numpy()
    assert np.all(np.diff(inner) >= 0)  # monotone: every pixel value has a logit


def test_discriminator_loss_by_hand():
    model = tiny()
    images, genres = tf.random.uniform((4, 16, 16, 3)), tf.constant([0, 2, 1, 2])
    fakes = model.generator(model.noise(4, SEED))
    real, fake = model.discriminator(images), model.discriminator(fakes)
    sig = lambda v: 1 / (1 + np.exp(-np.asarray(v, np.float64)))  # noqa: E731
    adversarial = -np.mean(np.log(sig(real["real"]))) - np.mean(np.log(1 - sig(fake["real"])))
    logits = np.asarray(real["genre"], np.float64)
    log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    genre = -np.mean(log_p[np.arange(4), genres.numpy()])
    total, got_adv, got_genre = model.d_loss(images, genres, fakes)
    assert float(got_adv) == pytest.approx(adversarial, rel=1e-4)
    assert float(got_genre) == pytest.approx(genre, rel=1e-4)
    assert float(total) == pytest.approx(adversarial + genre, rel=1e-4)


@pytest.mark.parametrize("baseline", [False, True])
def test_generator_loss_by_hand(baseline):
    model = tiny(lambda_style=0.0 if baseline else 0.7)
    fakes = model.generator(model.noise(4, SEED))
    out = model.discriminator(fakes)
    adversarial = -np.mean(np.log(1 / (1 + np.exp(-np.asarray(out["real"], np.float64)))))
    style = float(style_ambiguity_loss(out["genre"], "binary"))
    total, got_style = model.g_loss(fakes)
    assert float(got_style) == pytest.approx(style, rel=1e-5)
    assert float(total) == pytest.approx(adversarial + (0.0 if baseline else 0.7) * style, rel=1e-4)


def test_one_training_step_takes_one_d_step_and_g_steps_g_steps():
    model = tiny(g_steps=2)
    before_g = [v.numpy() for v in model.generator.trainable_variables]
    before_d = [v.numpy() for v in model.discriminator.trainable_variables]
    losses = tf.function(model.update, autograph=False)(
        (tf.random.uniform((4, 16, 16, 3)), tf.constant([0, 1, 2, 0])), SEED
    )
    assert all(np.isfinite(float(v)) for v in losses.values())
    assert (
        int(model.optimizers["discriminator"].iterations) == 1
        and int(model.optimizers["generator"].iterations) == 2
    )
    assert any(np.abs(a - b.numpy()).max() > 0 for a, b in zip(before_g, model.generator.trainable_variables))
    assert any(
        np.abs(a - b.numpy()).max() > 0 for a, b in zip(before_d, model.discriminator.trainable_variables)
    )


def test_minibatch_discrimination_in_d():
    model = tiny(minibatch_discrimination=True)
    assert model.discriminator(tf.random.uniform((3, 16, 16, 3)))["real"].shape == (3,)
