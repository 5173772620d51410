"""Layers shared by more than one experiment."""

import keras
import tensorflow as tf


class MinibatchDiscrimination(keras.layers.Layer):
    """Salimans et al. 2016: o(x_i)_b = sum_j exp(-||M_i,b - M_j,b||_1) with M = x T, appended to
    the features, so the discriminator sees how alike the samples of a batch are (a collapsed
    batch is conspicuous). Used by the 2-d discriminator (16 kernels) and CAN's (32)."""

    def __init__(self, kernels=32, dim=8, **kwargs):
        super().__init__(**kwargs)
        self.kernels, self.dim = kernels, dim

    def build(self, input_shape):
        self.t = self.add_weight(
            shape=(input_shape[-1], self.kernels * self.dim), initializer="glorot_uniform", name="t"
        )

    def call(self, features):
        m = tf.reshape(features @ self.t, [-1, self.kernels, self.dim])  # (B, kernels, dim)
        l1 = tf.reduce_sum(tf.abs(m[:, None] - m[None, :]), axis=-1)  # (B, B, kernels)
        closeness = tf.reduce_sum(tf.exp(-l1), axis=1) - 1.0  # minus the sample itself
        return tf.concat([features, closeness], axis=-1)
