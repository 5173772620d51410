"""FIGR's networks, inner loop, Reptile meta-step and per-example gradient penalty, checked
against hand computations on tiny networks."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from common import losses
from common.distribute import replica_seed, split_seed
from figr import figr_models
from figr.figr_models import FIGR, FIGRConfig
from tests.conftest import two_cpu_mirrored_strategy

TINY = FIGRConfig(image_size=16, z_dim=8, width=4, inner_steps=3, inner_lr=0.05)
SEED = tf.constant([3, 4], tf.int64)


def tiny(**changes):
    tf.keras.utils.set_random_seed(0)
    return FIGR(dataclasses.replace(TINY, **changes))


def task(n=4, seed=0):
    return tf.constant(np.random.default_rng(seed).uniform(size=(1, n, 16, 16, 1)), tf.float32)


def values(variables):
    return [v.numpy() for v in variables]


@pytest.mark.parametrize("network", ["dcgan", "resnet"])
def test_networks_shapes_and_range(network):
    model = tiny(network=network)
    images = model.generate_with(model.meta_weights()[0], tf.random.normal((3, 8)))
    assert images.shape == (3, 16, 16, 1)
    assert float(tf.reduce_max(tf.abs(images))) <= 1.0
    assert model.critic_with(model.meta_weights()[1], images).shape == (3,)
    few = model.few_shot(task()[0], tf.constant(2), 5, SEED)
    assert (
        few.shape == (5, 16, 16, 1) and 0.0 <= float(tf.reduce_min(few)) and float(tf.reduce_max(few)) <= 1.0
    )


def test_zero_inner_steps_leave_the_weights():
    model = tiny()
    g, d, _, _ = model.adapt(task()[0] * 2 - 1, tf.constant(0), SEED)
    for a, b in zip(
        g + d, values(model.generator.trainable_variables + model.discriminator.trainable_variables)
    ):
        np.testing.assert_array_equal(np.array(a), b)


def sgd_update(w, grad):
    return w - TINY.inner_lr * grad


def adam_update(w, grad):
    """Adam's first step from zero moments, beta1 0, beta2 0.99: lr * g * 0.1 / (0.1 |g| + 1e-8)."""
    return w - TINY.inner_lr * np.sqrt(0.01) * grad / (np.sqrt(0.01 * grad * grad) + 1e-8)


@pytest.mark.parametrize("optimizer, update", [("sgd", sgd_update), ("adam", adam_update)])
def test_one_inner_step_is_a_step_on_d_then_on_g(optimizer, update):
    """Algorithm 1 lines 9-15 by hand: D steps on its loss, then G steps against the new D."""
    model = tiny(inner_optimizer=optimizer)
    real = task()[0] * 2 - 1
    g0, d0 = model.meta_weights()
    d_seed, g_seed = tf.unstack(split_seed(tf.random.experimental.stateless_fold_in(SEED, 0), 2))
    with tf.GradientTape() as tape:
        tape.watch(d0)
        d_loss = model.d_loss(d0, g0, real, d_seed)
    d1 = [update(w, grad) for w, grad in zip(d0, tape.gradient(d_loss, d0))]
    with tf.GradientTape() as tape:
        tape.watch(g0)
        g_loss = model.g_loss(g0, d1, 4, g_seed)
    g1 = [update(w, grad) for w, grad in zip(g0, tape.gradient(g_loss, g0))]
    g, d, last_d, last_g = model.adapt(real, tf.constant(1), SEED)
    # Adam's step is ~lr * sign(g): where |g| is near its epsilon, float32 round-off in g moves it
    # by a little, so its tolerance is 1/200 of the step (a wrong update is off by the whole step).
    atol = 1e-7 if optimizer == "sgd" else TINY.inner_lr / 200
    for got, want in zip(g + d, g1 + d1):
        np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-5, atol=atol)
    assert float(last_d) == pytest.approx(float(d_loss), rel=1e-5)
    assert float(last_g) == pytest.approx(float(g_loss), rel=1e-5)


