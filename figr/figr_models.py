"""FIGR: a GAN meta-trained with Reptile for few-shot image generation (Clouâtre & Demers 2019,
summarised in the poster seeds/000, Algorithms 1 and 2; report section 2.6).

Meta-training (Algorithm 1), one meta-iteration per task:
    W_d, W_g <- copies of the meta-weights Phi_d, Phi_g
    K times: an SGD step on W_d (real: the task's n images, fake: n images of G(z; W_g)),
             then an SGD step on W_g
    gradient of Phi := Phi - W (for D and G), one Adam step on Phi
Generation (Algorithm 2) is the same inner loop from the meta-weights on the shots of an unseen
class, then G(z; W_g).

The inner loop is written functionally: the adapted weights are tensors carried through one
tf.while_loop and the networks are run on them with `stateless_call`, so the whole inner loop is
one graph inside the training step (no Python per inner step) and, under a tf.distribute
strategy, each replica adapts to its own task without touching the mirrored meta-variables.
Sizes are constructor arguments; reads no flags.
"""

import dataclasses

import keras
import tensorflow as tf

from common import losses, optimizers
from common.distribute import split_seed

LOSSES = ("dcgan", "wgan-gp")
NETWORKS = ("dcgan", "resnet")
META_OPTIMIZERS = ("adam", "sgd")


@dataclasses.dataclass(frozen=True)
class FIGRConfig:
    image_size: int = 32  # a multiple of 8
    channels: int = 1
    z_dim: int = 100
    network: str = "dcgan"
    width: int = 64  # channels of D's first / G's last block; doubled twice towards 4x4
    loss: str = "dcgan"
    gp_weight: float = 10.0  # lambda of WGAN-GP
    r1_gamma: float = 10.0  # dcgan loss: + gamma/2 E||grad D(x_real)||^2 (Mescheder et al. 2018)
    inner_steps: int = 10
    # Adam (Reptile's option), started afresh per task, or FIGR's SGD: at lr 1e-3 SGD moves the
    # weights ~100x less in 10 steps and the adapted G stays a generic digit generator (README).
    inner_optimizer: str = "adam"
    inner_lr: float = 1e-3
    inner_beta1: float = 0.0  # inner Adam's beta1, 0 as Reptile's (beta2 0.99)
    meta_optimizer: str = "adam"  # FIGR's; "sgd" is Reptile's serial phi <- phi + meta_lr (W - phi)
    meta_lr: float = 1e-4
    meta_beta1: float = 0.5  # DCGAN's Adam setting: with 0.9 (Adam's default) G collapsed to dots

    @property
    def image_shape(self):
        return (self.image_size, self.image_size, self.channels)


# ----------------------------------------------------------------------------------- networks
def _dcgan_generator(config):
    s, w = config.image_size // 8, config.width
    return keras.Sequential(
        [
            keras.Input((config.z_dim,)),
            keras.layers.Dense(s * s * 4 * w),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Reshape((s, s, 4 * w)),  # (s, s, 4w): 4x4 at 32x32
            keras.layers.Conv2DTranspose(2 * w, 4, strides=2, padding="same"),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Conv2DTranspose(w, 4, strides=2, padding="same"),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Conv2DTranspose(config.channels, 4, strides=2, padding="same", activation="tanh"),
        ],
        name="generator",
    )


def _dcgan_discriminator(config):
    w = config.width
    return keras.Sequential(
        [
            keras.Input(config.image_shape),
            keras.layers.Conv2D(w, 4, strides=2, padding="same"),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Conv2D(2 * w, 4, strides=2, padding="same"),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Conv2D(4 * w, 4, strides=2, padding="same"),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ],
        name="discriminator",
    )


class ResBlock(keras.layers.Layer):
    """Pre-activation residual block (FIGR's networks are residual): LReLU-conv3-LReLU-conv3 plus
    a 1x1 shortcut; `resample` 'up' (nearest x2 before) or 'down' (average pool /2 after). No
    normalisation: batch statistics of 4 images mean little, and WGAN-GP forbids them in D."""

    def __init__(self, channels, resample, **kwargs):
        super().__init__(**kwargs)
        self.resample = resample
        self.conv1 = keras.layers.Conv2D(channels, 3, padding="same")
        self.conv2 = keras.layers.Conv2D(channels, 3, padding="same")
        self.shortcut = keras.layers.Conv2D(channels, 1)

    def _resize(self, x):
        if self.resample == "up":
            return tf.repeat(tf.repeat(x, 2, axis=1), 2, axis=2)
        return tf.nn.avg_pool2d(x, 2, 2, "VALID")

    def call(self, x):
        if self.resample == "up":
            x = self._resize(x)
        h = self.conv2(tf.nn.leaky_relu(self.conv1(tf.nn.leaky_relu(x, 0.2)), 0.2))
        out = h + self.shortcut(x)
        return out if self.resample == "up" else self._resize(out)


