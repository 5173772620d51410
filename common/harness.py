"""The one training loop of creative-gans.

An experiment hands the `Trainer` a factory for its model and a tf.data pipeline. The model is a
Keras model with
  * `optimizers`: a dict name -> Keras optimizer, built (`optimizer.build(vars)`) in the
    constructor so checkpoints restore into existing slots;
  * `train_step(batch, seed) -> dict[str, scalar tensor]`: one update on one replica's batch.
    `seed` is a stateless RNG seed (shape [2]) unique to this step and replica, so runs are
    reproducible and a resumed run draws the same noise an uninterrupted one would. It is
    traced without autograph unless TrainConfig.autograph is set.
The Trainer builds the model under the `tf.distribute` strategy, restores the latest checkpoint,
runs `train_step` inside one `tf.function` per Trainer (`strategy.run` for multi-device), writes
TensorBoard scalars, shows a progress bar with ETA, saves checkpoints, and stops on a NaN/Inf
loss keeping (and restoring) the last good checkpoint.
"""
import dataclasses
import math
import os
import time

import keras
import tensorflow as tf

from common import io
from common.classes import CheckpointMismatch
from common.distribute import replica_seed
from common.progress import ProgressBar


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    out_dir: str
    steps: int
    seed: int = 0
    log_every: int = 25
    checkpoint_every: int = 500
    max_to_keep: int = 2
    jit_compile: bool = False  # XLA-compile train_step
    # Autograph lets train_step use Python `if`/`for` on tensors, at seconds of start-up; without
    # it, tensor-dependent control flow must be written with tf.cond / tf.while_loop.
    autograph: bool = False
    progress: bool = True


@dataclasses.dataclass
class TrainResult:
    step: int  # the global step reached
    start_step: int  # the step the run resumed from (0 for a fresh run)
    history: list  # [{"step": s, loss: value, ...}] every log_every steps, resumes included
    stopped: str | None  # why training stopped early, else None
    seconds: float  # wall time of this invocation's loop
    steps_per_second: float
    replicas: int = 1  # devices the strategy trained on


def set_seed(seed):
    """Python, NumPy and TensorFlow seeds in one call (keras.utils.set_random_seed)."""
    keras.utils.set_random_seed(int(seed))


