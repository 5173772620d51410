"""The image GAN core of infogan/: named discriminator outputs (no column guessing), which
weights each loss trains, the information loss by hand, and one step of every type."""

import numpy as np
import pytest
import tensorflow as tf

from common import harness
from infogan.gan_models import GAN_TYPES, GANConfig, ImageGAN
from infogan.gan_variants import VARIANTS, lookup

SMALL = dict(g_width=(32, 8, 4), d_width=(4, 8, 32))


@pytest.mark.parametrize("gan_type", GAN_TYPES)
def test_one_step_of_every_type(gan_type):
    model = ImageGAN(GANConfig(gan_type, **SMALL))
    images = tf.random.uniform((6, 28, 28, 1))
    labels = tf.constant([0, 1, 2, 3, 4, 5], tf.int64)
    before = [v.numpy().copy() for v in model.generator.trainable_variables]
    out = tf.function(model.update)((images, labels), tf.constant([0, 1], tf.int64))
    assert all(np.isfinite(float(v)) for v in out.values())
    assert any(not np.allclose(b, v.numpy()) for b, v in zip(before, model.generator.trainable_variables))
    fake, condition, codes = model.generate(6, tf.constant([1, 2], tf.int64))
    assert (
        fake.shape == (6, 28, 28, 1)
        and float(tf.reduce_min(fake)) >= 0.0
        and float(tf.reduce_max(fake)) <= 1.0
    )
    assert condition.shape == (6, model.config.condition_dim)


@pytest.mark.parametrize("gan_type", GAN_TYPES)
def test_each_variant_gets_what_its_registry_entry_says(gan_type):
    v = VARIANTS[gan_type]
    model = ImageGAN(GANConfig(gan_type, **SMALL))
    condition_dim = {"none": 0, "label": 10, "code": 12}[v.g_input]
    assert model.config.condition_dim == condition_dim
    condition = tf.zeros((3, condition_dim)) if v.d_sees_label else None
    out = model.discriminator(tf.zeros((3, 28, 28, 1)), condition, training=False)
    expected = {"adv"} | ({"cls"} if v.class_head else set()) | ({"q_cat", "q_cont"} if v.q_head else set())
    assert set(out) == expected
    batch = (tf.random.uniform((4, 28, 28, 1)), tf.constant([0, 1, 2, 3], tf.int64))
    losses = tf.function(model.update)(batch, tf.constant([0, 1], tf.int64))
    assert ("info_cat" in losses) == v.q_head and ("d_cls" in losses) == v.class_head
    assert lookup(gan_type.upper()) is v and lookup("BigGAN") is None


def test_discriminator_outputs_are_named_not_positional():
    model = ImageGAN(GANConfig("infoGAN", **SMALL))
    out = model.discriminator(tf.zeros((3, 28, 28, 1)), training=False)
    assert set(out) == {"adv", "q_cat", "q_cont"}
    assert out["adv"].shape == (3,) and out["q_cat"].shape == (3, 10) and out["q_cont"].shape == (3, 2)
    # The real/fake logit is the "adv" head's output: changing that head's bias moves it and
    # nothing else.
    model.discriminator.adv.bias.assign([5.0])
    shifted = model.discriminator(tf.zeros((3, 28, 28, 1)), training=False)
    np.testing.assert_allclose(shifted["adv"] - out["adv"], 5.0, rtol=1e-5)
    np.testing.assert_allclose(shifted["q_cat"], out["q_cat"])


def test_q_head_trains_with_d_by_default_and_with_g_when_asked():
    model = ImageGAN(GANConfig("infoGAN", **SMALL))
    q_ids = {
        id(v)
        for layer in (model.discriminator.q_cat, model.discriminator.q_cont)
        for v in layer.trainable_variables
    }
    assert q_ids <= {id(v) for v in model.d_variables} and not q_ids & {id(v) for v in model.g_variables}
    legacy = ImageGAN(GANConfig("infoGAN", info_trains_d=False, **SMALL))
    q_ids = {
        id(v)
        for layer in (legacy.discriminator.q_cat, legacy.discriminator.q_cont)
        for v in layer.trainable_variables
    }
    assert q_ids <= {id(v) for v in legacy.g_variables} and not q_ids & {id(v) for v in legacy.d_variables}
    for m in (model, legacy):
        assert len(m.d_variables) + len(m.g_variables) == (
            len(m.discriminator.trainable_variables) + len(m.generator.trainable_variables)
        )


