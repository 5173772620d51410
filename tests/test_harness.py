import glob
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from common import harness
from common.classes import CheckpointMismatch, RunFailed, UsageError
from common.distribute import scale_loss
from common.rundir import Diverged
from tests.conftest import two_cpu_mirrored_strategy
from tests.helpers import damage_file as damage


class Regression(keras.Model):
    """The smallest model that follows the harness protocol: least squares with SGD, plus a
    noise draw from the step's seed so seeding is exercised too."""

    def __init__(self, lr=0.05, key="optimizer", legacy=None):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.dense(tf.zeros([1, 3]))
        self.key = key
        self.optimizers = {key: keras.optimizers.SGD(lr)}
        self.optimizers[key].build(self.dense.trainable_variables)
        if legacy:
            self.legacy_optimizer_keys = legacy

    def update(self, batch, seed):
        x, y = batch
        x = x + 0.01 * tf.random.stateless_normal(tf.shape(x), seed)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((self.dense(x)[:, 0] - y) ** 2)
            scaled = scale_loss(loss)  # inside the tape, or the gradient is None
        grads = tape.gradient(scaled, self.dense.trainable_variables)
        self.optimizers[self.key].apply(grads, self.dense.trainable_variables)
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


def train(out_dir, steps, strategy=None, data=None, model_fn=Regression, **config):
    config = harness.TrainConfig(out_dir=str(out_dir), steps=steps, seed=3, progress=False, **config)
    trainer = harness.Trainer(model_fn, data or regression_data(), config, strategy)
    return trainer, trainer.run()


def weights(trainer):
    return [v.numpy() for v in trainer.model.dense.weights]


def test_two_steps_leave_a_checkpoint_and_an_event_file(tmp_path):
    trainer, result = train(tmp_path, 2)
    assert result.step == 2
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


def test_a_run_saved_before_an_optimizer_was_renamed_resumes(tmp_path):
    straight, _ = train(tmp_path / "straight", 10, log_every=5, checkpoint_every=5)
    train(tmp_path / "old", 5, log_every=5, checkpoint_every=5)  # saved under the key "optimizer"
    with pytest.raises(CheckpointMismatch):
        train(tmp_path / "old", 10, model_fn=lambda: Regression(key="sgd"))
    renamed = lambda: Regression(key="sgd", legacy={"sgd": "optimizer"})  # noqa: E731
    resumed, result = train(tmp_path / "old", 10, log_every=5, checkpoint_every=5, model_fn=renamed)
    assert result.start_step == 5
    for a, b in zip(weights(straight), weights(resumed)):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert float(resumed.model.optimizers["sgd"].iterations) == 10


def test_same_seed_gives_the_same_numbers(tmp_path):
    a, _ = train(tmp_path / "a", 6)
    b, _ = train(tmp_path / "b", 6)
    for x, y in zip(weights(a), weights(b)):
        np.testing.assert_array_equal(x, y)


def test_training_learns(tmp_path):
    _, result = train(tmp_path, 100, log_every=1)
    assert result.history[-1]["loss"] < 0.1 * result.history[0]["loss"]


def make_trainer(out_dir, steps, data=None, **config):
    config = harness.TrainConfig(out_dir=str(out_dir), steps=steps, seed=3, progress=False, **config)
    return harness.Trainer(Regression, data or regression_data(), config)


def test_non_finite_loss_is_a_divergence_and_keeps_the_last_good_checkpoint(tmp_path):
    trainer = make_trainer(tmp_path, 20, data=regression_data(nan_from=5), checkpoint_every=2, log_every=1)
    with pytest.raises(Diverged, match="became nan at step 6") as caught:
        trainer.run()
    assert caught.value.step == 6 and "ckpt-4" in str(caught.value)
    assert int(trainer.step.numpy()) == 4  # restored from ckpt-4, the last one saved before the NaN
    assert all(np.isfinite(w).all() for w in weights(trainer))
    assert os.path.basename(trainer.manager.latest_checkpoint) == "ckpt-4"


class RegressionWithAStatistic(Regression):
    """A running statistic that becomes NaN at step 3 while the loss stays finite (as a
    BatchNorm moving variance can)."""

    def __init__(self):
        super().__init__()
        self.statistic = self.add_weight(shape=(), initializer="zeros", trainable=False, name="statistic")
        self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False, name="calls")

    def update(self, batch, seed):
        self.calls.assign_add(1.0)
        self.statistic.assign(tf.where(self.calls >= 3.0, np.nan, 0.0))
        return super().update(batch, seed)


