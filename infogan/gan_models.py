"""GAN, CGAN, ACGAN and InfoGAN as one adversarial core with small differences (report section
2.4; the GAN collection the report built on; Chen et al. 2016 for InfoGAN).

  GAN     G(z), D(x) -> real/fake logit
  CGAN    G(z, y), D(x, y): the one-hot label goes into both (tiled as image channels into D);
          in training y is the real batch's labels, so removed labels are never seen
  ACGAN   G(z, y), D(x) -> real/fake logit + K class logits; both learn to classify
  infoGAN G(z, c, u): c a 10-way categorical code, u 2 continuous codes in U(-1, 1);
          D(x) -> real/fake logit, and a Q head on D's body -> (c logits, u means); the
          information loss (cross-entropy on c + squared error on u) trains G, the Q head and
          D's shared body, as in Chen et al. and the GAN collection the report built on
          (info_trains_d=False: G and the Q head only).

The discriminator's outputs are a dict with named entries ("adv", "cls", "q_cat", "q_cont"), so
no caller picks a column by position (the reference code read the wrong column of a
concatenated output). Sizes are constructor arguments; reads no flags.
"""

import dataclasses

import keras
import tensorflow as tf

from common import losses, optimizers
from common.distribute import optimizer, scale_loss, split_seed
from infogan.gan_variants import GAN_TYPES, VARIANTS  # noqa: F401  (GAN_TYPES re-exported)


@dataclasses.dataclass(frozen=True)
class GANConfig:
    gan_type: str = "infoGAN"
    image_shape: tuple = (28, 28, 1)
    z_dim: int = 62
    num_classes: int = 10  # labels of CGAN / ACGAN
    cat_dim: int = 10  # infoGAN categorical code
    cont_dim: int = 2  # infoGAN continuous codes
    g_width: tuple = (
        1024,
        128,
        64,
    )  # FC, channels at 7x7, channels at 14x14 (vectors: 3 hidden layers of g_width[0])
    d_width: tuple = (
        64,
        128,
        1024,
    )  # channels at 14x14, at 7x7, FC (vectors: 3 hidden layers of d_width[-1])
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    lambda_info: float = 1.0  # weight of the information loss (both terms)
    lambda_cls: float = 1.0  # ACGAN classification weight
    # InfoGAN: the information loss also enters D's loss, so it trains D's shared body and the Q
    # head with D (Chen et al. 2016: min_{G,Q} max_D V(D, G) - lambda L_I(G, Q), Q sharing D's
    # layers; the GAN collection trains its q_loss over D's, Q's and G's variables). False: only
    # G and the Q head learn from it, Q with G's optimizer.
    info_trains_d: bool = True

    @property
    def variant(self):
        return VARIANTS[self.gan_type]

    @property
    def vectors(self):
        """2-d toy points (MLP networks) rather than images (convolutional networks)."""
        return len(self.image_shape) == 1

    @property
    def condition_dim(self):
        """Size of what is fed to G beside z (and to D for CGAN)."""
        return {"none": 0, "label": self.num_classes, "code": self.cat_dim + self.cont_dim}[
            self.variant.g_input
        ]


class Generator(keras.Model):
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.vectors = config.vectors
        if config.vectors:  # the toy sets: an MLP with a linear output
            self.fc = [keras.layers.Dense(config.g_width[0], activation="relu") for _ in range(3)]
            self.fc.append(keras.layers.Dense(config.image_shape[0], dtype="float32"))
            return
        h, w, channels = config.image_shape
        fc, c7, c14 = config.g_width
        self.h4, self.w4, self.c7 = h // 4, w // 4, c7
        self.fc = [
            keras.layers.Dense(fc),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.Dense(self.h4 * self.w4 * c7),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
        ]
        self.up = [
            keras.layers.Conv2DTranspose(c14, 4, strides=2, padding="same"),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.Conv2DTranspose(channels, 4, strides=2, padding="same", dtype="float32"),
        ]

    def call(self, inputs, training=False):
        x = inputs
        for layer in self.fc:
            x = layer(x, training=training)
        if self.vectors:
            return x
        x = tf.reshape(x, [-1, self.h4, self.w4, self.c7])
        for layer in self.up:
            x = layer(x, training=training)
        return tf.sigmoid(x)  # images in [0, 1], as the data


