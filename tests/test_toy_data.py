import numpy as np
import pytest

from common import toy_data
from common.classes import UsageError


def test_eight_gaussian_centres_follow_the_report_convention():
    spec = toy_data.toy_spec("8Gaussians", scale=2.0)
    r = 2.0 / 1.414
    np.testing.assert_allclose(spec.centres[0], [0.0, r], atol=1e-9)
    np.testing.assert_allclose(spec.centres[1], [r / np.sqrt(2), r / np.sqrt(2)], atol=1e-9)
    np.testing.assert_allclose(spec.centres[2], [r, 0.0], atol=1e-9)
    np.testing.assert_allclose(spec.centres[7], [-r / np.sqrt(2), r / np.sqrt(2)], atol=1e-9)
    assert spec.sigma == pytest.approx(0.05 / 1.414)


@pytest.mark.parametrize("name", ["8Gaussians", "25Gaussians", "swissroll"])
def test_samples_lie_near_their_labelled_class(name):
    spec = toy_data.toy_spec(name)
    x, y = toy_data.sample_toy(name, 4000, np.random.default_rng(0))
    assert x.shape == (4000, 2) and x.dtype == np.float32 and y.min() >= 0 and y.max() < spec.num_classes
    assert len(np.unique(y)) == spec.num_classes
    from common.metrics import assign_modes

    nearest, dist = assign_modes(x, spec)
    # Per-coordinate std sigma in 2-d: P(r < 3 sigma) = 1 - exp(-4.5) = 0.989.
    assert np.mean(dist < 3 * spec.sigma) == pytest.approx(0.989, abs=0.01)
    assert np.mean(nearest == y) > 0.97


def test_names_are_case_insensitive_and_unknown_names_fail_clearly():
    assert toy_data.canonical_name("8gaussians") == "8Gaussians"
    assert toy_data.canonical_name("SWISSROLL") == "swissroll"
    with pytest.raises(UsageError, match="--dataset"):
        toy_data.canonical_name("mnist9")


def test_training_set_is_seeded_and_removes_classes():
    x1, y1 = toy_data.toy_training_set("8Gaussians", seed=3, missing=(1, 4), size=5000)
    x2, y2 = toy_data.toy_training_set("8Gaussians", seed=3, missing=(1, 4), size=5000)
    np.testing.assert_array_equal(x1, x2)
    assert not np.isin(y1, [1, 4]).any()
    x3, _ = toy_data.toy_training_set("8Gaussians", seed=4, missing=(1, 4), size=5000)
    assert not np.array_equal(x1, x3)


def test_dataset_yields_seeded_batches_from_the_pool():
    x, y = toy_data.toy_training_set("8Gaussians", seed=0, size=1000)
    batches = [b for _, b in zip(range(3), toy_data.toy_dataset(x, y, 16, seed=7))]
    again = [b for _, b in zip(range(3), toy_data.toy_dataset(x, y, 16, seed=7))]
    assert batches[0][0].shape == (16, 2) and batches[0][1].shape == (16,)
    for (bx, by), (ax, ay) in zip(batches, again):
        np.testing.assert_array_equal(bx.numpy(), ax.numpy())
        np.testing.assert_array_equal(by.numpy(), ay.numpy())
    pool = {tuple(p) for p in x.tolist()}
    assert all(tuple(p) in pool for p in batches[1][0].numpy().tolist())
    assert not np.array_equal(batches[0][0].numpy(), batches[1][0].numpy())
