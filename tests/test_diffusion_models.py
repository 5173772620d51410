"""diffusion/diffusion_models.py: the schedule, one training step, the moving average, guidance
and the DDIM sampler, on a tiny U-Net."""

import dataclasses

import numpy as np
import tensorflow as tf

from common import harness
from diffusion.diffusion_models import Diffusion, DiffusionConfig, alpha_bar

SEED = tf.constant([3, 4], tf.int64)


def tiny():
    return Diffusion(
        DiffusionConfig(image_shape=(12, 12, 1), num_classes=3, channels=(8, 16), groups=4, embed=16)
    )


def test_the_cosine_schedule_runs_from_signal_to_noise():
    a = alpha_bar(tf.constant([0.0, 0.5, 1.0])).numpy()
    assert a[0] > 0.999 and a[2] < 1e-4 and a[0] > a[1] > a[2]


def test_one_update_is_finite_changes_the_weights_and_moves_the_average():
    model = tiny()
    before = [v.numpy() for v in model.net.trainable_variables]
    average = [v.numpy() for v in model.ema]
    images = tf.random.uniform((6, 12, 12, 1), seed=1)
    losses = model.update((images, tf.constant([0, 1, 2, 0, 1, 2])), SEED)
    assert np.isfinite(float(losses["loss"]))
    assert any(np.abs(a - v.numpy()).max() > 0 for a, v in zip(before, model.net.trainable_variables))
    assert any(np.abs(a - v.numpy()).max() > 0 for a, v in zip(average, model.ema))


def test_min_snr_weighting_lowers_every_time_s_weight_below_one():
    """Min-SNR-gamma: weight min(SNR, gamma) / (SNR + 1) <= SNR / (SNR + 1) < 1 at every time, so
    on the same draw the losses order: gamma 5 < no cap < unweighted (strict: some time has SNR > 5)."""
    plain = tiny()
    weighted = Diffusion(dataclasses.replace(plain.config, min_snr=5.0))
    weighted.net.set_weights(plain.net.get_weights())
    x0 = tf.random.uniform((16, 12, 12, 1), -1.0, 1.0, seed=2)
    labels = tf.constant([0, 1, 2, 0] * 4)
    unweighted = float(plain.v_loss(x0, labels, SEED))
    at_5 = float(weighted.v_loss(x0, labels, SEED))
    uncapped = Diffusion(dataclasses.replace(plain.config, min_snr=1e9))  # weight SNR / (SNR + 1)
    uncapped.net.set_weights(plain.net.get_weights())
    assert 0.0 < at_5 < float(uncapped.v_loss(x0, labels, SEED)) < unweighted


def test_samples_are_images_guidance_matters_and_the_seed_fixes_them():
    model = tiny()
    for _ in range(3):
        model.update((tf.random.uniform((6, 12, 12, 1), seed=2), tf.constant([0, 1, 2, 0, 1, 2])), SEED)
    labels = tf.constant([0, 1, 2, 1])
    a = model.sample(labels, 4, 1.0, SEED).numpy()
    assert a.shape == (4, 12, 12, 1) and a.min() >= 0.0 and a.max() <= 1.0
    assert np.array_equal(a, model.sample(labels, 4, 1.0, SEED).numpy())
    assert not np.allclose(a, model.sample(labels, 4, 0.0, SEED).numpy())  # guidance changes them
    assert not np.allclose(a, model.sample(labels, 4, 1.0, SEED, use_ema=False).numpy())


def test_the_moving_average_is_checkpointed_by_name(tmp_path):
    model = tiny()
    names = harness.named_variables(model)
    assert any(name.startswith("ema/") for name in names) and any(name.startswith("net/") for name in names)
    # Keras lists no plain tf.Variable of a list among model.variables; the checkpoint has them all.
    assert len(names) == len(model.variables) + len(model.ema)
