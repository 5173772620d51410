"""Models of the 2-d experiments: the DesIGN-style GAN of STYLEGAN.py and the conditional GAN of
CGAN.py. Every size is a constructor argument; nothing here reads flags."""

import dataclasses

import keras
import tensorflow as tf

from common import losses, optimizers
from common.distribute import scale_loss, split_seed
from common.layers import MinibatchDiscrimination

ACTIVATIONS = ("leaky_relu", "relu")
CREATIVITY_LOSSES = ("uniform", "report")


def activation_layer(name):
    """LeakyReLU(0.2) (GAN hacks, our default) or ReLU (the report's code)."""
    return keras.layers.LeakyReLU(0.2) if name == "leaky_relu" else keras.layers.ReLU()


def mlp(nhidden, nlayers, out_dim, name, activation="leaky_relu"):
    """nlayers hidden Dense layers of width nhidden with the activation, linear out."""
    layers = []
    for _ in range(nlayers):
        layers += [keras.layers.Dense(nhidden), activation_layer(activation)]
    return keras.Sequential(layers + [keras.layers.Dense(out_dim)], name=name)


class Discriminator(keras.Model):
    """MLP trunk; a real/fake head and, with num_classes > 0, a K-way class head (D_b).
    With condition_classes > 0 the one-hot label is appended to the input (CGAN).

    With pack = m > 1 (PacGAN, Lin et al. 2018) D judges m samples at once: consecutive rows
    are concatenated, one real/fake logit per pack. Seeing several samples together lets D
    notice missing diversity, the cheapest known remedy for mode collapse; the batch must be a
    multiple of m. A class head is per sample by definition (the creativity loss of one sample
    must not depend on its partner), so it cannot be combined with packing."""

    def __init__(
        self,
        nhidden,
        nlayers,
        num_classes=0,
        condition_classes=0,
        minibatch_discrimination=False,
        pack=1,
        activation="leaky_relu",
    ):
        super().__init__()
        if num_classes and pack > 1:
            raise ValueError("a class head judges one sample at a time: use pack=1 with num_classes > 0")
        self.condition_classes, self.num_classes, self.pack = condition_classes, num_classes, pack
        self.trunk = mlp(nhidden, nlayers - 1, nhidden, "trunk", activation)
        self.activation = activation_layer(activation)
        self.minibatch = MinibatchDiscrimination(kernels=16) if minibatch_discrimination else None
        self.realness = keras.layers.Dense(1, name="realness")
        self.classes = keras.layers.Dense(num_classes, name="classes") if num_classes else None

    def call(self, x, labels=None):
        if self.condition_classes:
            x = tf.concat([x, tf.one_hot(labels, self.condition_classes, dtype=x.dtype)], axis=-1)
        x = tf.reshape(x, [-1, self.pack * x.shape[-1]])  # (B / pack, pack * features)
        h = self.activation(self.trunk(x))
        if self.minibatch is not None:
            h = self.minibatch(h)
        logits = self.realness(h)[:, 0]  # (B / pack,)
        if self.classes is None:
            return logits, None
        return logits, self.classes(h)  # (B, K)


class Generator(keras.Model):
    """MLP from noise z (and, with condition_classes > 0, a one-hot label) to a 2-d point."""

    def __init__(self, nhidden, nlayers, z_dim, condition_classes=0, activation="leaky_relu"):
        super().__init__()
        self.z_dim, self.condition_classes = z_dim, condition_classes
        self.net = mlp(nhidden, nlayers, 2, "net", activation)

    def call(self, z, labels=None):
        if self.condition_classes:
            z = tf.concat([z, tf.one_hot(labels, self.condition_classes, dtype=z.dtype)], axis=-1)
        return self.net(z)