def test_reptile_sgd_moves_meta_weights_by_the_fraction_epsilon():
    """Reptile's serial update phi <- phi + eps (W - phi): with SGD(lr = eps) on the gradient
    phi - W every meta-weight covers exactly eps of the way to its adapted value."""
    eps = 0.25
    model = tiny(meta_optimizer="sgd", meta_lr=eps)
    batch = task()
    before = values(model.generator.trainable_variables + model.discriminator.trainable_variables)
    g, d, _, _ = model.adapt(batch[0] * 2 - 1, tf.constant(TINY.inner_steps), SEED)
    adapted = [np.array(a) for a in g + d]
    model.update(batch, SEED)
    after = values(model.generator.trainable_variables + model.discriminator.trainable_variables)
    moved = 0
    for b, a, w in zip(before, after, adapted):
        np.testing.assert_allclose(a, b + eps * (w - b), rtol=1e-5, atol=1e-7)
        moved += int(np.any(np.abs(w - b) > 1e-6))
    assert moved == len(before)  # every tensor adapted (and so moved): not a vacuous check


def test_a_meta_batch_moves_the_meta_weights_towards_the_tasks_mean():
    """Reptile's batched form: phi <- phi + eps (mean_b W_b - phi) over the meta-batch's B tasks,
    each adapted from phi on its own images (the tasks' adapted weights differ)."""
    eps = 0.25
    model = tiny(meta_optimizer="sgd", meta_lr=eps, meta_batch=3)
    batch = tf.concat([task(seed=s) for s in range(3)], 0)  # (3, 4, 16, 16, 1)
    before = values(model.generator.trainable_variables + model.discriminator.trainable_variables)
    g, d, _, _ = model.adapt(batch * 2 - 1, tf.constant(TINY.inner_steps), SEED)
    adapted = [np.array(a) for a in g + d]
    assert all(a.shape == (3, *b.shape) for a, b in zip(adapted, before))
    assert all(np.abs(a[0] - a[1]).max() > 1e-6 for a in adapted)
    losses_ = model.update(batch, SEED)
    after = values(model.generator.trainable_variables + model.discriminator.trainable_variables)
    for b, a, w in zip(before, after, adapted):
        np.testing.assert_allclose(a, b + eps * (w.mean(0) - b), rtol=1e-5, atol=1e-6)
    assert np.isfinite([float(v) for v in losses_.values()]).all()
    with pytest.raises(ValueError, match="a batch of 1 tasks for a meta-batch of 3"):
        model.update(task(), SEED)


def test_reptile_adam_step_follows_the_reptile_gradient():
    """Algorithm 1 lines 17-20: gradient := meta - adapted, one Adam step. Adam's first step
    moves each weight by lr * g sqrt(1-b2) / (|g| sqrt(1-b2) + eps) towards the adapted value."""
    model = tiny()
    batch = task(seed=1)
    before = values(model.generator.trainable_variables)
    g, _, _, _ = model.adapt(batch[0] * 2 - 1, tf.constant(TINY.inner_steps), SEED)
    model.update(batch, SEED)
    after = values(model.generator.trainable_variables)
    opt = model.optimizers["generator"]
    root = np.sqrt(1 - float(opt.beta_2))
    for b, a, w in zip(before, after, g):
        grad = b - np.array(w)
        step = TINY.meta_lr * grad * root / (np.abs(grad) * root + float(opt.epsilon))
        np.testing.assert_allclose(a, b - step, rtol=1e-4, atol=1e-9)
    assert any(np.abs(a - b).max() > 0.5 * TINY.meta_lr for a, b in zip(after, before))


