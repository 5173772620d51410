"""A class-conditional denoising diffusion model: a small U-Net trained as DDPM (Ho et al. 2020)
with the v-parameterisation and a cosine noise schedule (Salimans & Ho 2022; Nichol & Dhariwal
2021), classifier-free guidance by label dropout (Ho & Salimans 2022), an exponential moving
average of the weights, and DDIM's deterministic sampler in a few steps (Song et al. 2021).

Time is continuous, t in [0, 1]: alpha_bar(t) = cos^2(((t + s) / (1 + s)) pi / 2), s = 0.008. With
x_t = sqrt(a) x0 + sqrt(1 - a) eps the network predicts v = sqrt(a) eps - sqrt(1 - a) x0, from
which x0 = sqrt(a) x_t - sqrt(1 - a) v and eps = sqrt(1 - a) x_t + sqrt(a) v. Training minimises
E ||v_hat - v||^2 over t ~ U[0, 1]. Guidance: v = (1 + w) v(x, c) - w v(x, null).
"""

import dataclasses
import math

import keras
import tensorflow as tf

from common import optimizers
from common.distribute import optimizer, scale_loss, split_seed

S = 0.008  # the cosine schedule's offset (Nichol & Dhariwal)


@dataclasses.dataclass(frozen=True)
class DiffusionConfig:
    image_shape: tuple = (28, 28, 1)
    num_classes: int = 10
    channels: tuple = (32, 64, 128)  # per resolution: 28, 14, 7 for 28x28 images
    blocks: int = 1  # residual blocks per resolution on the way down (one more on the way up)
    groups: int = 8  # GroupNorm groups
    embed: int = 128  # width of the time and class embedding
    lr: float = 2e-3
    warmup: int = 200  # steps of linear learning-rate warm-up
    ema: float = 0.995  # EMA decay of the weights used for sampling
    label_dropout: float = 0.1  # classifier-free guidance: the share of labels replaced by "none"
    min_snr: float = 0.0  # Min-SNR-gamma loss weighting (Hang et al. 2023); 0: every time weighted alike


def alpha_bar(t):
    """The cosine schedule's signal fraction at t in [0, 1] (kept in [1e-5, 1 - 1e-5])."""
    a = tf.cos((t + S) / (1.0 + S) * (math.pi / 2.0)) ** 2 / math.cos(S / (1.0 + S) * math.pi / 2.0) ** 2
    return tf.clip_by_value(a, 1e-5, 1.0 - 1e-5)


def timestep_embedding(t, dim):
    """Sinusoidal features of t (scaled to [0, 1000], as DDPM's integer steps)."""
    half = dim // 2
    frequencies = tf.exp(-math.log(10000.0) * tf.range(half, dtype=tf.float32) / half)
    angles = 1000.0 * t[:, None] * frequencies[None, :]
    return tf.concat([tf.sin(angles), tf.cos(angles)], axis=-1)


class ResBlock(keras.layers.Layer):
    """GroupNorm - swish - conv3x3 (+ the embedding's shift) - GroupNorm - swish - conv3x3, plus a
    1x1 projection of the input when the channels change."""

    def __init__(self, channels, groups, **kwargs):
        super().__init__(**kwargs)
        self.norm1 = keras.layers.GroupNormalization(groups)
        self.conv1 = keras.layers.Conv2D(channels, 3, padding="same")
        self.shift = keras.layers.Dense(channels)
        self.norm2 = keras.layers.GroupNormalization(groups)
        self.conv2 = keras.layers.Conv2D(channels, 3, padding="same")
        self.channels = channels
        self.project = None

    def build(self, input_shape):
        if input_shape[-1] != self.channels:
            self.project = keras.layers.Conv2D(self.channels, 1)

    def call(self, x, embedding):
        h = self.conv1(keras.activations.silu(self.norm1(x)))
        h = h + self.shift(embedding)[:, None, None, :]
        h = self.conv2(keras.activations.silu(self.norm2(h)))
        return h + (self.project(x) if self.project is not None else x)


