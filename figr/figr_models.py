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

With a meta-batch of B tasks (Reptile's batched form, Nichol et al. 2018: the meta-gradient is
the mean of the B tasks' meta - adapted), the B inner loops run as one: each weight carries the
tasks on a leading axis, dense layers become batched matmuls and convolutions grouped ones (the
tasks side by side in the channels: B groups, which TensorFlow reads from the filter's shape), so
every op of the inner step works on B tasks at once instead of four 32x32 images
(`stacked_call`). B = 1 runs the unbatched graph.
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
    meta_batch: int = 1  # tasks per meta-step on each replica, adapted side by side

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
        return self._block(x, lambda conv, h: conv(h))

    def stacked(self, x, params):
        """The block for several tasks at once (stacked_call's layout); params(conv) -> its
        stacked kernel and bias."""
        return self._block(x, lambda conv, h: _stacked_conv(conv, *params(conv), h))

    def _block(self, x, conv):
        if self.resample == "up":
            x = self._resize(x)
        h = conv(self.conv2, tf.nn.leaky_relu(conv(self.conv1, tf.nn.leaky_relu(x, 0.2)), 0.2))
        out = h + conv(self.shortcut, x)
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


# ----------------------------------------------------------------- several tasks' weights at once
# The tasks' activations are laid out as one image batch with the tasks side by side in the
# channels, (n, H, W, B*C), so a convolution of B tasks' kernels is one grouped convolution; dense
# layers see (B, n, features) and multiply by (B, in, out) kernels.
def _to_channels(images):
    """(B, n, H, W, C) -> (n, H, W, B*C)."""
    b, n, h, w, c = (tf.shape(images)[i] for i in range(5))
    return tf.reshape(tf.transpose(images, [1, 2, 3, 0, 4]), [n, h, w, b * c])


def _from_channels(x, tasks):
    """(n, H, W, B*C) -> (B, n, H, W, C)."""
    n, h, w = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
    return tf.transpose(tf.reshape(x, [n, h, w, tasks, -1]), [3, 0, 1, 2, 4])


def _grouped_kernel(kernel):
    """(B, k, k, a, b) -> (k, k, a, B*b): the B kernels as one grouped convolution's filter."""
    k = tf.transpose(kernel, [1, 2, 3, 0, 4])
    shape = tf.shape(k)
    return tf.reshape(k, [shape[0], shape[1], shape[2], shape[3] * shape[4]])


_GROUPED_GRADIENTS = {}  # device type -> whether its grouped convolutions have gradients


def grouped_gradients_supported():
    """Whether this device's grouped convolutions have gradients. TensorFlow's CPU kernels have
    them only through oneDNN, which it turns on by default only on CPUs with AVX-512 or AMX
    (elsewhere: "Gradients for grouped convolutions are not supported on CPU"); GPUs have them.
    Found once per device type by trying on a tiny input, outside any graph being traced."""
    device = "GPU" if tf.config.list_logical_devices("GPU") else "CPU"
    if device not in _GROUPED_GRADIENTS:
        with tf.init_scope():  # two groups of one channel: the gradient ops themselves
            x, kernel, grad = tf.ones((1, 3, 3, 2)), tf.ones((1, 1, 1, 2)), tf.ones((1, 3, 3, 2))
            common = dict(out_backprop=grad, strides=[1, 1, 1, 1], padding="VALID")
            try:
                tf.raw_ops.Conv2DBackpropInput(input_sizes=[1, 3, 3, 2], filter=kernel, **common)
                tf.raw_ops.Conv2DBackpropFilter(input=x, filter_sizes=[1, 1, 1, 2], **common)
                _GROUPED_GRADIENTS[device] = True
            except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError):
                _GROUPED_GRADIENTS[device] = False
    return _GROUPED_GRADIENTS[device]


def _conv(layer, kernel, x, groups=1):
    """Conv2D or Conv2DTranspose (no bias) of one kernel, or of `groups` kernels grouped
    (_grouped_kernel)."""
    strides, padding = layer.strides, layer.padding.upper()
    if isinstance(layer, keras.layers.Conv2DTranspose):
        # Keras' (k, k, out, in) kernels; the transposed convolution of the (grouped) convolution
        # whose input has groups * out channels.
        n, h, w = tf.shape(x)[0], tf.shape(x)[1], tf.shape(x)[2]
        shape = tf.stack([n, h * strides[0], w * strides[1], groups * tf.shape(kernel)[2]])
        return tf.nn.conv2d_transpose(x, kernel, shape, strides, padding)
    return tf.nn.conv2d(x, kernel, strides, padding)


def _stacked_conv(layer, kernel, bias, x):
    """A Conv2D or Conv2DTranspose of B tasks (kernel (B, ...), bias (B, out)) on x (n, H, W, B*C):
    one grouped convolution, or where the device has no gradients for those, B convolutions."""
    if grouped_gradients_supported():
        y = _conv(layer, _grouped_kernel(kernel), x, groups=tf.shape(kernel)[0])
    else:
        tasks = kernel.shape[0]
        parts = tf.split(x, tasks, axis=-1)
        y = tf.concat([_conv(layer, kernel[b], part) for b, part in enumerate(parts)], axis=-1)
    return layer.activation(y + tf.reshape(bias, [-1]))


def stacked_call(net, weights, x, tasks):
    """`net` (a Sequential of Dense, Conv2D, Conv2DTranspose, LeakyReLU, Reshape, Flatten and
    ResBlock layers) run for B = `tasks` tasks at once: `weights` are its trainable variables'
    values with the tasks on a leading axis; x is (B, n, ...) (a vector per example, or images);
    returns (B, n, ...). Each task's output is what `net.stateless_call` gives on its weights."""
    index = {id(v): i for i, v in enumerate(net.trainable_variables)}

    def params(layer):
        return [weights[index[id(v)]] for v in (layer.kernel, layer.bias)]

    images = x.shape.rank == 5
    h = _to_channels(x) if images else x
    for layer in net.layers:
        if isinstance(layer, keras.layers.Dense):
            kernel, bias = params(layer)
            h = layer.activation(tf.matmul(h, kernel) + bias[:, None, :])
        elif isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
            h = _stacked_conv(layer, *params(layer), h)
        elif isinstance(layer, keras.layers.LeakyReLU):
            h = tf.nn.leaky_relu(h, layer.negative_slope)
        elif isinstance(layer, keras.layers.Reshape):  # (B, n, features) -> images
            images = True
            h = _to_channels(tf.reshape(h, tf.concat([tf.shape(h)[:2], layer.target_shape], 0)))
        elif isinstance(layer, keras.layers.Flatten):  # images -> (B, n, features)
            images = False
            h = _from_channels(h, tasks)
            h = tf.reshape(h, tf.concat([tf.shape(h)[:2], [-1]], 0))
        elif isinstance(layer, ResBlock):
            h = layer.stacked(h, lambda conv: params(conv))
        else:
            raise TypeError(f"stacked_call has no rule for {type(layer).__name__} ({net.name})")
    return _from_channels(h, tasks) if images else h


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
        """z (N, z_dim) -> images (N, H, W, C) in [-1, 1]. With B tasks' stacked weights (a leading
        axis on every weight): z (B, N, z_dim) -> (B, N, H, W, C)."""
        if z.shape.rank == 3:
            return stacked_call(self.generator, g_weights, z, tf.shape(z)[0])
        images, _ = self.generator.stateless_call(g_weights, [], z, training=True)
        return images

    def critic_with(self, d_weights, images):
        """(N, H, W, C) -> logits (N,); with stacked weights, (B, N, H, W, C) -> (B, N)."""
        if images.shape.rank == 5:
            return stacked_call(self.discriminator, d_weights, images, tf.shape(images)[0])[..., 0]
        logits, _ = self.discriminator.stateless_call(d_weights, [], images, training=True)
        return logits[:, 0]

    def meta_weights(self):
        return (
            [tf.convert_to_tensor(v) for v in self.generator.trainable_variables],
            [tf.convert_to_tensor(v) for v in self.discriminator.trainable_variables],
        )

    @staticmethod
    def for_tasks(weights, tasks):
        """One network's weights as `tasks` tasks' stacked weights, each task starting from them."""
        return [tf.repeat(w[None], tasks, axis=0) for w in weights]

    def _noise(self, examples, seed):
        """z for `examples` = n (one task) or [B, n] (stacked tasks)."""
        shape = tf.concat([tf.reshape(tf.cast(examples, tf.int32), [-1]), [self.config.z_dim]], 0)
        return tf.random.stateless_normal(shape, seed)

    # -- the losses of one inner step
    def d_loss(self, d_weights, g_weights, real, seed):
        """real: (n, H, W, C) in [-1, 1], one task, n fakes of fresh noise. Or (B, n, H, W, C) with
        B tasks' stacked weights: the sum of the B tasks' losses (each the mean over its own
        examples, as one task's), so each task's weights get exactly their own task's gradient."""
        z_seed, gp_seed = tf.unstack(split_seed(seed, 2))
        shape = tf.shape(real)
        fake = self.generate_with(g_weights, self._noise(shape[:-3], z_seed))
        critic = lambda x: self.critic_with(d_weights, x)  # noqa: E731
        tasks = None
        if real.shape.rank == 5:  # the tasks' examples as one batch of B*n: its mean is the tasks' mean
            tasks = tf.cast(shape[0], tf.float32)
            critic = lambda x: tf.reshape(self.critic_with(d_weights, tf.reshape(x, shape)), [-1])  # noqa: E731
            real, fake = (tf.reshape(x, tf.concat([[-1], shape[-3:]], 0)) for x in (real, fake))
        real_scores, fake_scores = critic(real), critic(fake)
        if self.config.loss == "dcgan":  # the report's variant: logits with a sigmoid cross-entropy
            loss = losses.d_loss_gan(real_scores, fake_scores)
            if self.config.r1_gamma > 0:  # keeps D flat on the data: G stops collapsing (README)
                loss += 0.5 * self.config.r1_gamma * losses.r1_penalty(critic, real)
        else:  # FIGR's loss, with the penalty's norm per example (the original took it per pixel)
            loss = losses.d_loss_wgan(
                real_scores, fake_scores
            ) + self.config.gp_weight * losses.gradient_penalty(critic, real, fake, gp_seed)
        return loss if tasks is None else loss * tasks

    def g_loss(self, g_weights, d_weights, n, seed):
        """n fakes of one task (n a scalar), or with stacked weights [B, n]: the sum of the B tasks'
        losses."""
        z = self._noise(n, seed)
        fake_scores = self.critic_with(d_weights, self.generate_with(g_weights, z))
        loss_fn = losses.g_loss_gan if self.config.loss == "dcgan" else losses.g_loss_wgan
        if z.shape.rank == 2:
            return loss_fn(fake_scores)
        return loss_fn(tf.reshape(fake_scores, [-1])) * tf.cast(tf.shape(z)[0], tf.float32)

    def adapt(self, real, steps, seed, weights=None):
        """Lines 4-16 of Algorithm 1 (and 1-13 of Algorithm 2): `steps` alternating inner steps
        on D then G, on copies of the meta-weights (or of `weights` = (g, d) lists of tensors),
        for the task's images `real` (n, H, W, C) in [-1, 1] — or for B tasks at once, real
        (B, n, H, W, C): then the returned weights have the tasks on a leading axis and the losses
        are the tasks' mean. Returns (g_weights, d_weights, last D loss, last G loss). The inner
        optimizer starts afresh for every task."""
        g_weights, d_weights = weights if weights is not None else self.meta_weights()
        config = self.config
        examples = tf.shape(real)[:-3]  # [n], or [B, n]
        n = examples[0] if real.shape.rank == 4 else examples
        if real.shape.rank == 5:  # every task starts from the same weights
            g_weights, d_weights = (
                self.for_tasks(g_weights, examples[0]),
                self.for_tasks(d_weights, examples[0]),
            )
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
        if real.shape.rank == 5:  # the sums of the tasks' losses -> their mean
            tasks = tf.cast(examples[0], tf.float32)
            d_loss, g_loss = d_loss / tasks, g_loss / tasks
        return g_state[0], d_state[0], d_loss, g_loss

    def meta_step(self, g_adapted, d_adapted):
        """Lines 17-20: the gradient of each meta-parameter is (meta - adapted), averaged over the
        replicas (Keras sums gradients across replicas) and, with a meta-batch, over the tasks
        (adapted weights with the tasks on a leading axis), then one Adam step."""
        replicas = tf.cast(tf.distribute.get_strategy().num_replicas_in_sync, tf.float32)
        batched = self.config.meta_batch > 1
        for name, net, adapted in (
            ("generator", self.generator, g_adapted),
            ("discriminator", self.discriminator, d_adapted),
        ):
            variables = net.trainable_variables
            if batched:
                adapted = [tf.reduce_mean(a, axis=0) for a in adapted]
            grads = [(tf.convert_to_tensor(v) - a) / replicas for v, a in zip(variables, adapted)]
            self.optimizers[name].apply_gradients(zip(grads, variables))

    def update(self, batch, seed):
        """One meta-iteration on this replica's tasks. batch: (meta_batch, n, H, W, C) in [0, 1]."""
        real = batch * 2.0 - 1.0
        if self.config.meta_batch == 1:
            real = real[0]
        elif batch.shape[0] != self.config.meta_batch:
            raise ValueError(
                f"a batch of {batch.shape[0]} tasks for a meta-batch of {self.config.meta_batch}"
            )
        g_adapted, d_adapted, d_loss, g_loss = self.adapt(real, self.config.inner_steps, seed)
        g_meta, _ = self.meta_weights()
        if self.config.meta_batch == 1:
            shift = tf.sqrt(tf.add_n([tf.reduce_sum((m - a) ** 2) for m, a in zip(g_meta, g_adapted)]))
        else:  # each task's distance from the meta-weights, averaged
            squares = [
                tf.reduce_sum(tf.reshape((m[None] - a) ** 2, [tf.shape(a)[0], -1]), 1)
                for m, a in zip(g_meta, g_adapted)
            ]
            shift = tf.reduce_mean(tf.sqrt(tf.add_n(squares)))
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
