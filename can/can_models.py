"""The Creative Adversarial Network (Elgammal et al. 2017) as implemented in seeds/004 (Ahn, Lee,
Huang): a DCGAN whose discriminator also classifies art genres, and whose generator is rewarded
for images the genre head cannot place ("style ambiguity").

  D(x) -> (K genre logits, one real/fake logit). D maximises
        log D_r(x) + log D_c(c = ĉ | x)  on real art,   log(1 - D_r(G(z)))  on fakes.
  G minimises  -log D_r(G(z))  (non-saturating)  +  lambda_style * style_loss(D_c(. | G(z))),
  style_loss "binary" (Ahn, Lee and Huang's eq. 2-3, from Elgammal et al. 2017):
        -sum_c [ (1/K) log D_c(c|G(z)) + (1 - 1/K) log(1 - D_c(c|G(z))) ]
  or "softmax": the cross-entropy against the uniform distribution, -(1/K) sum_c log D_c(c|G(z)).
D_c is the softmax of the genre logits. The baseline is the same networks with lambda_style 0.

Images are in [0, 1] everywhere, real and generated alike. G ends, as Ahn et al.'s, with its
logits squashed into [-4, 4] and a sigmoid, but that alone leaves G's pixels in [0.018, 0.982]
while about half of the real pixels are exactly 0 (black backgrounds, the stand-in's borders):
D could then tell real from fake by range alone. So the sigmoid's output is stretched back onto
[0, 1] (`range_matched_sigmoid`). The seed itself fed D real art in [-1, 1] against sigmoid
outputs in [0, 1], the same confound, larger.
Sizes are constructor arguments; reads no flags.
"""

import dataclasses

import keras
import tensorflow as tf

from common import losses, optimizers
from common.distribute import optimizer, scale_loss, split_seed
from common.layers import MinibatchDiscrimination

STYLE_LOSSES = ("binary", "softmax")


@dataclasses.dataclass(frozen=True)
class CANConfig:
    num_genres: int = 7
    image_size: int = 64  # a multiple of 8
    z_dim: int = 100
    d_channels: tuple = (32, 64, 128)  # after each conv + avg-pool block: 32x32, 16x16, 8x8 at 64x64
    fc: int = 1024  # each of D's two heads, and G's first layer
    kernel: int = 5
    style_loss: str = "binary"
    lambda_style: float = 1.0  # 0: the baseline DCGAN
    lr_g: float = 1e-3
    lr_d: float = 1e-4
    beta1: float = 0.5
    g_steps: int = 2  # generator steps per discriminator step (Ahn et al.)
    minibatch_discrimination: bool = False
    # G's last mapping of its logits to pixels: "mapped", Ahn et al.'s fix (4 tanh(x / 4) into the
    # sigmoid, stretched onto [0, 1]); "sigmoid", the plain sigmoid they had before it.
    output: str = "mapped"

    @property
    def base(self):
        return self.image_size // 8


def log_one_minus_softmax(logits):
    """log(1 - softmax(logits)_c) for every class c, (B, K), exact at any logit margin.

    1 - p_c is the probability of the other classes, so its log is the log-sum-exp of the other
    logits minus that of all of them. Computing log1p(-p_c) instead rounds p_c to 1 in float32
    once c's margin passes ~16, and the loss stops at about -16.6 with no gradient."""
    k = logits.shape[-1]
    others = tf.where(
        tf.eye(k, dtype=tf.bool)[None], tf.constant(-float("inf"), logits.dtype), logits[:, None, :]
    )
    return tf.reduce_logsumexp(others, axis=-1) - tf.reduce_logsumexp(logits, axis=-1, keepdims=True)


def style_ambiguity_loss(genre_logits, kind="binary"):
    """What G minimises for style ambiguity, mean over the batch; genre_logits (B, K)."""
    if kind == "softmax":
        return losses.uniform_cross_entropy(genre_logits)
    k = tf.cast(tf.shape(genre_logits)[-1], genre_logits.dtype)
    log_p = tf.nn.log_softmax(genre_logits, axis=-1)
    per_image = -tf.reduce_sum(log_p / k + (1.0 - 1.0 / k) * log_one_minus_softmax(genre_logits), axis=-1)
    return tf.reduce_mean(per_image)


OUTPUTS = ("mapped", "sigmoid")
SIGMOID_4 = 0.9820137900379085  # sigmoid(4): the largest value of sigmoid(4 tanh(x / 4))


def range_matched_sigmoid(logits):
    """sigmoid(4 tanh(x / 4)) (Ahn et al.'s output layer) stretched from [1 - s(4), s(4)] onto [0, 1],
    the range of the real images."""
    stretched = (tf.sigmoid(4.0 * tf.tanh(logits / 4.0)) - (1.0 - SIGMOID_4)) / (2.0 * SIGMOID_4 - 1.0)
    return tf.clip_by_value(stretched, 0.0, 1.0)  # float32 rounding can overshoot by an ulp


def style_entropy(genre_logits):
    """Entropy (nats) of D_c(. | x) per image; at most log K (complete ambiguity)."""
    p = tf.nn.softmax(genre_logits, axis=-1)
    return -tf.reduce_sum(p * tf.nn.log_softmax(genre_logits, axis=-1), axis=-1)