@dataclasses.dataclass(frozen=True)
class ToyGANConfig:
    nhidden: int = 64
    nlayers: int = 4
    z_dim: int = 2
    num_classes: int = 8
    lrg: float = 3e-3
    lrd: float = 9e-3
    beta1: float = 0.5
    loss: str = "gan"  # gan | wgan-gp
    use_labels: bool = False  # classification head + creativity loss (STYLEGAN --label)
    lambda_d: float = 0.5
    lambda_g: float = 0.5
    d_steps: int = 1
    gp_weight: float = 10.0
    minibatch_discrimination: bool = False
    pack: int = 1  # PacGAN: samples D judges together
    conditional: bool = False  # CGAN: G and D see the label
    decay_steps: int = 0  # > 0: cosine decay of both learning rates to 0 over this many steps
    r1_gamma: float = 0.0  # > 0: R1 penalty gamma/2 * E||grad D(x_real)||^2 (gan loss only; else an error)
    # "uniform": DesIGN's cross-entropy to the uniform distribution. "report": what the report's
    # code did (to reproduce its figure 2.2.4): G pushed towards one fixed random class per batch
    # position, and D's class head also trained on fakes with fresh random labels.
    creativity_loss: str = "uniform"
    activation: str = "leaky_relu"  # hidden activation of G and D: leaky_relu | relu (the report's code)
    adam_epsilon: float = 1e-7  # Keras' default; TF1's AdamOptimizer (the report's code) used 1e-8
    label_seed: int = 0  # seeds the report loss's fixed per-position classes
    # The report's code fed one noise batch to both the D update and the G update of an
    # iteration; by default G draws its own.
    shared_noise: bool = False