def test_non_finite_weights_are_never_checkpointed(tmp_path):
    """The loss stays finite, a weight does not: the weights are checked before every save."""
    config = harness.TrainConfig(out_dir=str(tmp_path), steps=8, seed=3, progress=False, checkpoint_every=2)
    trainer = harness.Trainer(RegressionWithAStatistic, regression_data(), config)
    with pytest.raises(Diverged, match="weight became NaN or infinite by step 4"):
        trainer.run()
    assert os.path.basename(trainer.manager.latest_checkpoint) == "ckpt-2"


@pytest.mark.parametrize(
    "part, how",
    [
        ("data-*", "truncate"),
        ("index", "truncate"),
        ("data-*", "flip"),
        ("index", "flip"),
        ("index", "remove"),
        ("data-*", "remove"),
    ],
)
def test_a_damaged_newest_checkpoint_falls_back_to_the_one_before(tmp_path, capsys, part, how):
    train(tmp_path, 6, checkpoint_every=2, max_to_keep=3)
    damage(glob.glob(str(tmp_path / "checkpoints" / f"ckpt-6.{part}"))[0], how)
    trainer, result = train(tmp_path, 8, checkpoint_every=2, max_to_keep=3)
    assert result.start_step == 4 and result.step == 8
    out = capsys.readouterr().out
    assert ("ckpt-6 is damaged" in out and "resuming from ckpt-4" in out) or (
        how == "remove" and part == "index"
    )
    assert not glob.glob(str(tmp_path / "checkpoints" / "ckpt-6.*")) or result.step >= 6
    fresh, _ = train(tmp_path / "fresh", 8, checkpoint_every=2)
    for a, b in zip(weights(trainer), weights(fresh)):  # the same numbers as an undamaged run
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("state", ["missing", "garbage"])
def test_a_missing_or_damaged_checkpoint_list_is_rebuilt_not_restarted(tmp_path, capsys, state):
    train(tmp_path, 4, checkpoint_every=2)
    path = tmp_path / "checkpoints" / "checkpoint"
    if state == "missing":
        path.unlink()
    else:
        path.write_text("model_checkpoint_path: \x00\x01 garbage {{{")
    _, result = train(tmp_path, 6, checkpoint_every=2)
    assert result.start_step == 4 and result.step == 6
    assert "rebuilt it" in capsys.readouterr().out


def test_every_checkpoint_damaged_is_one_error_not_a_restart(tmp_path):
    train(tmp_path, 4, checkpoint_every=2)
    for path in glob.glob(str(tmp_path / "checkpoints" / "ckpt-*.data-*")):
        damage(path, "truncate")
    with pytest.raises(RunFailed, match="every checkpoint .* is unreadable"):
        train(tmp_path, 6, checkpoint_every=2)


def test_fewer_steps_than_trained_is_refused(tmp_path):
    train(tmp_path, 6)
    with pytest.raises(UsageError, match="already trained for 6 steps"):
        train(tmp_path, 4)


def test_a_rerun_of_a_finished_run_keeps_its_timing(tmp_path):
    _, first = train(tmp_path, 30)
    _, again = train(tmp_path, 30)
    assert again.start_step == 30 and first.total_seconds > 0
    assert again.total_seconds == pytest.approx(first.total_seconds, rel=1e-6)
    assert again.total_steps_per_second == pytest.approx(first.total_steps_per_second, rel=1e-6)


def test_a_run_killed_while_saving_its_last_step_resumes_with_every_loss(tmp_path, monkeypatch):
    """A kill right after the last checkpoint is written (found by bench_faults): the history must
    already hold that step's losses, or the finished run lacks them for good."""
    straight, done = train(tmp_path / "straight", 6, log_every=2, checkpoint_every=2)

    class Killed(BaseException):
        pass

    original = harness.tf.train.CheckpointManager.save

    def save_then_die(manager, checkpoint_number=None, **kwargs):
        saved = original(manager, checkpoint_number=checkpoint_number, **kwargs)
        if checkpoint_number == 6:  # the last checkpoint is on disk; the process dies right here
            raise Killed
        return saved

    monkeypatch.setattr(harness.tf.train.CheckpointManager, "save", save_then_die)
    with pytest.raises(Killed):
        train(tmp_path / "killed", 6, log_every=2, checkpoint_every=2)
    monkeypatch.undo()
    _, again = train(tmp_path / "killed", 6, log_every=2, checkpoint_every=2)
    assert again.start_step == 6 and again.history == done.history


