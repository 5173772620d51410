"""tf.distribute helpers: strategy by name, per-replica loss scaling, per-replica seeds."""

import tensorflow as tf

from common.classes import UsageError


def make_strategy(name="default"):
    """default: one device; mirrored: all local GPUs (or logical CPUs); multi_worker: TF_CONFIG."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise UsageError(f"--strategy: unknown strategy '{name}'; choose default, mirrored or multi_worker")


def scale_loss(loss):
    """Divides a per-replica mean loss by the number of replicas.

    Keras 3 optimizers all-reduce gradients with SUM across replicas, so this makes a step on
    N replicas with a batch of B each equal to one step on one device with a batch of N * B.
    """
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss / tf.cast(replicas, loss.dtype) if replicas > 1 else loss


def replica_seed(seed, replica_id):
    """Folds the replica id into a stateless seed so replicas draw different noise."""
    return tf.random.experimental.stateless_fold_in(seed, replica_id)


def split_seed(seed, num):
    """`num` independent stateless seeds, shape (num, 2), from one."""
    return tf.random.experimental.stateless_split(seed, num=num)