class UNet(keras.Model):
    """(image x_t, time t, class label) -> v. Down: a residual block per resolution then a
    stride-2 convolution; up: nearest upsampling, the skip concatenated, residual blocks."""

    def __init__(self, config: DiffusionConfig, **kwargs):
        super().__init__(**kwargs)
        c = config
        self.config = c
        self.stem = keras.layers.Conv2D(c.channels[0], 3, padding="same")
        self.time = [keras.layers.Dense(c.embed), keras.layers.Dense(c.embed)]
        self.labels = keras.layers.Embedding(c.num_classes + 1, c.embed)  # index num_classes: none
        self.down, self.downsample = [], []
        for i, width in enumerate(c.channels):
            self.down.append([ResBlock(width, c.groups) for _ in range(c.blocks)])
            if i < len(c.channels) - 1:
                self.downsample.append(keras.layers.Conv2D(width, 3, strides=2, padding="same"))
        self.middle = [ResBlock(c.channels[-1], c.groups), ResBlock(c.channels[-1], c.groups)]
        self.up = []
        for width in reversed(c.channels):
            self.up.append([ResBlock(width, c.groups) for _ in range(c.blocks + 1)])
        self.out_norm = keras.layers.GroupNormalization(c.groups)
        self.out = keras.layers.Conv2D(c.image_shape[-1], 3, padding="same", dtype="float32")

    def call(self, x, t, labels):
        e = timestep_embedding(tf.cast(t, tf.float32), self.config.embed)
        e = self.time[1](keras.activations.silu(self.time[0](e)))
        e = keras.activations.silu(e + tf.cast(self.labels(labels), e.dtype))
        h = self.stem(x)
        skips = []
        for i, blocks in enumerate(self.down):
            for block in blocks:
                h = block(h, e)
            skips.append(h)
            if i < len(self.downsample):
                h = self.downsample[i](h)
        for block in self.middle:
            h = block(h, e)
        for i, blocks in enumerate(self.up):
            if i > 0:
                skip = skips[-1 - i]  # nearest upsampling by repeats (XLA has no resize gradient on CPUs)
                h = tf.repeat(tf.repeat(h, 2, axis=1), 2, axis=2)[:, : tf.shape(skip)[1], : tf.shape(skip)[2]]
            h = tf.concat([h, tf.cast(skips[-1 - i], h.dtype)], axis=-1)
            for block in blocks:
                h = block(h, e)
        return self.out(keras.activations.silu(self.out_norm(h)))


class WarmupConstant(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, rate, warmup):
        self.rate, self.warmup = rate, warmup

    def __call__(self, step):
        return self.rate * tf.minimum(1.0, (tf.cast(step, tf.float32) + 1.0) / max(self.warmup, 1))

    def get_config(self):
        return {"rate": self.rate, "warmup": self.warmup}