@pytest.mark.parametrize("damage", ["{not json", '{"step": 2}', "[1, 2]", '[{"loss": 1}]', "null"])
def test_a_damaged_history_is_said_and_replaced(tmp_path, capsys, damage):
    train(tmp_path, 4, log_every=2)
    (tmp_path / "logs" / "history.json").write_text(damage)
    _, result = train(tmp_path, 6, log_every=2)
    assert result.step == 6 and "history.json is damaged" in capsys.readouterr().out


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

    class Wider(Regression):  # another shape of the same layer
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)
            self.dense(tf.zeros([1, 3]))
            self.optimizers[self.key].build(self.dense.trainable_variables)

    class Renamed(keras.Model):  # the same shapes under another name: another model
        def __init__(self):
            super().__init__()
            self.linear = keras.layers.Dense(1)
            self.linear(tf.zeros([1, 3]))
            self.optimizers = {"optimizer": keras.optimizers.SGD(0.05)}
            self.optimizers["optimizer"].build(self.linear.trainable_variables)

        def update(self, batch, seed):
            return {}

    for model_fn in (Wider, Renamed):
        config = harness.TrainConfig(out_dir=str(tmp_path), steps=4, progress=False)
        trainer = harness.Trainer(model_fn, regression_data(), config)
        with pytest.raises(harness.CheckpointMismatch, match="does not match"):
            trainer.run()


class WithEMA(Regression):
    """Regression with a variable it did not have when older runs were saved: an exponential
    moving average of the weights (non-trainable, kept by update)."""

    def __init__(self):
        super().__init__()
        self.ema = [tf.Variable(v, trainable=False, name="ema") for v in self.dense.weights]

    def update(self, batch, seed):
        losses = super().update(batch, seed)
        for average, weight in zip(self.ema, self.dense.weights):
            average.assign(0.9 * average + 0.1 * weight)
        return losses


def test_a_variable_added_to_the_model_later_still_restores_older_runs(tmp_path, capsys):
    straight, _ = train(tmp_path / "straight", 10, log_every=5, checkpoint_every=5)
    train(tmp_path / "old", 5, log_every=5, checkpoint_every=5)  # saved without the EMA
    resumed, result = train(tmp_path / "old", 10, log_every=5, checkpoint_every=5, model_fn=WithEMA)
    assert result.start_step == 5 and "start from their initial values" in capsys.readouterr().out
    for a, b in zip(weights(straight), weights(resumed)):
        np.testing.assert_allclose(a, b, rtol=1e-6)  # the old weights came back, training went on
    # The run now saves the EMA too: resuming it again restores it exactly, saying nothing.
    again, result = train(tmp_path / "old", 12, log_every=2, checkpoint_every=2, model_fn=WithEMA)
    assert result.start_step == 10 and "initial values" not in capsys.readouterr().out


def test_a_run_checkpointed_by_position_resumes(tmp_path):
    """Runs saved before variables were tracked by name listed them by position."""
    straight, _ = train(tmp_path / "straight", 10, log_every=5, checkpoint_every=5)
    model = Regression()
    step = tf.Variable(0, dtype=tf.int64)
    old = tmp_path / "old"
    reference, _ = train(tmp_path / "reference", 5, log_every=5, checkpoint_every=5)
    for v, value in zip(model.variables, reference.model.variables):
        v.assign(value)
    step.assign(5)
    data = iter(regression_data())
    for _ in range(5):
        next(data)
    layout = tf.train.Checkpoint(
        step=step, model_variables=list(model.variables), data=data, optimizer=model.optimizers["optimizer"]
    )
    model.optimizers["optimizer"].iterations.assign(5)
    tf.train.CheckpointManager(layout, str(old / "checkpoints"), max_to_keep=2).save(checkpoint_number=5)
    resumed, result = train(old, 10, log_every=5, checkpoint_every=5)
    assert result.start_step == 5
    for a, b in zip(weights(straight), weights(resumed)):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert harness.by_position(str(old / "checkpoints" / "ckpt-5"))
    assert not harness.by_position(str(old / "checkpoints" / "ckpt-10"))


def test_a_run_saved_on_one_device_continues_on_two(tmp_path, capsys):
    """The strategy says how to train, not what: a run checkpointed on one device (with its data
    position) resumes under MirroredStrategy, whose data iterator cannot hold that position."""
    train(tmp_path, 2, data=regression_data(batch=8))
    capsys.readouterr()
    _, result = train(tmp_path, 4, strategy=two_cpu_mirrored_strategy(), data=regression_data(batch=8))
    assert result.start_step == 2 and result.step == 4
    assert "cannot be restored across devices: the data stream starts afresh" in capsys.readouterr().out
