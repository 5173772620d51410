"""The VAE of report section 2.5 (Kingma & Welling 2013), as Keras subclassed models.

Two architectures:
  * mlp:  the PyTorch example the report built on: x -> FC400 -> (mu, log var) of z;
          z -> FC400 -> x.
  * conv: two stride-2 convolutions each way (28 -> 14 -> 7 and back) around a fully connected
          layer, so encoder and decoder share the images' spatial structure; about twice the
          mlp's cost per image on a CPU (README: 5.5 vs 2.4 s per Fashion-MNIST epoch).
The loss is the negative ELBO per example in nats: a Bernoulli reconstruction term summed over
pixels (binary cross-entropy against pixel intensities in [0, 1], as the PyTorch example) plus
KL(q(z|x) || N(0, I)). For vector data (the 2-d toy sets) the decoder is Gaussian with a learned
per-dimension standard deviation. Sizes are constructor arguments; reads no flags.
"""

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf

from common import optimizers
from common.distribute import optimizer, scale_loss
from common.layers import fan_in_uniform

ARCHS = ("conv", "mlp")


@dataclasses.dataclass(frozen=True)
class VAEConfig:
    input_shape: tuple  # (H, W, C) for images, (D,) for vectors
    latent_dim: int = 20
    arch: str = "conv"
    hidden: int = 400  # width of the mlp's hidden layer (the PyTorch example's 400)
    filters: tuple = (16, 32)  # conv channels after the first and second stride-2 convolution
    lr: float = 1e-3
    init: str = "glorot"  # Keras' default; fan_in: PyTorch's (common.layers.fan_in_uniform)
    adam_epsilon: float = 1e-7

    @property
    def likelihood(self):
        return "bernoulli" if len(self.input_shape) == 3 else "gaussian"


class Encoder(keras.Model):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        if config.arch == "conv":
            self.body = [
                keras.layers.Conv2D(f, 3, strides=2, padding="same", activation="relu")
                for f in config.filters
            ]
            self.body += [keras.layers.Flatten(), keras.layers.Dense(config.hidden, activation="relu")]
        else:
            self.body = [keras.layers.Flatten(), keras.layers.Dense(config.hidden, activation="relu")]
        self.moments = keras.layers.Dense(
            2 * config.latent_dim, dtype="float32"
        )  # float32 under mixed precision

    def call(self, x):
        for layer in self.body:
            x = layer(x)
        mu, log_var = tf.split(self.moments(x), 2, axis=-1)
        return mu, log_var


class Decoder(keras.Model):
    """z -> per-pixel logits (images) or means (vectors)."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        shape = tuple(config.input_shape)
        if config.arch == "conv":
            if len(shape) != 3 or shape[0] % 4 or shape[1] % 4:
                raise ValueError(f"the conv VAE needs images with sides divisible by 4, got {shape}")
            h, w, channels = shape
            first, second = config.filters
            self.body = [
                keras.layers.Dense(config.hidden, activation="relu"),
                keras.layers.Dense(h // 4 * w // 4 * second, activation="relu"),
                keras.layers.Reshape((h // 4, w // 4, second)),
                keras.layers.Conv2DTranspose(first, 3, strides=2, padding="same", activation="relu"),
                keras.layers.Conv2DTranspose(channels, 3, strides=2, padding="same", dtype="float32"),
            ]
        else:
            self.body = [
                keras.layers.Dense(config.hidden, activation="relu"),
                keras.layers.Dense(int(np.prod(shape)), dtype="float32"),
                keras.layers.Reshape(shape, dtype="float32"),  # a mixed policy would cast to half
            ]

    def call(self, z):
        for layer in self.body:
            z = layer(z)
        return z


def kl_to_standard_normal(mu, log_var):
    """KL(N(mu, exp(log_var)) || N(0, I)) per example, summed over latent dimensions."""
    return -0.5 * tf.reduce_sum(1.0 + log_var - tf.square(mu) - tf.exp(log_var), axis=-1)


def bernoulli_nll(x, logits):
    """-log p(x | logits) per example, summed over every pixel and channel."""
    per_pixel = tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits)
    return tf.reduce_sum(tf.reshape(per_pixel, [tf.shape(x)[0], -1]), axis=-1)


def gaussian_nll(x, mean, log_sigma):
    """-log N(x; mean, diag(exp(log_sigma))^2) per example."""
    z = (x - mean) * tf.exp(-log_sigma)
    per_dim = 0.5 * tf.square(z) + log_sigma + 0.5 * math.log(2.0 * math.pi)
    return tf.reduce_sum(tf.reshape(per_dim, [tf.shape(x)[0], -1]), axis=-1)


class VAE(keras.Model):
    def __init__(self, config: VAEConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)
        if config.likelihood == "gaussian":
            self.log_sigma = self.add_weight(
                shape=tuple(config.input_shape), initializer="zeros", name="log_sigma"
            )
        self.encoder(tf.zeros((1, *config.input_shape)))
        self.decoder(tf.zeros((1, config.latent_dim)))
        if config.init == "fan_in":
            fan_in_uniform(self)
        self.legacy_optimizer_keys = {
            "vae": "optimizer"
        }  # the keys of runs saved before the optimizers were renamed
        self.optimizers = {"vae": optimizer(optimizers.Adam(config.lr, epsilon=config.adam_epsilon))}
        self.optimizers["vae"].build(self.trainable_variables)

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        """The decoder's mean image / vector: sigmoid(logits) for Bernoulli pixels, in [0, 1]."""
        out = self.decoder(z)
        return tf.sigmoid(out) if self.config.likelihood == "bernoulli" else out

    def neg_elbo_terms(self, x, eps):
        """(reconstruction nats, KL nats) per example with the reparameterised z = mu + sigma eps."""
        mu, log_var = self.encoder(x)
        z = mu + tf.exp(0.5 * log_var) * eps
        out = self.decoder(z)
        if self.config.likelihood == "bernoulli":
            recon = bernoulli_nll(x, out)
        else:
            recon = gaussian_nll(x, out, self.log_sigma)
        return recon, kl_to_standard_normal(mu, log_var)

    def update(self, batch, seed):
        x = batch
        eps = tf.random.stateless_normal((tf.shape(x)[0], self.config.latent_dim), seed)
        with tf.GradientTape() as tape:
            recon, kl = self.neg_elbo_terms(x, eps)
            loss = tf.reduce_mean(recon + kl)
            scaled = scale_loss(loss, self.optimizers["vae"])
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizers["vae"].apply(grads, self.trainable_variables)
        return {"loss": loss, "recon": tf.reduce_mean(recon), "kl": tf.reduce_mean(kl)}