class Diffusion(keras.Model):
    """The U-Net, its optimizer and the EMA of its weights (what samples are drawn with)."""

    def __init__(self, config: DiffusionConfig, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.net = UNet(config)
        h, w, ch = config.image_shape
        self.net(tf.zeros((1, h, w, ch)), tf.zeros((1,)), tf.zeros((1,), tf.int32))
        self.ema = [
            tf.Variable(tf.cast(v, tf.float32), trainable=False, name="ema")
            for v in self.net.trainable_variables
        ]
        self.optimizers = {"diffusion": optimizer(optimizers.Adam(WarmupConstant(config.lr, config.warmup)))}
        self.optimizers["diffusion"].build(self.net.trainable_variables)

    def v_loss(self, x0, labels, seed):
        """E ||v_hat - v||^2 for images x0 in [-1, 1] (B, H, W, C) and their labels."""
        t_seed, eps_seed, drop_seed = tf.unstack(split_seed(seed, 3))
        batch = tf.shape(x0)[0]
        t = tf.random.stateless_uniform((batch,), t_seed)
        eps = tf.random.stateless_normal(tf.shape(x0), eps_seed)
        drop = tf.random.stateless_uniform((batch,), drop_seed) < self.config.label_dropout
        labels = tf.where(drop, self.config.num_classes, tf.cast(labels, tf.int32))
        a = alpha_bar(t)[:, None, None, None]
        x_t = tf.sqrt(a) * x0 + tf.sqrt(1.0 - a) * eps
        v = tf.sqrt(a) * eps - tf.sqrt(1.0 - a) * x0
        v_hat = tf.cast(self.net(tf.cast(x_t, self.net.compute_dtype), t, labels), tf.float32)
        per_image = tf.reduce_mean((v_hat - v) ** 2, axis=[1, 2, 3])
        if self.config.min_snr > 0:
            # Min-SNR-gamma for v-prediction: the v-loss at signal-to-noise ratio SNR is weighted by
            # min(SNR, gamma) / (SNR + 1), so the nearly clean times stop dominating the gradient.
            snr = a[:, 0, 0, 0] / (1.0 - a[:, 0, 0, 0])
            per_image *= tf.minimum(snr, self.config.min_snr) / (snr + 1.0)
        return tf.reduce_mean(per_image)

    def update(self, batch, seed):
        """One step on one replica's batch: (images in [0, 1], labels)."""
        images, labels = batch
        with tf.GradientTape() as tape:
            loss = self.v_loss(images * 2.0 - 1.0, labels, seed)
            scaled = scale_loss(loss)
        variables = self.net.trainable_variables
        grads = tape.gradient(scaled, variables)
        self.optimizers["diffusion"].apply(grads, variables)
        n = tf.cast(self.optimizers["diffusion"].iterations, tf.float32)
        decay = tf.minimum(
            self.config.ema, (1.0 + n) / (10.0 + n)
        )  # short at first: early samples are not the initial weights
        for average, weight in zip(self.ema, variables):
            average.assign(decay * average + (1.0 - decay) * tf.cast(weight, tf.float32))
        return {"loss": loss}

    # -- sampling
    def predict_v(self, x, t, labels, guidance, weights):
        """v at (x, t) under the EMA weights (or the live ones), guided by `guidance`."""
        h, w, ch = self.config.image_shape
        n = tf.shape(x)[0]
        both_x = tf.concat([x, x], axis=0)
        both_t = tf.concat([t, t], axis=0)
        both_labels = tf.concat([labels, tf.fill([n], self.config.num_classes)], axis=0)
        inputs = (tf.cast(both_x, self.net.compute_dtype), both_t, both_labels)
        if weights is None:
            out = self.net(*inputs)
        else:
            non_trainable = [v.value for v in self.net.non_trainable_variables]
            trainable = [tf.cast(w_, v.dtype) for w_, v in zip(weights, self.net.trainable_variables)]
            out, _ = self.net.stateless_call(trainable, non_trainable, *inputs)
        cond, uncond = tf.split(tf.cast(out, tf.float32), 2, axis=0)
        return (1.0 + guidance) * cond - guidance * uncond

    def sample(self, labels, steps, guidance, seed, use_ema=True):
        """Images in [0, 1] for `labels` (B,), by DDIM (eta 0) in `steps` steps from pure noise
        (one tf.while_loop: the graph holds the network once, whatever the steps)."""
        labels = tf.cast(labels, tf.int32)
        n = tf.shape(labels)[0]
        h, w, ch = self.config.image_shape
        weights = [tf.convert_to_tensor(v) for v in self.ema] if use_ema else None
        steps_f = tf.cast(steps, tf.float32)

        def body(i, x):
            t = tf.fill([n], 1.0 - tf.cast(i, tf.float32) / steps_f)
            t_next = tf.fill([n], 1.0 - tf.cast(i + 1, tf.float32) / steps_f)
            a, a_next = alpha_bar(t)[:, None, None, None], alpha_bar(t_next)[:, None, None, None]
            v = self.predict_v(x, t, labels, guidance, weights)
            x0 = tf.clip_by_value(tf.sqrt(a) * x - tf.sqrt(1.0 - a) * v, -1.0, 1.0)
            eps = (x - tf.sqrt(a) * x0) / tf.sqrt(1.0 - a)
            return i + 1, tf.sqrt(a_next) * x0 + tf.sqrt(1.0 - a_next) * eps

        x = tf.random.stateless_normal((n, h, w, ch), seed)
        _, x = tf.while_loop(lambda i, _: i < steps, body, (tf.constant(0), x))
        return (tf.clip_by_value(x, -1.0, 1.0) + 1.0) / 2.0
