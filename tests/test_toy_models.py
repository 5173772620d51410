import numpy as np
import pytest
import tensorflow as tf

from toy_models import Discriminator, Generator, MinibatchDiscrimination, ToyGAN, ToyGANConfig

SEED = tf.constant([0, 1], tf.int64)


def batch(n=4, num_classes=8):
    return tf.random.normal([n, 2]), tf.constant(np.arange(n) % num_classes, tf.int32)


def test_shapes():
    x, y = batch()
    d = Discriminator(16, 3, num_classes=8)
    logits, classes = d(x)
    assert logits.shape == (4,) and classes.shape == (4, 8)
    assert Discriminator(16, 3)(x)[1] is None
    assert Generator(16, 3, z_dim=5)(tf.zeros([4, 5])).shape == (4, 2)
    assert Generator(16, 3, z_dim=5, condition_classes=8)(tf.zeros([4, 5]), y).shape == (4, 2)
    assert Discriminator(16, 3, condition_classes=8)(x, y)[0].shape == (4,)
    assert MinibatchDiscrimination(6, 3)(tf.zeros([4, 10])).shape == (4, 16)


def test_packed_discriminator_judges_pairs_but_classifies_every_sample():
    x, y = batch(6)
    logits, classes = Discriminator(16, 3, num_classes=8, pack=2)(x)
    assert logits.shape == (3,) and classes.shape == (6, 8)
    d = Discriminator(16, 3, pack=2)
    swapped = tf.gather(x, [1, 0, 2, 3, 4, 5])  # same pairs, one pair reordered
    regrouped = tf.gather(x, [0, 2, 1, 3, 4, 5])  # different pairs
    base = d(x)[0].numpy()
    assert base[1:].tolist() == d(swapped)[0].numpy()[1:].tolist()
    assert not np.allclose(base[:2], d(regrouped)[0].numpy()[:2])


def test_minibatch_discrimination_sees_identical_samples():
    layer = MinibatchDiscrimination(4, 2)
    same = layer(tf.ones([3, 5]))[:, 5:]
    different = layer(tf.constant(np.arange(15).reshape(3, 5) * 10.0, tf.float32))[:, 5:]
    np.testing.assert_allclose(same.numpy(), 2.0, rtol=1e-6)  # exp(0) for each of the 2 others
    assert float(tf.reduce_max(different)) < 1e-3


@pytest.mark.parametrize("config, expected", [
    (ToyGANConfig(nhidden=16, nlayers=2), {"d_loss", "g_loss"}),
    (ToyGANConfig(nhidden=16, nlayers=2, use_labels=True), {"d_classification", "creativity"}),
    (ToyGANConfig(nhidden=16, nlayers=2, loss="wgan-gp", d_steps=2), {"gradient_penalty"}),
    (ToyGANConfig(nhidden=16, nlayers=2, minibatch_discrimination=True), {"d_loss"}),
    (ToyGANConfig(nhidden=16, nlayers=2, conditional=True), {"g_loss"}),
    (ToyGANConfig(nhidden=16, nlayers=2, decay_steps=10), {"g_loss"}),
    (ToyGANConfig(nhidden=16, nlayers=2, r1_gamma=1.0), {"r1_penalty"}),
    (ToyGANConfig(nhidden=16, nlayers=2, pack=2, use_labels=True), {"creativity"}),
    (ToyGANConfig(nhidden=16, nlayers=2, pack=2, conditional=True, loss="wgan-gp"), {"gradient_penalty"}),
])
def test_one_train_step_gives_finite_losses_and_changes_both_networks(config, expected):
    model = ToyGAN(config)
    g_before = [w.numpy().copy() for w in model.generator.weights]
    d_before = [w.numpy().copy() for w in model.discriminator.weights]
    out = model.train_step(batch(), SEED)
    assert expected <= set(out)
    assert all(np.isfinite(float(v)) for v in out.values())
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(g_before, model.generator.weights))
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(d_before, model.discriminator.weights))


def test_plain_gan_has_no_class_losses():
    out = ToyGAN(ToyGANConfig(nhidden=8, nlayers=2)).train_step(batch(), SEED)
    assert "creativity" not in out and "d_classification" not in out


def test_creativity_loss_is_at_least_log_k():
    out = ToyGAN(ToyGANConfig(nhidden=8, nlayers=2, use_labels=True)).train_step(batch(), SEED)
    assert float(out["creativity"]) >= np.log(8) - 1e-5


def test_generate_is_seeded():
    model = ToyGAN(ToyGANConfig(nhidden=8, nlayers=2))
    a, b = model.generate(5, SEED), model.generate(5, SEED)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), model.generate(5, SEED + 1).numpy())


def test_r1_penalty_adds_half_gamma_times_r1_to_d_loss():
    plain, penalised = ToyGAN(ToyGANConfig(nhidden=8, nlayers=2)), ToyGAN(ToyGANConfig(nhidden=8, nlayers=2, r1_gamma=10.0))
    penalised.set_weights(plain.get_weights())
    data = batch()
    a, b = plain.train_step(data, SEED), penalised.train_step(data, SEED)
    assert "r1_penalty" not in a and float(b["r1_penalty"]) > 0
    assert float(b["d_loss"]) - float(a["d_loss"]) == pytest.approx(5.0 * float(b["r1_penalty"]), rel=1e-4)


def test_unknown_loss_is_rejected():
    with pytest.raises(ValueError, match="unknown loss"):
        ToyGAN(ToyGANConfig(loss="hinge"))


def test_r1_with_wgan_gp_is_rejected_not_ignored():
    with pytest.raises(ValueError, match="r1_gamma"):
        ToyGAN(ToyGANConfig(loss="wgan-gp", r1_gamma=1.0))
