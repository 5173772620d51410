import glob
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from common import harness
from common.distribute import scale_loss
from conftest import two_cpu_mirrored_strategy


class Regression(keras.Model):
    """The smallest model that follows the harness protocol: least squares with SGD, plus a
    noise draw from the step's seed so seeding is exercised too."""

    def __init__(self, lr=0.05):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.dense(tf.zeros([1, 3]))
        self.optimizers = {"optimizer": keras.optimizers.SGD(lr)}
        self.optimizers["optimizer"].build(self.dense.trainable_variables)

    def train_step(self, batch, seed):
        x, y = batch
        x = x + 0.01 * tf.random.stateless_normal(tf.shape(x), seed)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((self.dense(x)[:, 0] - y) ** 2)
            scaled = scale_loss(loss)  # inside the tape, or the gradient is None
        grads = tape.gradient(scaled, self.dense.trainable_variables)
        self.optimizers["optimizer"].apply(grads, self.dense.trainable_variables)
        return {"loss": loss}


def regression_data(batch=8, nan_from=None):
    w = tf.constant([1.0, -2.0, 0.5])

    def make(i):
        x = tf.random.stateless_normal([batch, 3], tf.stack([tf.constant(0, tf.int64), i]))
        y = tf.linalg.matvec(x, w)
        if nan_from is not None:
            y = tf.where(i >= nan_from, np.nan, 1.0) * y
        return x, y

    return tf.data.Dataset.counter().map(make)


def train(out_dir, steps, strategy=None, data=None, **config):
    config = harness.TrainConfig(out_dir=str(out_dir), steps=steps, seed=3, progress=False, **config)
    trainer = harness.Trainer(Regression, data or regression_data(), config, strategy)
    return trainer, trainer.run()


def weights(trainer):
    return [v.numpy() for v in trainer.model.dense.weights]


def test_two_steps_leave_a_checkpoint_and_an_event_file(tmp_path):
    trainer, result = train(tmp_path, 2)
    assert result.step == 2 and result.stopped is None
    assert os.path.basename(trainer.manager.latest_checkpoint) == "ckpt-2"
    assert glob.glob(str(tmp_path / "logs" / "train" / "events.out.tfevents.*"))
    assert np.isfinite(result.history[-1]["loss"])


def test_resume_continues_the_step_counter_and_matches_an_uninterrupted_run(tmp_path):
    straight, result = train(tmp_path / "straight", 10, log_every=5, checkpoint_every=5)
    train(tmp_path / "resumed", 5, log_every=5, checkpoint_every=5)
    resumed, result2 = train(tmp_path / "resumed", 10, log_every=5, checkpoint_every=5)
    assert result2.start_step == 5 and result2.step == 10
    assert [h["step"] for h in result2.history] == [5, 10]
    # Same data (the iterator is checkpointed) and same noise (seeded by the step): same weights.
    for a, b in zip(weights(straight), weights(resumed)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_same_seed_gives_the_same_numbers(tmp_path):
    a, _ = train(tmp_path / "a", 6)
    b, _ = train(tmp_path / "b", 6)
    for x, y in zip(weights(a), weights(b)):
        np.testing.assert_array_equal(x, y)


def test_training_learns(tmp_path):
    _, result = train(tmp_path, 100, log_every=1)
    assert result.history[-1]["loss"] < 0.1 * result.history[0]["loss"]


def test_non_finite_loss_stops_and_restores_the_last_good_checkpoint(tmp_path):
    trainer, result = train(tmp_path, 20, data=regression_data(nan_from=5), checkpoint_every=2, log_every=1)
    assert result.stopped and "became nan at step 6" in result.stopped
    assert result.step == 4  # restored from ckpt-4, the last one saved before the NaN
    assert all(np.isfinite(w).all() for w in weights(trainer))
    assert os.path.basename(trainer.manager.latest_checkpoint) == "ckpt-4"


def test_mirrored_strategy_on_two_devices_matches_one_device(tmp_path):
    devices = tf.config.list_logical_devices("CPU")
    assert len(devices) >= 2, "conftest configures two logical CPUs"
    mirrored = two_cpu_mirrored_strategy()
    # Without the per-replica noise, the two set-ups see identical global batches.
    one, _ = train(tmp_path / "one", 4, data=regression_data(batch=8))
    two, result = train(tmp_path / "two", 4, strategy=mirrored, data=regression_data(batch=8))
    assert result.step == 4 and mirrored.num_replicas_in_sync == 2
    for a, b in zip(weights(one), weights(two)):
        # Each replica draws its own noise (0.01 scale), so only approximately equal; a missing
        # loss scaling (gradients summed over 2 replicas) would double the update instead.
        np.testing.assert_allclose(a, b, atol=5e-3)


def test_checkpoint_of_another_model_is_refused(tmp_path):
    train(tmp_path, 2)

    class Wider(Regression):
        def __init__(self):
            super().__init__()
            self.extra = keras.layers.Dense(4)
            self.extra(tf.zeros([1, 3]))

    config = harness.TrainConfig(out_dir=str(tmp_path), steps=4, progress=False)
    trainer = harness.Trainer(Wider, regression_data(), config)
    with pytest.raises(harness.CheckpointMismatch, match="does not match"):
        trainer.run()
