import numpy as np
import tensorflow as tf

from common.layers import MinibatchDiscrimination


def test_minibatch_discrimination_sees_a_collapsed_batch():
    layer = MinibatchDiscrimination(kernels=5, dim=3)
    same = layer(tf.ones((4, 6)))
    assert same.shape == (4, 11)
    np.testing.assert_allclose(same.numpy()[:, :6], 1.0)  # the features pass through
    np.testing.assert_allclose(same.numpy()[:, 6:], 3.0, rtol=1e-6)  # exp(0) from each of the 3 others
    varied = layer(tf.constant(np.arange(24).reshape(4, 6) * 10.0, tf.float32))[:, 6:]
    assert float(tf.reduce_max(varied)) < 1e-3