class Discriminator(keras.Model):
    """Shared body; heads by GAN type. call() returns a dict of named outputs."""

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config, self.variant = config, config.variant
        c14, c7, fc = config.d_width
        if config.vectors:
            self.body = [
                layer for _ in range(3) for layer in (keras.layers.Dense(fc), keras.layers.LeakyReLU(0.2))
            ]
        else:
            self.body = [
                keras.layers.Conv2D(c14, 4, strides=2, padding="same"),
                keras.layers.LeakyReLU(0.2),
                keras.layers.Conv2D(c7, 4, strides=2, padding="same"),
                keras.layers.BatchNormalization(),
                keras.layers.LeakyReLU(0.2),
                keras.layers.Flatten(),
                keras.layers.Dense(fc),
                keras.layers.BatchNormalization(),
                keras.layers.LeakyReLU(0.2),
            ]
        # Heads in float32: under mixed precision every loss is computed in float32.
        self.adv = keras.layers.Dense(1, dtype="float32")
        if self.variant.class_head:
            self.cls = keras.layers.Dense(config.num_classes, dtype="float32")
        if self.variant.q_head:
            self.q_body = [
                keras.layers.Dense(128),
                keras.layers.BatchNormalization(),
                keras.layers.LeakyReLU(0.2),
            ]
            self.q_cat = keras.layers.Dense(config.cat_dim, dtype="float32")
            self.q_cont = keras.layers.Dense(config.cont_dim, dtype="float32")

    def call(self, images, condition=None, training=False):
        x = images
        if self.variant.d_sees_label and self.config.vectors:
            x = tf.concat([images, condition], axis=-1)
        elif self.variant.d_sees_label:  # the label as constant image channels
            shape = tf.shape(images)
            maps = tf.tile(condition[:, None, None, :], [1, shape[1], shape[2], 1])
            x = tf.concat([images, maps], axis=-1)
        for layer in self.body:
            x = layer(x, training=training)
        out = {"adv": self.adv(x)[:, 0]}
        if self.variant.class_head:
            out["cls"] = self.cls(x)
        if self.variant.q_head:
            q = x
            for layer in self.q_body:
                q = layer(q, training=training)
            out["q_cat"] = self.q_cat(q)
            out["q_cont"] = self.q_cont(q)
        return out