def test_wgan_gp_penalty_is_per_example():
    """FIGR's D loss with wgan-gp = E[D(fake)] - E[D(real)] + 10 E[(||grad D(x_hat)||_2 - 1)^2],
    the norm taken over all of one example's pixels (the original code took it per pixel)."""
    model = tiny(loss="wgan-gp")
    g, d = model.meta_weights()
    real = task()[0] * 2 - 1
    z_seed, gp_seed = tf.unstack(split_seed(SEED, 2))
    fake = model.generate_with(g, tf.random.stateless_normal((4, 8), z_seed))
    eps = tf.random.stateless_uniform([4, 1, 1, 1], gp_seed)
    x_hat = eps * real + (1 - eps) * fake
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        scores = model.critic_with(d, x_hat)
    grads = np.array(tape.gradient(scores, x_hat)).reshape(4, -1)
    per_example = np.mean((np.linalg.norm(grads, axis=1) - 1) ** 2)
    per_pixel = np.mean((np.abs(grads) - 1) ** 2)
    wasserstein = float(
        tf.reduce_mean(model.critic_with(d, fake)) - tf.reduce_mean(model.critic_with(d, real))
    )
    got = float(model.d_loss(d, g, real, SEED))
    assert got == pytest.approx(wasserstein + 10 * per_example, rel=1e-4)
    assert abs(got - (wasserstein + 10 * per_pixel)) > 1e-2  # the two readings differ here


def test_gradient_penalty_on_a_linear_critic():
    """D(x) = <w, x> has gradient w everywhere: the per-example norm is ||w||, so ||w|| = 1 gives
    no penalty although no single pixel's gradient is 1."""
    w = tf.constant(np.full((2, 2, 1), 0.5), tf.float32)  # ||w|| = 1
    critic = lambda x: tf.reduce_sum(x * w, axis=[1, 2, 3])  # noqa: E731
    real, fake = tf.random.normal((3, 2, 2, 1)), tf.random.normal((3, 2, 2, 1))
    assert float(losses.gradient_penalty(critic, real, fake, SEED)) == pytest.approx(0.0, abs=1e-6)
    critic2 = lambda x: 3.0 * critic(x)  # noqa: E731  ||grad|| = 3: penalty (3 - 1)^2
    assert float(losses.gradient_penalty(critic2, real, fake, SEED)) == pytest.approx(4.0, rel=1e-5)


def test_mirrored_meta_step_averages_the_replicas_tasks():
    """Under MirroredStrategy each replica adapts to its own task; the meta-step uses the mean of
    their Reptile gradients: with SGD(lr 1) the new meta-weights are the mean adapted weights."""
    strategy = two_cpu_mirrored_strategy()
    with strategy.scope():
        model = tiny(meta_optimizer="sgd", meta_lr=1.0)
    batches = [task(seed=10), task(seed=11)]
    seeds = [replica_seed(SEED, r) for r in range(2)]
    adapted = [
        [np.array(a) for a in model.adapt(b[0] * 2 - 1, tf.constant(TINY.inner_steps), s)[0]]
        for b, s in zip(batches, seeds)
    ]
    batch = strategy.experimental_distribute_values_from_function(
        lambda ctx: batches[ctx.replica_id_in_sync_group]
    )
    seed = strategy.experimental_distribute_values_from_function(
        lambda ctx: seeds[ctx.replica_id_in_sync_group]
    )
    strategy.run(tf.function(model.update, autograph=False), args=(batch, seed))
    for v, a0, a1 in zip(model.generator.trainable_variables, *adapted):
        np.testing.assert_allclose(v.numpy(), (a0 + a1) / 2, rtol=1e-4, atol=1e-6)
    assert max(np.abs(x - y).max() for x, y in zip(*adapted)) > 1e-4  # the two tasks adapted differently


def stacked(weight_sets):
    """B tasks' weight lists -> one list of weights with the tasks on a leading axis."""
    return [tf.stack(ws) for ws in zip(*weight_sets)]


