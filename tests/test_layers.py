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


def test_fan_in_uniform_initialises_as_pytorch_does():
    """PyTorch's default for nn.Linear and nn.Conv2d/ConvTranspose2d: weights and biases uniform in
    +-1/sqrt(fan_in), fan_in = inputs x kernel area (ConvTranspose2d: its output channels x area)."""
    import keras
    import numpy as np
    import tensorflow as tf

    from common.layers import fan_in_uniform

    def made():
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input((8, 8, 3)),
                keras.layers.Conv2D(16, 3),
                keras.layers.Conv2DTranspose(5, 4),
                keras.layers.Flatten(),
                keras.layers.Dense(400),
            ]
        )
        fan_in_uniform(model)
        return model

    model = made()
    conv, transpose, _, dense = model.layers
    for layer, fan_in in ((conv, 3 * 9), (transpose, 5 * 16), (dense, int(np.prod(dense.kernel.shape[:-1])))):
        bound = 1 / np.sqrt(fan_in)
        for variable in (layer.kernel, layer.bias):
            values = np.asarray(variable)
            assert np.abs(values).max() <= bound and np.any(values != 0), layer.name
            if values.size >= 100:  # uniform's reach and spread
                assert np.abs(values).max() > 0.9 * bound
                assert abs(values.std() - bound / np.sqrt(3)) < 0.1 * bound
    for a, b in zip(model.weights, made().weights):  # seeded: the same draw again
        np.testing.assert_array_equal(a, np.asarray(b))
    assert tf.reduce_all(tf.math.is_finite(model(tf.zeros((1, 8, 8, 3)))))