class Trainer:
    def __init__(self, model_fn, dataset, config, strategy=None, on_step=None, hook_steps=()):
        """model_fn() -> model (called inside the strategy scope); dataset: tf.data of global
        batches; on_step(step, losses): host callback after each step in hook_steps (snapshots)."""
        self.config = config
        self.strategy = strategy or tf.distribute.get_strategy()
        self.on_step = on_step
        self.hook_steps = sorted(set(int(s) for s in hook_steps))
        set_seed(config.seed)  # the same seed builds the same initial weights
        with self.strategy.scope():
            self.model = model_fn()
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        self._iterator = iter(self.strategy.experimental_distribute_dataset(dataset))
        # The data iterator is saved too, so a resumed run sees the batches an uninterrupted one
        # would. Multi-device iterators cannot be saved: there the data stream restarts.
        data = {"data": self._iterator} if isinstance(self._iterator, tf.__internal__.tracking.Trackable) else {}
        # Every model variable by position, the non-trainable ones included (BatchNorm's moving
        # statistics): tf.train.Checkpoint does not walk a Keras 3 model's layers, and the
        # optimizers only reach the trainable weights.
        self.checkpoint = tf.train.Checkpoint(step=self.step, model_variables=list(self.model.variables), **data,
                                              **self.model.optimizers)
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, os.path.join(config.out_dir, "checkpoints"), max_to_keep=config.max_to_keep
        )
        self.history_path = os.path.join(config.out_dir, "logs", "history.json")
        # One tf.function per Trainer instance (never a module-level one shared by models). It
        # runs a chunk of steps in-graph: on small models the Python round trip per step costs
        # as much as the step itself.
        self._replica_fn = tf.function(self.model.train_step, jit_compile=config.jit_compile,
                                       autograph=config.autograph)
        self._one_step = tf.function(self._one_step, autograph=False)  # traced once, called twice
        self._chunk_fn = tf.function(self._train_chunk, autograph=False)

    def _one_step(self):
        batch = next(self._iterator)
        seed = tf.stack([tf.constant(self.config.seed, tf.int64), self.step])
        # Each replica draws its own noise: the replica id is folded into the step's seed.
        seeds = self.strategy.experimental_distribute_values_from_function(
            lambda context: replica_seed(seed, context.replica_id_in_sync_group))
        per_replica = self.strategy.run(self._replica_fn, args=(batch, seeds))
        self.step.assign_add(1)
        return {
            name: self.strategy.reduce(tf.distribute.ReduceOp.MEAN, value, axis=None)
            for name, value in per_replica.items()
        }

    @staticmethod
    def _all_finite(losses):
        return tf.reduce_all([tf.math.is_finite(tf.cast(v, tf.float32)) for v in losses.values()])

    def _train_chunk(self, num_steps):
        """num_steps (>= 1) steps; stops early after a non-finite loss. Returns the last losses.

        An explicit tf.while_loop (no autograph: converting the step's source costs seconds of
        start-up). Its condition, not a cond branch, holds strategy.run: strategy.run inside a
        tf.cond branch fails under MirroredStrategy."""
        losses = self._one_step()

        def keep_going(done, losses):
            return tf.logical_and(done < num_steps, self._all_finite(losses))

        def body(done, losses):
            return done + 1, self._one_step()

        _, losses = tf.while_loop(keep_going, body, (tf.constant(1, tf.int64), losses))
        return losses

    def restore(self):
        """Restores the latest checkpoint, if any; returns the step it was taken at."""
        latest = self.manager.latest_checkpoint
        if latest:
            try:
                self.checkpoint.restore(latest).assert_existing_objects_matched()
            except (AssertionError, ValueError, tf.errors.InvalidArgumentError) as error:
                raise CheckpointMismatch(
                    f"the checkpoint in {os.path.dirname(latest)} does not match this model "
                    f"(different flags?); use another --out_dir. ({str(error).splitlines()[0][:120]})"
                ) from None
        return int(self.step.numpy())

    def _save(self, history):
        self._saved_step = int(self.step.numpy())
        self.manager.save(checkpoint_number=self._saved_step)
        io.write_json(self.history_path, history)

    def run(self):
        config = self.config
        start_step = self.restore()
        self._saved_step = start_step if self.manager.latest_checkpoint else None
        # History entries past the restored step belong to a run that died before saving.
        history = [h for h in io.read_json(self.history_path, []) if h["step"] <= start_step]
        if self.manager.latest_checkpoint is None:
            self._save(history)  # step 0: there is always a last good checkpoint to go back to
        writer = tf.summary.create_file_writer(os.path.join(config.out_dir, "logs", "train"))
        progress = ProgressBar(config.steps, initial=start_step) if config.progress else None
        stopped, step = None, start_step
        started = time.perf_counter()
        while step < config.steps:
            # Stop the in-graph chunk wherever the host has something to do.
            stop = min(config.steps, (step // config.log_every + 1) * config.log_every,
                       (step // config.checkpoint_every + 1) * config.checkpoint_every,
                       *[s for s in self.hook_steps if s > step])
            losses = {k: float(v) for k, v in self._chunk_fn(tf.constant(stop - step, tf.int64)).items()}
            step = int(self.step.numpy())
            bad = [k for k, v in losses.items() if not math.isfinite(v)]
            if bad:
                stopped = f"loss '{bad[0]}' became {losses[bad[0]]} at step {step}"
                break
            if step % config.log_every == 0 or step == config.steps:
                history.append({"step": step, **losses})
                with writer.as_default(step=step):
                    for name, value in losses.items():
                        tf.summary.scalar(name, value)
            if progress:
                progress.update(step, losses)
            if self.on_step and step in self.hook_steps:
                self.on_step(step, losses)
            if step % config.checkpoint_every == 0:
                self._save(history)
        seconds = time.perf_counter() - started
        if progress:
            progress.close()
        writer.flush()
        if stopped:
            good = self.manager.latest_checkpoint
            self.checkpoint.restore(good)
            stopped += f"; stopped and restored the last good checkpoint ({os.path.basename(good)})"
            step = int(self.step.numpy())
        elif self._saved_step != step:
            self._save(history)
        done = step - start_step if not stopped else 0
        return TrainResult(step, start_step, history, stopped, seconds, done / seconds if seconds > 0 else 0.0,
                           int(self.strategy.num_replicas_in_sync))