class ToyGAN(keras.Model):
    """The DesIGN-style GAN (conditional=False) and the CGAN (conditional=True) on 2-d points.

    DesIGN (Sbai et al. 2018; poster seed 000):
      L_D = L_D,real/fake + lambda_D * L_D,classif,   L_D,classif = -log softmax(D_b(x))_c
      L_G = L_G,real/fake + lambda_G * L_G,creativity, L_creativity = -sum_k 1/K log softmax(D_b(G(z)))_k
    CGAN (Mirza & Osindero 2014): D(x|y), G(z|y) with y the real batch's labels.
    """

    def __init__(self, config: ToyGANConfig):
        super().__init__()
        self.config = c = config
        if c.loss not in ("gan", "wgan-gp"):
            raise ValueError(f"unknown loss {c.loss!r}")
        if c.r1_gamma and c.loss != "gan":
            raise ValueError("r1_gamma applies to the gan loss; wgan-gp has its own gradient penalty")
        if c.creativity_loss not in CREATIVITY_LOSSES:
            raise ValueError(
                f"unknown creativity loss {c.creativity_loss!r}; choose one of {CREATIVITY_LOSSES}"
            )
        if c.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {c.activation!r}; choose one of {ACTIVATIONS}")
        heads = c.num_classes if (c.use_labels and not c.conditional) else 0
        cond = c.num_classes if c.conditional else 0
        self.generator = Generator(c.nhidden, c.nlayers, c.z_dim, cond, c.activation)
        self.discriminator = Discriminator(
            c.nhidden, c.nlayers, heads, cond, c.minibatch_discrimination, c.pack, c.activation
        )
        self.generator(tf.zeros([c.pack, c.z_dim]), tf.zeros([c.pack], tf.int32))
        self.discriminator(tf.zeros([c.pack, 2]), tf.zeros([c.pack], tf.int32))
        self.legacy_optimizer_keys = {
            "generator": "g_optimizer",
            "discriminator": "d_optimizer",
        }  # the keys of runs saved before the optimizers were renamed
        self.optimizers = {
            "generator": optimizers.Adam(
                self._learning_rate(c.lrg, 1), beta_1=c.beta1, epsilon=c.adam_epsilon
            ),
            "discriminator": optimizers.Adam(
                self._learning_rate(c.lrd, c.d_steps), beta_1=c.beta1, epsilon=c.adam_epsilon
            ),
        }
        self.optimizers["generator"].build(self.generator.trainable_variables)
        self.optimizers["discriminator"].build(self.discriminator.trainable_variables)

    def _learning_rate(self, initial, updates_per_step):
        """Constant, or cosine-decayed to 0 by the end of training: the late small steps let G
        settle on sharp modes instead of jittering around them."""
        if not self.config.decay_steps:
            return initial
        return keras.optimizers.schedules.CosineDecay(initial, self.config.decay_steps * updates_per_step)

    def sample_noise(self, n, seed):
        return tf.random.stateless_normal([n, self.config.z_dim], seed)

    def generate(self, n, seed, labels=None):
        """n generated points (and, for the CGAN, the labels they were conditioned on)."""
        return self.generator(self.sample_noise(n, seed), labels)

    def _discriminate(self, real, fake, y):
        """D on real and fake points: one pass over both halves (half the ops of two passes),
        except with minibatch discrimination, whose features must not mix real and fake."""
        if self.discriminator.minibatch is not None:
            real_logits, real_classes = self.discriminator(real, y)
            return (real_logits, real_classes, *self.discriminator(fake, y))
        logits, classes = self.discriminator(tf.concat([real, fake], 0), tf.concat([y, y], 0))
        n = tf.shape(real)[0]  # a multiple of pack, so no pack mixes real and fake
        packs = n // self.config.pack
        if classes is None:
            return logits[:packs], None, logits[packs:], None
        return logits[:packs], classes[:n], logits[packs:], classes[n:]

    def report_creativity_labels(self, n):
        """The report code's creativity targets: one random class per batch position, the same at
        every step (its numpy draw happened once, when the graph was built). Removed classes are
        among them, as there."""
        seed = tf.constant([self.config.label_seed, 2_2_4], tf.int64)
        return tf.random.stateless_uniform([n], seed, 0, self.config.num_classes, dtype=tf.int32)

    def _d_step(self, x, y, seed):
        c = self.config
        noise_seed, gp_seed = tf.unstack(split_seed(seed, 2))
        with tf.GradientTape() as tape:
            fake = self.generator(self.sample_noise(tf.shape(x)[0], noise_seed), y)
            real_logits, real_classes, fake_logits, fake_classes = self._discriminate(x, fake, y)
            out = {}

            def critic(points):
                return self.discriminator(points, y)[0]

            if c.loss == "gan":
                adversarial = losses.d_loss_gan(real_logits, fake_logits)
            else:
                out["gradient_penalty"] = losses.gradient_penalty(critic, x, fake, gp_seed)
                adversarial = (
                    losses.d_loss_wgan(real_logits, fake_logits) + c.gp_weight * out["gradient_penalty"]
                )
            if c.r1_gamma:
                out["r1_penalty"] = losses.r1_penalty(critic, x)
                adversarial += 0.5 * c.r1_gamma * out["r1_penalty"]
            d_loss = adversarial
            if real_classes is not None:  # DesIGN: D's class head learns from real samples only
                out["d_classification"] = losses.classification_loss(y, real_classes)
                d_loss += c.lambda_d * out["d_classification"]
            if real_classes is not None and c.creativity_loss == "report":
                # The report's code also classified fakes, with random labels G never saw.
                label_seed = tf.random.experimental.stateless_fold_in(
                    seed, 1
                )  # leaves the other draws as they were
                noise_labels = tf.random.stateless_uniform(
                    tf.shape(y), label_seed, 0, c.num_classes, dtype=tf.int32
                )
                out["d_classification_fake"] = losses.classification_loss(noise_labels, fake_classes)
                d_loss += c.lambda_d * out["d_classification_fake"]
            scaled = scale_loss(d_loss)  # inside the tape: ops outside it carry no gradient
        grads = tape.gradient(scaled, self.discriminator.trainable_variables)
        self.optimizers["discriminator"].apply(grads, self.discriminator.trainable_variables)
        return {"d_loss": d_loss, "d_adversarial": adversarial, **out}

    def _g_step(self, y, seed):
        c = self.config
        with tf.GradientTape() as tape:
            fake = self.generator(self.sample_noise(tf.shape(y)[0], seed), y)
            fake_logits, fake_classes = self.discriminator(fake, y)
            adversarial = (
                losses.g_loss_gan(fake_logits) if c.loss == "gan" else losses.g_loss_wgan(fake_logits)
            )
            g_loss, out = adversarial, {}
            if fake_classes is not None and c.creativity_loss == "report":
                targets = self.report_creativity_labels(tf.shape(y)[0])
                out["creativity"] = losses.classification_loss(targets, fake_classes)
                g_loss += c.lambda_g * out["creativity"]
            elif fake_classes is not None:
                out["creativity"] = losses.uniform_cross_entropy(fake_classes)
                g_loss += c.lambda_g * out["creativity"]
            scaled = scale_loss(g_loss)
        grads = tape.gradient(scaled, self.generator.trainable_variables)
        self.optimizers["generator"].apply(grads, self.generator.trainable_variables)
        return {"g_loss": g_loss, "g_adversarial": adversarial, **out}

    def update(self, batch, seed):
        x, y = batch
        seeds = split_seed(seed, self.config.d_steps + 1)
        for i in range(self.config.d_steps):  # d_steps is a Python int: unrolled when traced
            d_out = self._d_step(x, y, seeds[i])
        g_seed = split_seed(seeds[self.config.d_steps - 1], 2)[0] if self.config.shared_noise else seeds[-1]
        return {**d_out, **self._g_step(y, g_seed)}
