"""Layers shared by more than one experiment."""

import keras
import numpy as np
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


def fan_in_uniform(model):
    """Re-initialises every kernel and bias of `model`'s Dense and convolution layers as PyTorch's
    nn.Linear and nn.Conv2d do by default: uniform in +-1/sqrt(fan_in), fan_in the kernel's size
    without its output axis (Keras' default: Glorot-uniform kernels, zero biases). Draws from
    Keras' seeded generator, so keras.utils.set_random_seed fixes it. The layers must be built."""
    for layer in model._flatten_layers(include_self=False):
        kernel = getattr(layer, "kernel", None)
        if kernel is None or not isinstance(
            layer, (keras.layers.Dense, keras.layers.Conv2D, keras.layers.Conv2DTranspose)
        ):
            continue
        shape = tuple(kernel.shape)
        fan_in = (
            int(np.prod(shape[:-1]))
            if not isinstance(layer, keras.layers.Conv2DTranspose)
            else (int(np.prod(shape[:2])) * shape[-2])
        )
        bound = 1.0 / np.sqrt(fan_in)
        uniform = keras.initializers.RandomUniform(-bound, bound)
        kernel.assign(uniform(shape, dtype=kernel.dtype))
        if getattr(layer, "bias", None) is not None:
            layer.bias.assign(uniform(tuple(layer.bias.shape), dtype=layer.bias.dtype))