def perturbed(weights, seed):
    rng = np.random.default_rng(seed)
    return [w + tf.constant(rng.normal(0, 0.05, w.shape), tf.float32) for w in weights]


@pytest.mark.parametrize("per_task", [False, True], ids=["this-machine", "per-task-convolutions"])
@pytest.mark.parametrize("network", ["dcgan", "resnet"])
def test_stacked_networks_compute_each_task_on_its_own_weights(network, per_task, monkeypatch):
    """A meta-batch runs B tasks' networks as one (grouped convolutions, batched matmuls): each
    task's images and logits are those of its own weights run alone. Where a device has no
    gradients for grouped convolutions (TensorFlow's CPU kernels without oneDNN, where a grouped
    transposed convolution does not even run) it runs one convolution per task: `per_task` takes
    that path on every machine, the other case whichever path this machine takes."""
    if per_task:
        monkeypatch.setattr(figr_models, "grouped_gradients_supported", lambda: False)
    model = tiny(network=network)
    g_meta, d_meta = model.meta_weights()
    g_sets, d_sets = [perturbed(g_meta, b) for b in range(3)], [perturbed(d_meta, 10 + b) for b in range(3)]
    z = tf.random.normal((3, 5, 8), seed=1)
    images = model.generate_with(stacked(g_sets), z)
    logits = model.critic_with(stacked(d_sets), images)
    assert images.shape == (3, 5, 16, 16, 1) and logits.shape == (3, 5)
    for b in range(3):
        alone = model.generate_with(g_sets[b], z[b])
        np.testing.assert_allclose(images[b], alone, atol=1e-5)
        np.testing.assert_allclose(logits[b], model.critic_with(d_sets[b], alone), rtol=1e-4, atol=1e-5)


def test_stacked_losses_are_the_tasks_losses_with_their_own_gradients():
    """The meta-batch's D loss (R1 included: per-example input gradients) and G loss are the sums
    of the tasks' own losses, and each task's weights get exactly its own task's gradient."""
    model = tiny(meta_batch=3)
    g_meta, d_meta = model.meta_weights()
    g_sets, d_sets = [perturbed(g_meta, b) for b in range(3)], [perturbed(d_meta, 10 + b) for b in range(3)]
    real = tf.constant(np.random.default_rng(2).uniform(-1, 1, (3, 4, 16, 16, 1)), tf.float32)
    z = tf.random.normal((3, 4, 8), seed=3)
    noise = {"z": z}
    model._noise = lambda examples, seed: noise["z"]  # the same noise for the batch and each task alone
    seed = tf.constant([5, 6], tf.int64)

    def loss_and_grads(fn, weights):
        with tf.GradientTape() as tape:
            tape.watch(weights)
            loss = fn(weights)
        return float(loss), tape.gradient(loss, weights)

    d_sum, d_grads = loss_and_grads(lambda w: model.d_loss(w, stacked(g_sets), real, seed), stacked(d_sets))
    g_sum, g_grads = loss_and_grads(
        lambda w: model.g_loss(w, stacked(d_sets), tf.constant([3, 4]), seed), stacked(g_sets)
    )
    d_alone, g_alone = 0.0, 0.0
    for b in range(3):
        noise["z"] = z[b]
        loss, grads = loss_and_grads(lambda w, b=b: model.d_loss(w, g_sets[b], real[b], seed), d_sets[b])
        d_alone += loss
        for batched, own in zip(d_grads, grads):
            np.testing.assert_allclose(batched[b], own, rtol=2e-3, atol=1e-6)
        loss, grads = loss_and_grads(lambda w, b=b: model.g_loss(w, d_sets[b], 4, seed), g_sets[b])
        g_alone += loss
        for batched, own in zip(g_grads, grads):
            np.testing.assert_allclose(batched[b], own, rtol=2e-3, atol=1e-6)
    assert d_sum == pytest.approx(d_alone, rel=1e-5) and g_sum == pytest.approx(g_alone, rel=1e-5)
