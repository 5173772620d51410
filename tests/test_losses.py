import numpy as np
import pytest
import tensorflow as tf

from common import losses


def test_uniform_cross_entropy_is_log_k_at_its_minimum():
    assert float(losses.uniform_cross_entropy(tf.zeros([3, 8]))) == pytest.approx(np.log(8), rel=1e-6)
    peaked = tf.constant([[10.0] + [0.0] * 7])
    assert float(losses.uniform_cross_entropy(peaked)) > np.log(8) + 1.0


def test_uniform_cross_entropy_is_not_a_hard_label_loss():
    """The original code's fault: a random hard label. Against uniform, permuting logits changes nothing."""
    logits = tf.constant([[3.0, 1.0, 0.0]])
    permuted = tf.constant([[0.0, 3.0, 1.0]])
    assert float(losses.uniform_cross_entropy(logits)) == pytest.approx(
        float(losses.uniform_cross_entropy(permuted))
    )


def test_gan_losses_at_chance():
    zeros = tf.zeros([4])
    assert float(losses.d_loss_gan(zeros, zeros)) == pytest.approx(2 * np.log(2), rel=1e-6)
    assert float(losses.g_loss_gan(zeros)) == pytest.approx(np.log(2), rel=1e-6)
    assert float(losses.d_loss_wgan(tf.ones([4]), zeros)) == pytest.approx(-1.0)


def test_gradient_penalty_is_per_example():
    # A linear critic w.x has gradient w everywhere: penalty (|w| - 1)^2 whatever the inputs.
    w = tf.constant([[3.0], [4.0]])  # |w| = 5

    def critic(x):
        return tf.reshape(tf.reshape(x, [-1, 2]) @ w, [-1])

    real, fake = tf.random.normal([6, 2]), tf.random.normal([6, 2])
    penalty = losses.gradient_penalty(critic, real, fake, tf.constant([1, 2], tf.int64))
    assert float(penalty) == pytest.approx(16.0, rel=1e-5)
    # Images: the norm covers the whole example, not each pixel.
    images = tf.zeros([2, 1, 2, 1])
    assert float(
        losses.gradient_penalty(critic, images, images + 1, tf.constant([1, 2], tf.int64))
    ) == pytest.approx(16.0, rel=1e-5)


def test_classification_loss_matches_sparse_cross_entropy():
    logits = tf.constant([[2.0, 0.0], [0.0, 2.0]])
    expected = -np.log(np.exp(2) / (np.exp(2) + 1))
    assert float(losses.classification_loss(tf.constant([0, 1]), logits)) == pytest.approx(expected, rel=1e-6)


def test_r1_penalty_is_the_mean_squared_gradient_norm_on_real_points():
    # D(x) = sum(x^2) has gradient 2x: the penalty is the mean over examples of 4 |x|^2.
    def critic(x):
        return tf.reduce_sum(tf.reshape(x, [tf.shape(x)[0], -1]) ** 2, axis=1)

    real = tf.constant([[1.0, 0.0], [1.0, 2.0]])  # 4 * 1 and 4 * 5
    assert float(losses.r1_penalty(critic, real)) == pytest.approx(12.0, rel=1e-6)
    # A flat critic costs nothing.
    assert float(losses.r1_penalty(lambda x: tf.zeros([tf.shape(x)[0]]), real)) == 0.0
