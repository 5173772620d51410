"""Adam through TensorFlow's fused kernel.

Keras 3's Adam updates a variable in about ten element-wise passes (m, v, their bias corrections,
the square root, the division, the subtraction); TensorFlow's `ResourceApplyAdam` does the same
arithmetic in one kernel per variable. On InfoGAN at Chen et al.'s widths (13.3 M parameters) the
update went from 37.6 to 14.8 ms per step without XLA (BENCHMARKS.md, roofline). The algorithm is
Kingma & Ba's, as Keras': lr_t = lr sqrt(1 - b2^t) / (1 - b1^t), m <- b1 m + (1 - b1) g,
v <- b2 v + (1 - b2) g^2, w <- w - lr_t m / (sqrt(v) + eps); the kernel orders the operations
differently, so results differ from Keras' Adam in the last bit.
"""

import keras
import tensorflow as tf


def _handle(variable):
    """The resource handle of a Keras or TensorFlow variable (under a tf.distribute update: the
    component of the device being updated)."""
    return (variable.value if isinstance(variable, keras.Variable) else variable).handle


class Adam(keras.optimizers.Adam):
    """keras.optimizers.Adam with the update of tf.raw_ops.ResourceApplyAdam (no amsgrad)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.amsgrad:
            raise ValueError("the fused Adam has no amsgrad")

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        index = self._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(
            var=_handle(variable),
            m=_handle(self._momentums[index]),
            v=_handle(self._velocities[index]),
            beta1_power=tf.pow(beta_1, step),
            beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(learning_rate, dtype),
            beta1=beta_1,
            beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype),
            grad=tf.cast(gradient, dtype),
            use_locking=False,
        )
