"""--mixed_precision: half-precision compute on float32 weights, every loss in float32. On this
CPU the policy is mixed_bfloat16; mixed_float16 (the GPU policy, with dynamic loss scaling) runs
here too, slowly, which tests the loss-scaling path. The first loss of a model under either policy
matches float32's to within the half type's precision, and training keeps it finite."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from can.can_models import CAN, CANConfig
from common import distribute, judge
from infogan.gan_models import GANConfig, ImageGAN
from vae.vae_models import VAE, VAEConfig

SEED = tf.constant([3, 4], tf.int64)


def models():
    return {
        "vae": (
            lambda: VAE(VAEConfig(input_shape=(28, 28, 1), latent_dim=4)),
            tf.random.uniform((8, 28, 28, 1)),
        ),
        "vae-mlp": (  # crashed under a mixed policy: the decoder's Reshape cast the logits to half
            lambda: VAE(VAEConfig(input_shape=(28, 28, 1), latent_dim=4, arch="mlp", hidden=16)),
            tf.random.uniform((8, 28, 28, 1)),
        ),
        "infogan": (
            lambda: ImageGAN(GANConfig("infoGAN", g_width=(32, 8, 4), d_width=(4, 8, 32))),
            (tf.random.uniform((8, 28, 28, 1)), tf.zeros((8,), tf.int64)),
        ),
        "can": (
            lambda: CAN(CANConfig(image_size=16, num_genres=3, fc=16, d_channels=(4, 8, 8))),
            (tf.random.uniform((8, 16, 16, 3)), tf.zeros((8,), tf.int32)),
        ),
    }


def first_losses(make, batch, policy):
    keras.mixed_precision.set_dtype_policy(policy)
    try:
        keras.utils.set_random_seed(0)
        model = make()
        first = {k: float(v) for k, v in model.update(batch, SEED).items()}
        for _ in range(3):
            later = model.update(batch, SEED)
        return model, first, {k: float(v) for k, v in later.items()}
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


@pytest.mark.parametrize("name", ["vae", "vae-mlp", "infogan", "can"])
@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_matches_float32_and_stays_finite(name, policy):
    make, batch = models()[name]
    _, reference, _ = first_losses(make, batch, "float32")
    model, first, later = first_losses(make, batch, policy)
    tolerance = 0.05 if policy == "mixed_bfloat16" else 0.01  # bfloat16 keeps 8 bits of mantissa
    for key, value in reference.items():
        assert first[key] == pytest.approx(value, rel=tolerance, abs=tolerance), key
    assert all(np.isfinite(v) for v in later.values())
    assert all(v.dtype == tf.float32 for v in model.trainable_variables)  # float32 weights
    wrapped = [o for o in model.optimizers.values() if isinstance(o, keras.optimizers.LossScaleOptimizer)]
    assert len(wrapped) == (len(model.optimizers) if policy == "mixed_float16" else 0)


def test_the_judge_stays_float32_under_a_mixed_policy():
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        net = judge.JudgeNet(10)
        out = net(tf.zeros((2, 28, 28, 1)))
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert out.dtype == tf.float32 and all(layer.compute_dtype == "float32" for layer in net.body)


def test_set_precision_picks_the_policy_for_the_device():
    try:
        assert distribute.set_precision(False) == "float32"
        expected = "mixed_float16" if tf.config.list_physical_devices("GPU") else "mixed_bfloat16"
        assert distribute.set_precision(True) == expected
        assert keras.mixed_precision.dtype_policy().name == expected
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
