"""The one training loop of creative-gans.

An experiment hands the `Trainer` a factory for its model and a tf.data pipeline. The model is a
Keras model with
  * `optimizers`: a dict naming what each Keras optimizer updates ("generator",
    "discriminator"; "vae"), built (`optimizer.build(vars)`) in the constructor so checkpoints
    restore into existing slots; the names are the optimizers' checkpoint keys;
  * optionally `legacy_optimizer_keys`: {name: the key an older release saved it under}, so
    runs checkpointed before a rename still resume;
  * its layers and variables as attributes: checkpoints track them by attribute name, so adding
    a variable (an EMA copy, a new head) later still restores older runs;
  * `update(batch, seed) -> dict[str, scalar tensor]`: one update on one replica's batch.
    `seed` is a stateless RNG seed (shape [2]) unique to this step and replica, so runs are
    reproducible and a resumed run draws the same noise an uninterrupted one would. It is
    traced without autograph: tensor-dependent control flow is written with tf.cond /
    tf.while_loop (converting its source would cost seconds of start-up).
The Trainer builds the model under the `tf.distribute` strategy, restores the latest checkpoint,
runs `update` inside one `tf.function` per Trainer (`strategy.run` for multi-device), writes
TensorBoard scalars, shows a progress bar with ETA, saves checkpoints, and stops on a NaN/Inf
loss keeping (and restoring) the last good checkpoint.
"""

import dataclasses
import glob
import math
import os
import shutil
import time

import keras
import tensorflow as tf

from common import files
from common.classes import CheckpointMismatch, RunFailed, UsageError
from common.distribute import replica_seed
from common.progress import ProgressBar
from common.rundir import Diverged


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    out_dir: str
    steps: int
    seed: int = 0
    log_every: int = 25
    checkpoint_every: int = 500
    max_to_keep: int = 2
    jit_compile: bool = False  # XLA-compile update
    progress: bool = True


@dataclasses.dataclass
class TrainResult:
    step: int  # the global step reached
    start_step: int  # the step the run resumed from (0 for a fresh run)
    history: list  # [{"step": s, loss: value, ...}] every log_every steps, resumes included
    seconds: float  # wall time of this invocation's loop
    steps_per_second: float
    replicas: int = 1  # devices the strategy trained on
    # Training time and speed over every invocation of this run (a rerun of a finished run keeps
    # the timing of the runs that trained it).
    total_seconds: float = 0.0
    total_steps_per_second: float = 0.0
    workers: int = 1  # processes of a multi_worker strategy
    # This invocation's first in-graph chunk (tracing, graph optimisation, XLA compilation and
    # its steps) and its number of steps: what compile_seconds() estimates from.
    first_chunk_seconds: float = 0.0
    first_chunk_steps: int = 0

    def compile_seconds(self):
        """Seconds this invocation spent tracing and compiling its training step: the first
        chunk's time less its steps at the speed of the rest. None when the first chunk was the
        whole run (nothing to tell the speed by)."""
        done = self.step - self.start_step
        rest = done - self.first_chunk_steps
        if self.first_chunk_steps <= 0 or rest <= 0:
            return None
        per_step = max(0.0, self.seconds - self.first_chunk_seconds) / rest
        return max(0.0, self.first_chunk_seconds - per_step * self.first_chunk_steps)

    def numbers(self, steps_per_epoch=None):
        """What every run's metrics.json says about the run itself: where it resumed from, its
        training time and speed over all invocations, its devices, the last logged value of each
        loss (`final_<name>`) and, given the epoch length, seconds per epoch."""
        speed = self.total_steps_per_second
        out = {
            "dtype_policy": keras.mixed_precision.dtype_policy().name,
            "resumed_from_step": self.start_step,
            "train_seconds": round(self.total_seconds, 3),
            "steps_per_second": round(speed, 2),
            "replicas": self.replicas,
            "workers": self.workers,
        }
        if steps_per_epoch:
            out["seconds_per_epoch"] = round(steps_per_epoch / speed, 3) if speed else None
        last = self.history[-1] if self.history else {}
        out.update({f"final_{k}": v for k, v in last.items() if k != "step"})
        return out


