import numpy as np
import pytest
import tensorflow as tf

from toy2d.toy_models import Discriminator, Generator, ToyGAN, ToyGANConfig

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


def test_packed_discriminator_judges_pairs():
    x, y = batch(6)
    d = Discriminator(16, 3, pack=2)
    logits, classes = d(x)
    assert logits.shape == (3,) and classes is None
    swapped = tf.gather(x, [1, 0, 2, 3, 4, 5])  # same pairs, one pair reordered
    regrouped = tf.gather(x, [0, 2, 1, 3, 4, 5])  # different pairs
    base = d(x)[0].numpy()
    assert base[1:].tolist() == d(swapped)[0].numpy()[1:].tolist()
    assert not np.allclose(base[:2], d(regrouped)[0].numpy()[:2])


def test_a_class_head_is_never_packed():
    """One sample's class prediction (and so its creativity loss) must not depend on whichever
    sample it was packed with: a class head with pack > 1 is refused."""
    with pytest.raises(ValueError, match="pack=1"):
        Discriminator(16, 3, num_classes=8, pack=2)
    with pytest.raises(ValueError, match="pack=1"):
        ToyGAN(ToyGANConfig(nhidden=8, nlayers=2, pack=2, use_labels=True))
    x, _ = batch(6)
    d = Discriminator(16, 3, num_classes=8)
    partner_changed = tf.concat([x[:1], tf.random.normal([5, 2], seed=4)], axis=0)
    np.testing.assert_allclose(d(x)[1].numpy()[0], d(partner_changed)[1].numpy()[0])


def test_d_class_head_learns_from_real_samples_only():
    """DesIGN: L_D,classif is on real samples with their labels. Different generators (so
    different fakes) leave d_classification unchanged and equal to the cross-entropy on the real
    batch by hand."""
    x, y = batch(8)
    values = []
    for g_seed in (0, 1):
        tf.keras.utils.set_random_seed(0)
        model = ToyGAN(ToyGANConfig(nhidden=8, nlayers=2, use_labels=True))
        _, real_classes = model.discriminator(x)
        logits = real_classes.numpy().astype(np.float64)
        log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        want = -np.mean(log_p[np.arange(8), y.numpy()])
        tf.keras.utils.set_random_seed(100 + g_seed)
        for w in model.generator.weights:
            w.assign(tf.random.normal(w.shape))
        out = model.update((x, y), SEED)
        values.append(float(out["d_classification"]))
        assert values[-1] == pytest.approx(want, rel=1e-5)
        assert "d_classification_fake" not in out
    assert values[0] == pytest.approx(values[1], rel=1e-6)


def test_report_creativity_loss_uses_fixed_hard_labels_and_classifies_fakes():
    """The report's code: G's creativity targets are one class per batch position, fixed for the
    whole run; D's class head also sees fakes with random labels."""
    model = ToyGAN(
        ToyGANConfig(nhidden=8, nlayers=2, use_labels=True, creativity_loss="report", label_seed=3)
    )
    targets = model.report_creativity_labels(64).numpy()
    np.testing.assert_array_equal(targets, model.report_creativity_labels(64).numpy())
    assert len(set(targets.tolist())) > 4 and targets.min() >= 0 and targets.max() < 8
    other = ToyGAN(
        ToyGANConfig(nhidden=8, nlayers=2, use_labels=True, creativity_loss="report", label_seed=4)
    )
    assert not np.array_equal(targets, other.report_creativity_labels(64).numpy())
    out = model.update(batch(), SEED)
    assert {"creativity", "d_classification", "d_classification_fake"} <= set(out)
    with pytest.raises(ValueError, match="creativity loss"):
        ToyGAN(ToyGANConfig(creativity_loss="random"))


@pytest.mark.parametrize(
    "config, expected",
    [
        (ToyGANConfig(nhidden=16, nlayers=2), {"d_loss", "g_loss"}),
        (ToyGANConfig(nhidden=16, nlayers=2, use_labels=True), {"d_classification", "creativity"}),
        (ToyGANConfig(nhidden=16, nlayers=2, loss="wgan-gp", d_steps=2), {"gradient_penalty"}),
        (ToyGANConfig(nhidden=16, nlayers=2, minibatch_discrimination=True), {"d_loss"}),
        (ToyGANConfig(nhidden=16, nlayers=2, conditional=True), {"g_loss"}),
        (ToyGANConfig(nhidden=16, nlayers=2, decay_steps=10), {"g_loss"}),
        (ToyGANConfig(nhidden=16, nlayers=2, r1_gamma=1.0), {"r1_penalty"}),
        (
            ToyGANConfig(nhidden=16, nlayers=2, use_labels=True, creativity_loss="report", activation="relu"),
            {"creativity", "d_classification_fake"},
        ),
        (ToyGANConfig(nhidden=16, nlayers=2, pack=2, conditional=True, loss="wgan-gp"), {"gradient_penalty"}),
    ],
)
def test_one_update_gives_finite_losses_and_changes_both_networks(config, expected):
    model = ToyGAN(config)
    g_before = [w.numpy().copy() for w in model.generator.weights]
    d_before = [w.numpy().copy() for w in model.discriminator.weights]
    out = model.update(batch(), SEED)
    assert expected <= set(out)
    assert all(np.isfinite(float(v)) for v in out.values())
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(g_before, model.generator.weights))
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(d_before, model.discriminator.weights))


def test_plain_gan_has_no_class_losses():
    out = ToyGAN(ToyGANConfig(nhidden=8, nlayers=2)).update(batch(), SEED)
    assert "creativity" not in out and "d_classification" not in out


def test_creativity_loss_is_at_least_log_k():
    out = ToyGAN(ToyGANConfig(nhidden=8, nlayers=2, use_labels=True)).update(batch(), SEED)
    assert float(out["creativity"]) >= np.log(8) - 1e-5


def test_generate_is_seeded():
    model = ToyGAN(ToyGANConfig(nhidden=8, nlayers=2))
    a, b = model.generate(5, SEED), model.generate(5, SEED)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), model.generate(5, SEED + 1).numpy())


def test_r1_penalty_adds_half_gamma_times_r1_to_d_loss():
    plain, penalised = (
        ToyGAN(ToyGANConfig(nhidden=8, nlayers=2)),
        ToyGAN(ToyGANConfig(nhidden=8, nlayers=2, r1_gamma=10.0)),
    )
    penalised.set_weights(plain.get_weights())
    data = batch()
    a, b = plain.update(data, SEED), penalised.update(data, SEED)
    assert "r1_penalty" not in a and float(b["r1_penalty"]) > 0
    assert float(b["d_loss"]) - float(a["d_loss"]) == pytest.approx(5.0 * float(b["r1_penalty"]), rel=1e-4)


def test_unknown_loss_is_rejected():
    with pytest.raises(ValueError, match="unknown loss"):
        ToyGAN(ToyGANConfig(loss="hinge"))


def test_r1_with_wgan_gp_is_rejected_not_ignored():
    with pytest.raises(ValueError, match="r1_gamma"):
        ToyGAN(ToyGANConfig(loss="wgan-gp", r1_gamma=1.0))