class Discriminator(keras.Model):
    """Three (conv, leaky ReLU, 2x2 average pool) blocks, flattened into two parallel heads:
    FC1024 -> K genre logits and FC1024 -> 1 real/fake logit."""

    def __init__(self, config: CANConfig, **kwargs):
        super().__init__(**kwargs)
        self.blocks = []
        for channels in config.d_channels:
            self.blocks += [
                keras.layers.Conv2D(channels, config.kernel, padding="same"),
                keras.layers.LeakyReLU(0.2),
                keras.layers.AveragePooling2D(2),
            ]
        self.flatten = keras.layers.Flatten()
        self.minibatch = MinibatchDiscrimination() if config.minibatch_discrimination else None
        self.genre_head = [
            keras.layers.Dense(config.fc),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Dense(config.num_genres, dtype="float32"),  # float32 under mixed precision
        ]
        self.real_head = [
            keras.layers.Dense(config.fc),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Dense(1, dtype="float32"),
        ]

    def call(self, images):
        x = images
        for layer in self.blocks:
            x = layer(x)
        x = self.flatten(x)  # (B, 8*8*128)
        genre, real = x, self.minibatch(x) if self.minibatch is not None else x
        for layer in self.genre_head:
            genre = layer(genre)
        for layer in self.real_head:
            real = layer(real)
        return {"genre": genre, "real": real[:, 0]}


class Generator(keras.Model):
    """z -> FC1024 -> FC 8*8*128 -> (8, 8, 128) -> 3 x (leaky ReLU, transposed conv /2) ->
    (64, 64, 3) logits -> 4 tanh(logits / 4) in (-4, 4) -> sigmoid, stretched onto [0, 1]."""

    def __init__(self, config: CANConfig, **kwargs):
        super().__init__(**kwargs)
        if config.output not in OUTPUTS:
            raise ValueError(f"unknown output '{config.output}'; choose one of {', '.join(OUTPUTS)}")
        self.output_mapping = config.output
        b, channels = config.base, config.d_channels
        self.fc = [
            keras.layers.Dense(config.fc),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Dense(b * b * channels[-1]),
            keras.layers.Reshape((b, b, channels[-1])),
        ]
        self.up = []
        for i, out in enumerate((channels[1], channels[0], 3)):
            last = i == 2  # the image logits stay float32 under mixed precision
            self.up += [
                keras.layers.LeakyReLU(0.2),
                keras.layers.Conv2DTranspose(
                    out, config.kernel, strides=2, padding="same", dtype="float32" if last else None
                ),
            ]

    def call(self, z):
        x = z
        for layer in self.fc + self.up:
            x = layer(x)
        return range_matched_sigmoid(x) if self.output_mapping == "mapped" else tf.sigmoid(x)


class CAN(keras.Model):
    def __init__(self, config: CANConfig, **kwargs):
        super().__init__(**kwargs)
        if config.style_loss not in STYLE_LOSSES:
            raise ValueError(
                f"unknown style loss '{config.style_loss}'; choose one of {', '.join(STYLE_LOSSES)}"
            )
        self.config = config
        self.generator, self.discriminator = Generator(config), Discriminator(config)
        self.generator(tf.zeros((2, config.z_dim)))
        self.discriminator(tf.zeros((2, config.image_size, config.image_size, 3)))
        self.legacy_optimizer_keys = {
            "generator": "g",
            "discriminator": "d",
        }  # the keys of runs saved before the optimizers were renamed
        self.optimizers = {
            "generator": optimizer(optimizers.Adam(config.lr_g, beta_1=config.beta1)),
            "discriminator": optimizer(optimizers.Adam(config.lr_d, beta_1=config.beta1)),
        }
        self.optimizers["generator"].build(self.generator.trainable_variables)
        self.optimizers["discriminator"].build(self.discriminator.trainable_variables)

    def noise(self, n, seed):
        return tf.random.stateless_normal((n, self.config.z_dim), seed)

    def d_loss(self, images, genres, fakes):
        """-[log D_r(x) + log D_c(ĉ|x)] on real art, -log(1 - D_r(G(z))) on fakes."""
        real, fake = self.discriminator(images), self.discriminator(fakes)
        adversarial = losses.d_loss_gan(real["real"], fake["real"])
        genre = losses.classification_loss(genres, real["genre"])
        return adversarial + genre, adversarial, genre

    def g_loss(self, fakes):
        out = self.discriminator(fakes)
        adversarial = losses.g_loss_gan(out["real"])
        style = style_ambiguity_loss(out["genre"], self.config.style_loss)
        return adversarial + self.config.lambda_style * style, style

    def update(self, batch, seed):
        images, genres = batch
        n = tf.shape(images)[0]
        seeds = split_seed(seed, 1 + self.config.g_steps)
        d_vars, g_vars = self.discriminator.trainable_variables, self.generator.trainable_variables
        fakes = self.generator(self.noise(n, seeds[0]))
        with tf.GradientTape() as tape:  # the loss is scaled for the replicas inside the tape
            d_loss, d_adversarial, d_genre = self.d_loss(images, genres, fakes)
            scaled = scale_loss(d_loss, self.optimizers["discriminator"])
        self.optimizers["discriminator"].apply_gradients(zip(tape.gradient(scaled, d_vars), d_vars))
        for i in range(self.config.g_steps):  # Ahn et al.: two generator steps per discriminator step
            with tf.GradientTape() as tape:
                g_loss, style = self.g_loss(self.generator(self.noise(n, seeds[1 + i])))
                scaled = scale_loss(g_loss, self.optimizers["generator"])
            self.optimizers["generator"].apply_gradients(zip(tape.gradient(scaled, g_vars), g_vars))
        return {
            "d_loss": d_loss,
            "d_genre_loss": d_genre,
            "d_adversarial": d_adversarial,
            "g_loss": g_loss,
            "g_style_loss": style,
        }