def set_seed(seed):
    """Python, NumPy and TensorFlow seeds in one call (keras.utils.set_random_seed)."""
    keras.utils.set_random_seed(int(seed))


class Trainer:
    def __init__(
        self, model_fn, dataset, config, strategy=None, on_step=None, hook_steps=(), initialize=None
    ):
        """model_fn() -> model (called inside the strategy scope); dataset: tf.data of global
        batches; on_step(step, losses): host callback after each step in hook_steps (snapshots);
        initialize(model): called once on a fresh run (no checkpoint yet), before its first save —
        e.g. weights from another run to fine-tune."""
        self.initialize = initialize
        self.strategy = strategy or tf.distribute.get_strategy()
        self.workers = getattr(self.strategy.extended, "_num_workers", 1)
        # On CPUs XLA cannot serve several replicas: TensorFlow has no collectives for XLA-compiled
        # code across workers (b/194942685), and a compiled step is placed on one logical CPU
        # device while the replicas' variables live on the others.
        if (
            config.jit_compile
            and self.strategy.num_replicas_in_sync > 1
            and not tf.config.list_physical_devices("GPU")
        ):
            where = "multi_worker on CPUs" if self.workers > 1 else "mirrored over logical CPU devices"
            print(f"{where}: training without XLA (--nojit), which TensorFlow requires there")
            config = dataclasses.replace(config, jit_compile=False)
        self.config = config
        self.on_step = on_step
        self.hook_steps = sorted(set(int(s) for s in hook_steps))
        set_seed(config.seed)  # the same seed builds the same initial weights
        with self.strategy.scope():
            self.model = model_fn()
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
        self._iterator = iter(self.strategy.experimental_distribute_dataset(dataset))
        # The data iterator is saved too, so a resumed run sees the batches an uninterrupted one
        # would. Multi-device iterators cannot be saved: there the data stream restarts.
        data = (
            {"data": self._iterator} if isinstance(self._iterator, tf.__internal__.tracking.Trackable) else {}
        )
        # The model's variables are saved by attribute path (named_variables: the non-trainable
        # ones included), so a variable added to a model later (an EMA copy, a new head) leaves
        # older runs restorable. Runs saved before by position are read by position.
        legacy = getattr(self.model, "legacy_optimizer_keys", None) or {}
        self._optimizer_keys = [self.model.optimizers] + (
            [{legacy.get(k, k): o for k, o in self.model.optimizers.items()}] if legacy else []
        )
        self._data = data
        self._variables = named_variables(self.model)
        self.checkpoint = tf.train.Checkpoint(
            step=self.step, variables=self._variables, **data, **self.model.optimizers
        )
        self.checkpoint_dir = os.path.join(config.out_dir, "checkpoints")
        self.manager = self._open_manager()
        self.history_path = os.path.join(config.out_dir, "logs", "history.json")
        self.timing_path = os.path.join(config.out_dir, "logs", "timing.json")
        # One tf.function per Trainer instance (never a module-level one shared by models). It
        # runs a chunk of steps in-graph: on small models the Python round trip per step costs
        # as much as the step itself.
        self._replica_fn = tf.function(self.model.update, jit_compile=config.jit_compile, autograph=False)
        self._one_step = tf.function(self._one_step, autograph=False)  # traced once, called twice
        self._finite_fn = tf.function(
            lambda: tf.reduce_all(
                [
                    tf.reduce_all(tf.math.is_finite(v))
                    for v in self.model.variables
                    if tf.as_dtype(v.dtype).is_floating
                ]
            ),
            autograph=False,
        )
        self._chunk_fn = tf.function(self._train_chunk, autograph=False)

    def _one_step(self):
        batch = next(self._iterator)
        seed = tf.stack([tf.constant(self.config.seed, tf.int64), self.step])
        # Each replica draws its own noise: the replica id is folded into the step's seed.
        seeds = self.strategy.experimental_distribute_values_from_function(
            lambda context: replica_seed(seed, context.replica_id_in_sync_group)
        )
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
        traced = self._one_step.get_concrete_function().structured_outputs
        losses = {name: tf.zeros(value.shape, value.dtype) for name, value in traced.items()}

        def keep_going(done, losses):
            return tf.logical_and(done < num_steps, self._all_finite(losses))

        def body(done, losses):
            return done + 1, self._one_step()

        _, losses = tf.while_loop(keep_going, body, (tf.constant(0, tf.int64), losses))
        return losses

    def _checkpoints_on_disk(self):
        """ckpt-N prefixes with an index file in the checkpoint folder, newest first."""
        found = []
        for path in glob.glob(os.path.join(self.checkpoint_dir, "ckpt-*.index")):
            number = os.path.basename(path)[len("ckpt-") : -len(".index")]
            if number.isdigit():
                found.append((int(number), path[: -len(".index")]))
        return [prefix for _, prefix in sorted(found, reverse=True)]

    def _open_manager(self):
        """A CheckpointManager whose list is what is on disk: a missing, damaged or stale state
        file (`checkpoints/checkpoint`) is rewritten from the checkpoint files themselves."""
        on_disk = self._checkpoints_on_disk()
        try:
            state = tf.train.get_checkpoint_state(self.checkpoint_dir)
            listed = [
                p
                for p in (state.all_model_checkpoint_paths if state else [])
                if os.path.exists(p + ".index")
                or os.path.exists(os.path.join(self.checkpoint_dir, p + ".index"))
            ]
        except Exception:  # noqa: BLE001 - any parse error of a damaged state file
            listed = None
        if on_disk and (listed is None or len(listed) != len(on_disk)):
            print(
                f"checkpoint list {os.path.join(self.checkpoint_dir, 'checkpoint')} was missing or damaged; "
                f"rebuilt it from the {len(on_disk)} checkpoint(s) on disk"
            )
            return self._manager_of(on_disk)
        if listed is None:
            os.remove(os.path.join(self.checkpoint_dir, "checkpoint"))
        return tf.train.CheckpointManager(
            self.checkpoint, self.checkpoint_dir, max_to_keep=self.config.max_to_keep
        )

    def _manager_of(self, prefixes):
        """A CheckpointManager over exactly these checkpoints (newest first), its list rewritten."""
        tf.compat.v1.train.update_checkpoint_state(self.checkpoint_dir, prefixes[0], list(reversed(prefixes)))
        return tf.train.CheckpointManager(
            self.checkpoint, self.checkpoint_dir, max_to_keep=self.config.max_to_keep
        )

    def restore(self):
        """Restores the newest readable checkpoint, falling back to older ones when the newest is
        damaged (each damaged one is said in one line and moved to checkpoints/damaged/); returns
        the step it was taken at (0 for a new run)."""
        failures, mismatches = [], []
        for path in self._checkpoints_on_disk():
            try:
                self._restore_from(path)
            except (AssertionError, ValueError, tf.errors.InvalidArgumentError) as error:
                mismatches.append(error)
                failures.append((path, f"does not match this model: {str(error).splitlines()[0][:100]}"))
                continue
            except Exception as error:  # noqa: BLE001 - a damaged file fails in many ways (IndexError, DataLossError, ...)
                text = (str(error).splitlines() or [""])[0][:100]
                failures.append((path, f"{type(error).__name__}: {text}"))
                continue
            if failures:
                self._set_aside(failures, path)
            return int(self.step.numpy())
        if failures and len(mismatches) == len(failures):  # every checkpoint is another model's
            raise CheckpointMismatch(
                f"the checkpoint in {self.checkpoint_dir} does not match this model (different flags?); use "
                "another "
                f"--out_dir. ({str(mismatches[0]).splitlines()[0][:120]})"
            )
        if failures:
            details = "; ".join(f"{os.path.basename(p)}: {why}" for p, why in failures[:3])
            raise RunFailed(
                f"every checkpoint in {self.checkpoint_dir} is unreadable ({details}); delete that folder "
                "to train again from step 0"
            )
        return 0

    def _restore_from(self, path):
        """Restores `path` under the first layout it fits (today's first): the optimizers under
        today's keys or older ones, the variables by name or (runs saved before they were tracked
        by name) by position, with or without the data iterator (a run saved across several
        devices has none: its data stream starts afresh). Raises the mismatch of today's layout
        when it fits none."""
        saved = {name for name, _ in tf.train.list_variables(path)}
        by_name = not any(name.startswith("model_variables/") for name in saved)
        saved_data = any(name.startswith("data/") for name in saved)
        data = self._data if saved_data else {}
        mismatch = None
        for keys in self._optimizer_keys:
            model = (
                {"variables": self._variables} if by_name else {"model_variables": list(self.model.variables)}
            )
            checkpoint = tf.train.Checkpoint(step=self.step, **model, **data, **keys)
            try:
                self._restore_one(checkpoint, path, by_name)
            except (AssertionError, ValueError) as error:
                mismatch = mismatch or error
                continue
            if self._data and not data:
                print(
                    f"{os.path.basename(path)} holds no data position (saved across devices): the data "
                    "stream starts afresh"
                )
            elif saved_data and not self._data:
                print(
                    f"{os.path.basename(path)}'s data position (saved on one device) cannot be restored "
                    "across devices: the data stream starts afresh"
                )
            return
        raise mismatch

    def _restore_one(self, checkpoint, path, by_name):
        unused = unused_values(path, checkpoint, self._variables) if by_name else []
        if not self._data:  # a data position saved on one device has no place across devices
            unused = [name for name in unused if not name.startswith("data/")]
        status = checkpoint.restore(path).expect_partial()  # checked below, not warned about later
        if unused:  # values no variable of this model takes: another model's checkpoint
            raise AssertionError(f"{len(unused)} saved values have no place in this model, e.g. {unused[0]}")
        try:
            status.assert_existing_objects_matched()
        except AssertionError:
            if not by_name:
                raise  # by position, every variable must have its value
            print(
                f"{os.path.basename(path)}: the model has variables this run's checkpoint does not "
                "(added since it was saved); they start from their initial values"
            )

    def _set_aside(self, failures, used):
        """Moves damaged checkpoints out of the way (so the manager never lists or keeps them)."""
        aside = os.path.join(self.checkpoint_dir, "damaged")
        os.makedirs(aside, exist_ok=True)
        for path, why in failures:
            print(
                f"checkpoint {os.path.basename(path)} is damaged or unreadable ({why}); "
                f"resuming from {os.path.basename(used)} instead (the damaged files are in {aside})"
            )
            for name in glob.glob(path + ".*"):
                shutil.move(name, os.path.join(aside, os.path.basename(name)))
        self.manager = self._manager_of(self._checkpoints_on_disk())

    def _read_history(self):
        try:
            history = files.read_json(self.history_path, [])
            if not isinstance(history, list) or not all(
                isinstance(h, dict) and isinstance(h.get("step"), int) for h in history
            ):
                raise ValueError("not a list of {step, losses} entries")
            return history
        except (ValueError, UnicodeDecodeError):
            print(
                f"{self.history_path} is damaged; starting a new loss history (the checkpoints are "
                "unaffected)"
            )
            return []

    def _read_timing(self):
        try:
            timing = files.read_json(self.timing_path, {})
            return float(timing.get("seconds", 0.0)), int(timing.get("steps", 0))
        except (ValueError, TypeError, AttributeError, UnicodeDecodeError):
            return 0.0, 0

    def _save(self, history, timing=None):
        step = int(self.step.numpy())
        if not bool(self._finite_fn()):
            raise _NonFinite(f"a weight became NaN or infinite by step {step}")
        try:
            # The history first: a kill between the two leaves it ahead of the checkpoint, and a
            # resume drops the entries past the step it restores (then logs them again). The other
            # way round, a run killed after its last checkpoint lacked its last losses for good.
            files.write_json(self.history_path, history)
            self.manager.save(checkpoint_number=step)
            if timing is not None:
                files.write_json(self.timing_path, {"seconds": timing[0], "steps": timing[1]})
        except (tf.errors.OpError, OSError) as error:
            if "No space left" in str(error) or getattr(error, "errno", None) == 28:
                raise RunFailed(
                    f"the disk is full: could not save the checkpoint of step {step} in "
                    f"{self.checkpoint_dir}; free space and rerun the command (it resumes from step "
                    f"{self._saved_step or 0})"
                ) from None
            raise
        self._saved_step = step

    def run(self):
        config = self.config
        start_step = self.restore()
        if start_step == 0 and self.initialize is not None and self.manager.latest_checkpoint is None:
            self.initialize(self.model)
        if start_step > config.steps:
            raise UsageError(
                f"{config.out_dir} is already trained for {start_step} steps, more than the {config.steps} "
                "this command asks for; ask for at least as many (the run then resumes, or only "
                "re-evaluates), or choose another --out_dir"
            )
        self._saved_step = start_step if self.manager.latest_checkpoint else None
        # History entries past the restored step belong to a run that died before saving.
        history = [h for h in self._read_history() if h["step"] <= start_step]
        past_seconds, past_steps = self._read_timing()
        if start_step == 0:
            past_seconds, past_steps = 0.0, 0
        writer = tf.summary.create_file_writer(os.path.join(config.out_dir, "logs", "train"))
        progress = ProgressBar(config.steps, initial=start_step) if config.progress else None
        diverged, step, first_chunk = None, start_step, ()
        started = time.perf_counter()

        def timing():
            return past_seconds + time.perf_counter() - started, past_steps + step - start_step

        try:
            if self.manager.latest_checkpoint is None:
                self._save(history, (0.0, 0))  # step 0: there is always a last good checkpoint to go back to
            while step < config.steps:
                # Stop the in-graph chunk wherever the host has something to do.
                stop = min(
                    config.steps,
                    (step // config.log_every + 1) * config.log_every,
                    (step // config.checkpoint_every + 1) * config.checkpoint_every,
                    *[s for s in self.hook_steps if s > step],
                )
                chunk_start = time.perf_counter()
                losses = {k: float(v) for k, v in self._chunk_fn(tf.constant(stop - step, tf.int64)).items()}
                if not first_chunk:
                    first_chunk = (time.perf_counter() - chunk_start, int(self.step.numpy()) - step)
                step = int(self.step.numpy())
                bad = [k for k, v in losses.items() if not math.isfinite(v)]
                if bad:
                    raise _NonFinite(f"loss '{bad[0]}' became {losses[bad[0]]} at step {step}")
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
                    self._save(history, timing())
        except _NonFinite as error:
            diverged = str(error)
        seconds = time.perf_counter() - started
        if progress:
            progress.close()
        writer.flush()
        if diverged:
            good = self.manager.latest_checkpoint
            self.checkpoint.restore(good)
            raise Diverged(
                f"training diverged: {diverged}; the last good checkpoint "
                f"({os.path.basename(good)}, step {int(self.step.numpy())}) is kept. Lower the learning "
                "rates or change the settings, in another --out_dir",
                step,
            )
        done = step - start_step
        total_seconds, total_steps = timing() if done else (past_seconds, past_steps)
        if self._saved_step != step:
            self._save(history, (total_seconds, total_steps))
        elif done:
            files.write_json(self.timing_path, {"seconds": total_seconds, "steps": total_steps})
        return TrainResult(
            step,
            start_step,
            history,
            seconds,
            done / seconds if seconds > 0 and done else 0.0,
            int(self.strategy.num_replicas_in_sync),
            total_seconds,
            total_steps / total_seconds if total_seconds > 0 else 0.0,
            self.workers,
            *(first_chunk or (0.0, 0)),
        )


# Keras' own bookkeeping lists: a variable is named by the path through them only when no other
# attribute reaches it (they hold layers and variables by position).
_BOOKKEEPING = ("_layers", "_trainable_variables", "_non_trainable_variables", "_tracker", "_seed_generators")


def named_variables(model):
    """{attribute path: variable} for every variable of a Keras model, e.g. "encoder/body/0/_kernel"
    for `model.encoder.body[0]`'s kernel: the names a checkpoint saves them under. Keras 3 tracks
    neither lists nor dicts of layers for tf.train.Checkpoint, so the walk is done here: through
    layers, lists, tuples and dicts, public attributes before private ones and Keras' bookkeeping
    lists last, each variable under the first path that reaches it (optimizers are saved apart).
    Variables no attribute reaches are named by their position in model.variables."""
    import keras

    found, seen = {}, set()

    def walk(obj, path):
        if isinstance(obj, (tf.Variable, keras.Variable)):
            if id(obj) not in seen:
                seen.add(id(obj))
                found[path] = obj
            return
        if isinstance(obj, keras.optimizers.Optimizer) or id(obj) in seen:
            return
        if isinstance(obj, keras.layers.Layer):
            seen.add(id(obj))
            names = sorted(vars(obj), key=lambda n: (n in _BOOKKEEPING, n.startswith("_"), n))
            for name in names:
                walk(getattr(obj, name, None), f"{path}/{name}" if path else name)
        elif isinstance(obj, (list, tuple)):
            for i, item in enumerate(obj):
                walk(item, f"{path}/{i}")
        elif isinstance(obj, dict):
            for key in sorted(obj, key=str):
                walk(obj[key], f"{path}/{key}")

    walk(model, "")
    for i, variable in enumerate(model.variables):
        if id(variable) not in seen:
            found[f"unreached/{i}"] = variable
    return found


def by_position(path):
    """Whether a checkpoint lists the model's variables by position, as runs saved before they
    were tracked by name do."""
    return any(name.startswith("model_variables/") for name, _ in tf.train.list_variables(path))


def _escaped(name):
    """A name as tf.train.Checkpoint writes it into a checkpoint key."""
    return name.replace(".", "..").replace("/", ".S")


def unused_values(path, checkpoint, variables):
    """What the checkpoint at `path` holds that `checkpoint` (with the model's `variables`, by
    name) has no place for: a variable this model does not have, or a top-level object (an
    optimizer) under a name it does not use. Variables the model has and the checkpoint lacks
    (added since) are not listed."""
    wanted = {_escaped(name) for name in variables}
    top = {name for name in vars(checkpoint) if not name.startswith("_")} | {
        "save_counter",
        "_CHECKPOINTABLE_OBJECT_GRAPH",
    }
    unused = []
    for key, _ in tf.train.list_variables(path):
        first, _, rest = key.partition("/")
        if first not in top:
            unused.append(key)
        elif first == "variables" and rest.split("/")[0] not in wanted:
            unused.append(key)
    return unused


def restore_model(model, path):
    """Restores only the model's variables from a harness checkpoint at `path` (by name, or by
    position for an older run); the optimizers and the data iterator in it are ignored. Raises
    AssertionError or ValueError when the checkpoint is another model's."""
    if by_position(path):
        tf.train.Checkpoint(model_variables=list(model.variables)).restore(
            path
        ).expect_partial().assert_existing_objects_matched()
        return
    status = tf.train.Checkpoint(variables=named_variables(model)).restore(path).expect_partial()
    status.assert_existing_objects_matched()


class _NonFinite(Exception):
    """A NaN or infinite loss or weight: the run diverged."""