def _resnet_generator(config):
    s, w = config.image_size // 8, config.width
    return keras.Sequential(
        [
            keras.Input((config.z_dim,)),
            keras.layers.Dense(s * s * 4 * w),
            keras.layers.Reshape((s, s, 4 * w)),
            ResBlock(4 * w, "up"),
            ResBlock(2 * w, "up"),
            ResBlock(w, "up"),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Conv2D(config.channels, 3, padding="same", activation="tanh"),
        ],
        name="generator",
    )


def _resnet_discriminator(config):
    w = config.width
    return keras.Sequential(
        [
            keras.Input(config.image_shape),
            ResBlock(w, "down"),
            ResBlock(2 * w, "down"),
            ResBlock(4 * w, "down"),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ],
        name="discriminator",
    )


def build_networks(config):
    if config.network == "dcgan":
        return _dcgan_generator(config), _dcgan_discriminator(config)
    if config.network == "resnet":
        return _resnet_generator(config), _resnet_discriminator(config)
    raise ValueError(f"unknown network '{config.network}'; choose one of {', '.join(NETWORKS)}")


# ---------------------------------------------------------------------------------- the model
class FIGR(keras.Model):
    """Meta-weights of G and D (Keras variables, trained by Adam with the Reptile gradient) and
    the functional inner loop that adapts copies of them to one task."""

    def __init__(self, config: FIGRConfig, **kwargs):
        super().__init__(**kwargs)
        if config.loss not in LOSSES:
            raise ValueError(f"unknown loss '{config.loss}'; choose one of {', '.join(LOSSES)}")
        self.config = config
        self.generator, self.discriminator = build_networks(config)
        for net in (self.generator, self.discriminator):
            # The inner loop carries only trainable weights; a BatchNorm would break that silently.
            assert not net.non_trainable_variables, f"{net.name} has non-trainable state"
        if config.inner_optimizer not in META_OPTIMIZERS:
            raise ValueError(
                f"unknown inner optimizer '{config.inner_optimizer}'; choose one of "
                f"{', '.join(META_OPTIMIZERS)}"
            )
        if config.meta_optimizer not in META_OPTIMIZERS:
            raise ValueError(
                f"unknown meta-optimizer '{config.meta_optimizer}'; choose one of "
                f"{', '.join(META_OPTIMIZERS)}"
            )

        def meta_optimizer():
            if config.meta_optimizer == "sgd":
                return keras.optimizers.SGD(config.meta_lr)
            return optimizers.Adam(config.meta_lr, beta_1=config.meta_beta1)

        self.legacy_optimizer_keys = {
            "generator": "meta_g",
            "discriminator": "meta_d",
        }  # the keys of runs saved before the optimizers were renamed
        self.optimizers = {"generator": meta_optimizer(), "discriminator": meta_optimizer()}
        self.optimizers["generator"].build(self.generator.trainable_variables)
        self.optimizers["discriminator"].build(self.discriminator.trainable_variables)

    # -- networks on given weights
    def generate_with(self, g_weights, z):
        images, _ = self.generator.stateless_call(g_weights, [], z, training=True)
        return images  # (N, H, W, C) in [-1, 1]

    def critic_with(self, d_weights, images):
        logits, _ = self.discriminator.stateless_call(d_weights, [], images, training=True)
        return logits[:, 0]

    def meta_weights(self):
        return (
            [tf.convert_to_tensor(v) for v in self.generator.trainable_variables],
            [tf.convert_to_tensor(v) for v in self.discriminator.trainable_variables],
        )

    # -- the losses of one inner step
    def d_loss(self, d_weights, g_weights, real, seed):
        """real: (n, H, W, C) in [-1, 1]; n fakes of fresh noise."""
        z_seed, gp_seed = tf.unstack(split_seed(seed, 2))
        fake = self.generate_with(
            g_weights, tf.random.stateless_normal((tf.shape(real)[0], self.config.z_dim), z_seed)
        )
        real_scores, fake_scores = self.critic_with(d_weights, real), self.critic_with(d_weights, fake)
        critic = lambda x: self.critic_with(d_weights, x)  # noqa: E731
        if self.config.loss == "dcgan":  # the report's variant: logits with a sigmoid cross-entropy
            loss = losses.d_loss_gan(real_scores, fake_scores)
            if self.config.r1_gamma > 0:  # keeps D flat on the data: G stops collapsing (README)
                loss += 0.5 * self.config.r1_gamma * losses.r1_penalty(critic, real)
            return loss
        # FIGR's loss, with the penalty's norm per example (the original took it per pixel)
        return losses.d_loss_wgan(real_scores, fake_scores) + self.config.gp_weight * losses.gradient_penalty(
            critic, real, fake, gp_seed
        )

    def g_loss(self, g_weights, d_weights, n, seed):
        fake_scores = self.critic_with(
            d_weights, self.generate_with(g_weights, tf.random.stateless_normal((n, self.config.z_dim), seed))
        )
        return (
            losses.g_loss_gan(fake_scores) if self.config.loss == "dcgan" else losses.g_loss_wgan(fake_scores)
        )

    def adapt(self, real, steps, seed, weights=None):
        """Lines 4-16 of Algorithm 1 (and 1-13 of Algorithm 2): `steps` alternating inner steps
        on D then G, on copies of the meta-weights (or of `weights` = (g, d) lists of tensors),
        for the task's images `real` in [-1, 1]. Returns (g_weights, d_weights, last D loss,
        last G loss). The inner optimizer starts afresh for every task."""
        g_weights, d_weights = weights if weights is not None else self.meta_weights()
        n, config = tf.shape(real)[0], self.config
        adam = config.inner_optimizer == "adam"

        def step(state, t, loss_fn):
            """One SGD or Adam step; state = (params, first moments, second moments)."""
            params, m, v = state
            with tf.GradientTape() as tape:
                tape.watch(params)
                loss = loss_fn(params)
            grads = tape.gradient(loss, params)
            if not adam:
                return ([p - config.inner_lr * g for p, g in zip(params, grads)], m, v), loss
            b1, b2 = config.inner_beta1, 0.99
            m = [b1 * a + (1 - b1) * g for a, g in zip(m, grads)]
            v = [b2 * a + (1 - b2) * g * g for a, g in zip(v, grads)]
            t = tf.cast(t + 1, tf.float32)
            rate = config.inner_lr * tf.sqrt(1 - b2**t) / (1 - b1**t)
            return ([p - rate * a / (tf.sqrt(b) + 1e-8) for p, a, b in zip(params, m, v)], m, v), loss

        def body(i, g_state, d_state, d_loss, g_loss):
            d_seed, g_seed = tf.unstack(split_seed(tf.random.experimental.stateless_fold_in(seed, i), 2))
            d_state, d_loss = step(d_state, i, lambda w: self.d_loss(w, g_state[0], real, d_seed))
            g_state, g_loss = step(g_state, i, lambda w: self.g_loss(w, d_state[0], n, g_seed))
            return i + 1, g_state, d_state, d_loss, g_loss

        def fresh(params):
            moments = [tf.zeros_like(p) for p in params] if adam else []
            return (params, moments, list(moments))

        zero = tf.constant(0.0)
        _, g_state, d_state, d_loss, g_loss = tf.while_loop(
            lambda i, *_: i < steps, body, (tf.constant(0), fresh(g_weights), fresh(d_weights), zero, zero)
        )
        return g_state[0], d_state[0], d_loss, g_loss

    def meta_step(self, g_adapted, d_adapted):
        """Lines 17-20: the gradient of each meta-parameter is (meta - adapted), averaged over the
        replicas (Keras sums gradients across replicas), then one Adam step."""
        replicas = tf.cast(tf.distribute.get_strategy().num_replicas_in_sync, tf.float32)
        for name, net, adapted in (
            ("generator", self.generator, g_adapted),
            ("discriminator", self.discriminator, d_adapted),
        ):
            variables = net.trainable_variables
            grads = [(tf.convert_to_tensor(v) - a) / replicas for v, a in zip(variables, adapted)]
            self.optimizers[name].apply_gradients(zip(grads, variables))

    def update(self, batch, seed):
        """One meta-iteration on this replica's task. batch: (1, n, H, W, C) in [0, 1]."""
        real = batch[0] * 2.0 - 1.0
        g_adapted, d_adapted, d_loss, g_loss = self.adapt(real, self.config.inner_steps, seed)
        g_meta, _ = self.meta_weights()
        shift = tf.sqrt(tf.add_n([tf.reduce_sum((m - a) ** 2) for m, a in zip(g_meta, g_adapted)]))
        self.meta_step(g_adapted, d_adapted)
        return {"d_loss": d_loss, "g_loss": g_loss, "g_adaptation_shift": shift}

    # -- generation (Algorithm 2)
    def few_shot(self, shots, steps, num_samples, seed):
        """Adapts to `shots` (n, H, W, C) in [0, 1] for `steps` inner steps, then generates
        num_samples images in [0, 1]. steps = 0: the meta-generator itself."""
        adapt_seed, z_seed = tf.unstack(split_seed(seed, 2))
        g_weights, _, _, _ = self.adapt(shots * 2.0 - 1.0, steps, adapt_seed)
        z = tf.random.stateless_normal((num_samples, self.config.z_dim), z_seed)
        return (self.generate_with(g_weights, z) + 1.0) / 2.0
