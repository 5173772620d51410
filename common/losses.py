"""GAN losses shared by the experiments. Every function returns the mean over the local batch."""

import tensorflow as tf


def d_loss_gan(real_logits, fake_logits, real_label=1.0):
    """Discriminator cross-entropy: -log D(x) - log(1 - D(G(z))). real_label < 1 is one-sided
    label smoothing (GAN hacks, seed 003)."""
    real = tf.nn.sigmoid_cross_entropy_with_logits(tf.fill(tf.shape(real_logits), real_label), real_logits)
    fake = tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(fake_logits), fake_logits)
    return tf.reduce_mean(real) + tf.reduce_mean(fake)


def g_loss_gan(fake_logits):
    """Non-saturating generator loss -log D(G(z)) (Goodfellow et al. 2014, seed 002)."""
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(fake_logits), fake_logits))


def d_loss_wgan(real_scores, fake_scores):
    """Critic loss of WGAN: E[D(G(z))] - E[D(x)]."""
    return tf.reduce_mean(fake_scores) - tf.reduce_mean(real_scores)


def g_loss_wgan(fake_scores):
    return -tf.reduce_mean(fake_scores)


def gradient_penalty(critic_fn, real, fake, seed):
    """WGAN-GP (Gulrajani et al. 2017): E[(||grad_x D(x_hat)||_2 - 1)^2] on random interpolates.

    The norm is taken per example over all of its dimensions (FIGR's original code took it per
    pixel, a known fault)."""
    shape = [tf.shape(real)[0]] + [1] * (len(real.shape) - 1)
    eps = tf.random.stateless_uniform(shape, seed, dtype=real.dtype)
    interpolates = eps * real + (1.0 - eps) * fake
    norms = tf.sqrt(_squared_input_gradient_norms(critic_fn, interpolates) + 1e-12)
    return tf.reduce_mean((norms - 1.0) ** 2)


def r1_penalty(critic_fn, real):
    """R1 (Mescheder et al. 2018): E[||grad_x D(x)||^2] on real examples, per example over all of
    its dimensions. Weighted by gamma/2 it keeps D flat on the data, so G settles on the modes
    instead of circling them."""
    return tf.reduce_mean(_squared_input_gradient_norms(critic_fn, real))


def _squared_input_gradient_norms(critic_fn, points):
    """||grad_x critic(x)||^2 for each example x of points, over all of its dimensions."""
    with tf.GradientTape() as tape:
        tape.watch(points)
        scores = critic_fn(points)
    grads = tape.gradient(scores, points, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    return tf.reduce_sum(tf.reshape(grads, [tf.shape(grads)[0], -1]) ** 2, axis=1)


def classification_loss(labels, class_logits):
    """DesIGN's L_D classif = -log softmax(D_b(x))_c on real examples with their class c."""
    return tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(labels, tf.int32), logits=class_logits)
    )


def uniform_cross_entropy(class_logits):
    """DesIGN's creativity loss L_MCE = -sum_k (1/K) log softmax(D_b(G(z)))_k (seed 000).

    Cross-entropy against the *uniform* distribution over classes, not against random hard
    labels (the original code's fault). Its minimum, reached when the discriminator cannot
    tell which class a fake belongs to, is log K."""
    return tf.reduce_mean(-tf.reduce_mean(tf.nn.log_softmax(class_logits, axis=-1), axis=-1))