@pytest.mark.parametrize("info_trains_d", [True, False])
def test_information_loss_trains_the_shared_body_of_d(info_trains_d):
    """Chen et al.: Q shares D's layers and the information loss trains them. With the same seed,
    D's first convolution after one step differs between lambda_info 1 and 0 exactly when the
    information loss is in D's loss."""
    kernels = []
    for lambda_info in (1.0, 0.0):
        tf.keras.utils.set_random_seed(0)
        model = ImageGAN(GANConfig("infoGAN", lambda_info=lambda_info, info_trains_d=info_trains_d, **SMALL))
        tf.function(model.update)(
            (tf.random.uniform((6, 28, 28, 1), seed=3), tf.range(6, dtype=tf.int64)),
            tf.constant([0, 1], tf.int64),
        )
        kernels.append(model.discriminator.body[0].kernel.numpy())
    assert (not np.allclose(kernels[0], kernels[1])) == info_trains_d


def test_information_loss_by_hand():
    model = ImageGAN(GANConfig("infoGAN", **SMALL))
    logits = np.array([[2.0, 0.0] + [0.0] * 8, [0.0, 1.0] + [0.0] * 8], np.float32)
    codes = {"labels": tf.constant([0, 1]), "cont": tf.constant([[0.5, -0.5], [0.0, 1.0]])}
    outputs = {"q_cat": tf.constant(logits), "q_cont": tf.constant([[0.0, 0.0], [0.0, 0.0]])}
    cat, cont = model.info_loss(outputs, codes)
    log_softmax = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    assert float(cat) == pytest.approx(-(log_softmax[0, 0] + log_softmax[1, 1]) / 2, rel=1e-5)
    assert float(cont) == pytest.approx((0.25 + 0.25 + 0.0 + 1.0) / 2, rel=1e-6)


@pytest.mark.parametrize("gan_type", GAN_TYPES)
def test_toy_vectors_use_mlps(gan_type):
    model = ImageGAN(
        GANConfig(gan_type, image_shape=(2,), num_classes=8, cat_dim=8, g_width=(16,), d_width=(0, 0, 16))
    )
    points = tf.random.normal((10, 2))
    labels = tf.constant(np.arange(10) % 8, tf.int64)
    out = tf.function(model.update)((points, labels), tf.constant([0, 1], tf.int64))
    assert all(np.isfinite(float(v)) for v in out.values())
    fake, _, _ = model.generate(5, tf.constant([1, 2], tf.int64))
    assert fake.shape == (5, 2)


@pytest.mark.parametrize("gan_type", ["CGAN", "ACGAN"])
def test_a_label_absent_from_the_data_is_never_trained(gan_type):
    """Fakes are conditioned on the real batch's labels: G's weights that read label 3 do not move
    when no real image is a 3 (Adam leaves a weight with zero gradient where it is)."""
    model = ImageGAN(GANConfig(gan_type, **SMALL))
    kernel = model.generator.fc[0].kernel  # rows: z, then the one-hot label
    row = model.config.z_dim + 3
    before = kernel.numpy().copy()
    step = tf.function(model.update)
    for i in range(3):
        step(
            (tf.random.uniform((6, 28, 28, 1)), tf.constant([0, 1, 2, 4, 5, 6], tf.int64)),
            tf.constant([i, 1], tf.int64),
        )
    after = kernel.numpy()
    np.testing.assert_array_equal(after[row], before[row])
    assert not np.allclose(after[model.config.z_dim + 4], before[model.config.z_dim + 4])


def test_a_resumed_gan_has_its_batchnorm_statistics(tmp_path):
    """The harness saves every model variable, the non-trainable ones too: a resumed GAN's
    BatchNorm moving statistics, hence its samples, equal the trained one's."""
    config = harness.TrainConfig(out_dir=str(tmp_path), steps=4, seed=3, progress=False)
    data = tf.data.Dataset.from_tensors(
        (tf.random.uniform((8, 28, 28, 1), seed=1), tf.range(8, dtype=tf.int64))
    ).repeat()
    make = lambda: ImageGAN(GANConfig("infoGAN", **SMALL))  # noqa: E731
    trained = harness.Trainer(make, data, config)
    trained.run()
    resumed = harness.Trainer(make, data, config)
    assert resumed.run().start_step == 4
    for before, after in zip(trained.model.variables, resumed.model.variables):
        np.testing.assert_array_equal(after.numpy(), before.numpy(), err_msg=before.path)
    seed = tf.constant([5, 6], tf.int64)
    np.testing.assert_array_equal(
        resumed.model.generate(4, seed)[0].numpy(), trained.model.generate(4, seed)[0].numpy()
    )