class ImageGAN(keras.Model):
    """One update for every variant of gan_variants.VARIANTS (harness contract: optimizers
    dict, update(batch, seed))."""

    def __init__(self, config: GANConfig, **kwargs):
        super().__init__(**kwargs)
        if config.gan_type not in GAN_TYPES:
            raise ValueError(f"unknown gan_type {config.gan_type}; choose one of {GAN_TYPES}")
        self.config, self.variant = config, config.variant
        self.generator = Generator(config)
        self.discriminator = Discriminator(config)
        c = config
        self.generator(tf.zeros((1, c.z_dim + c.condition_dim)))
        self.discriminator(tf.zeros((1, *c.image_shape)), tf.zeros((1, c.condition_dim)))
        self.legacy_optimizer_keys = {
            "generator": "g_optimizer",
            "discriminator": "d_optimizer",
        }  # the keys of runs saved before the optimizers were renamed
        self.optimizers = {
            "generator": optimizer(optimizers.Adam(c.lr_g, beta_1=c.beta1)),
            "discriminator": optimizer(optimizers.Adam(c.lr_d, beta_1=c.beta1)),
        }
        self.optimizers["generator"].build(self.g_variables)
        self.optimizers["discriminator"].build(self.d_variables)

    @property
    def g_variables(self):
        """G's weights, and for infoGAN with info_trains_d=False also the Q head."""
        q = []
        if self.variant.q_head and not self.config.info_trains_d:
            d = self.discriminator
            q = [v for layer in (*d.q_body, d.q_cat, d.q_cont) for v in layer.trainable_variables]
        return self.generator.trainable_variables + q

    @property
    def d_variables(self):
        q = {id(v) for v in self.g_variables[len(self.generator.trainable_variables) :]}
        return [v for v in self.discriminator.trainable_variables if id(v) not in q]

    def sample_condition(self, n, seed, labels=None):
        """(condition vector fed to G, what it encodes) for n samples. CGAN/ACGAN: one-hot labels
        (given, else uniform); infoGAN: one-hot categorical code (`labels` picks it) and
        continuous codes in U(-1, 1)."""
        c, v = self.config, self.variant
        seed_cat, seed_cont = tf.unstack(split_seed(seed, 2))
        if not v.conditioned:
            return tf.zeros((n, 0)), {}
        k = c.num_classes if v.labelled else c.cat_dim
        if labels is None:
            labels = tf.random.stateless_uniform((n,), seed_cat, 0, k, dtype=tf.int32)
        onehot = tf.one_hot(labels, k)
        if v.labelled:
            return onehot, {"labels": labels}
        cont = tf.random.stateless_uniform((n, c.cont_dim), seed_cont, -1.0, 1.0)
        return tf.concat([onehot, cont], axis=1), {"labels": labels, "cont": cont}

    def generate(self, n, seed, labels=None, cont=None, training=False):
        seed_z, seed_c = tf.unstack(split_seed(seed, 2))
        z = tf.random.stateless_uniform((n, self.config.z_dim), seed_z, -1.0, 1.0)
        condition, codes = self.sample_condition(n, seed_c, labels)
        if cont is not None:  # a continuous-code sweep
            condition = tf.concat([condition[:, : self.config.cat_dim], cont], axis=1)
            codes = dict(codes, cont=cont)
        return self.generator(tf.concat([z, condition], axis=1), training=training), condition, codes

    def info_loss(self, outputs, codes):
        """Categorical cross-entropy on the code + squared error on the continuous codes (a
        fixed-variance Gaussian Q)."""
        cat = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=codes["labels"], logits=outputs["q_cat"])
        )
        cont = tf.reduce_mean(tf.reduce_sum(tf.square(outputs["q_cont"] - codes["cont"]), axis=1))
        return cat, cont

    def update(self, batch, seed):
        c, v = self.config, self.variant
        images, labels = batch
        n = tf.shape(images)[0]
        seed_d, seed_g = tf.unstack(split_seed(seed, 2))
        real_condition = tf.one_hot(labels, c.num_classes) if v.d_sees_label else None
        out = {}
        # CGAN/ACGAN condition the fakes on the real batch's labels (as the reference code), so a
        # removed label is never fed to G or D in training, only asked for afterwards.
        fake_labels = labels if v.labelled else None
        with tf.GradientTape() as tape:
            fake, condition, codes = self.generate(n, seed_d, labels=fake_labels, training=True)
            real_out = self.discriminator(images, real_condition, training=True)
            fake_out = self.discriminator(fake, condition if v.d_sees_label else None, training=True)
            d_loss = losses.d_loss_gan(real_out["adv"], fake_out["adv"])
            if v.class_head:
                cls = losses.classification_loss(labels, real_out["cls"]) + losses.classification_loss(
                    codes["labels"], fake_out["cls"]
                )
                out["d_cls"] = cls
                d_loss += c.lambda_cls * cls
            if v.q_head and c.info_trains_d:
                cat, cont = self.info_loss(fake_out, codes)
                out.update({"d_info_cat": cat, "d_info_cont": cont})
                d_loss += c.lambda_info * (cat + cont)
            scaled = scale_loss(d_loss, self.optimizers["discriminator"])
        grads = tape.gradient(scaled, self.d_variables)
        self.optimizers["discriminator"].apply(grads, self.d_variables)
        with tf.GradientTape() as tape:
            fake, condition, codes = self.generate(n, seed_g, labels=fake_labels, training=True)
            fake_out = self.discriminator(fake, condition if v.d_sees_label else None, training=True)
            g_loss = losses.g_loss_gan(fake_out["adv"])
            if v.class_head:
                g_loss += c.lambda_cls * losses.classification_loss(codes["labels"], fake_out["cls"])
            if v.q_head:
                cat, cont = self.info_loss(fake_out, codes)
                out.update({"info_cat": cat, "info_cont": cont})
                g_loss += c.lambda_info * (cat + cont)
            scaled = scale_loss(g_loss, self.optimizers["generator"])
        grads = tape.gradient(scaled, self.g_variables)
        self.optimizers["generator"].apply(grads, self.g_variables)
        return {"d_loss": d_loss, "g_loss": g_loss, **out}
