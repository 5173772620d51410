import numpy as np
import pytest

from common import metrics, toy_data

SPEC = toy_data.toy_spec("8Gaussians")


def test_points_on_every_centre_are_all_high_quality():
    points = np.repeat(SPEC.centres, 10, axis=0)
    assert metrics.hq_fraction(points, SPEC) == 1.0
    assert metrics.modes_captured(points, SPEC) == 8
    assert metrics.mode_kl(points, SPEC) == pytest.approx(0.0, abs=1e-12)
    assert metrics.missing_mode_hits(points, SPEC, ()) == 0.0


def test_hq_threshold_is_three_sigma():
    inside = SPEC.centres[:1] + [[2.9 * SPEC.sigma, 0.0]]
    outside = SPEC.centres[:1] + [[3.1 * SPEC.sigma, 0.0]]
    assert metrics.hq_fraction(inside, SPEC) == 1.0
    assert metrics.hq_fraction(outside, SPEC) == 0.0
    assert metrics.hq_fraction(np.zeros((5, 2)), SPEC) == 0.0  # the ring's centre is no mode


def test_modes_captured_counts_present_modes_only():
    points = np.concatenate([SPEC.centres[[0, 1, 2]], np.zeros((3, 2))])
    assert metrics.modes_captured(points, SPEC) == 3
    assert metrics.modes_captured(points, SPEC, missing=(1,)) == 2  # mode 1 is not "present"


def test_missing_mode_hits_is_the_fraction_on_removed_centres():
    points = np.concatenate([np.repeat(SPEC.centres[[1]], 3, 0), np.repeat(SPEC.centres[[0]], 7, 0)])
    assert metrics.missing_mode_hits(points, SPEC, (1,)) == pytest.approx(0.3)
    assert metrics.missing_mode_hits(points, SPEC, (4,)) == 0.0


def test_mode_kl_of_a_single_mode_is_log_k():
    points = np.repeat(SPEC.centres[[3]], 20, axis=0)
    assert metrics.mode_kl(points, SPEC) == pytest.approx(np.log(8))
    assert metrics.mode_kl(points, SPEC, missing=(0, 1)) == pytest.approx(np.log(6))


def test_nn_distance_is_the_mean_distance_to_the_nearest_training_point():
    train = np.array([[0.0, 0.0], [10.0, 0.0]])
    samples = np.array([[0.0, 3.0], [10.0, 1.0]])
    assert metrics.nn_distance(samples, train) == pytest.approx(2.0)
    images = np.zeros((2, 4, 4, 1))
    assert metrics.nn_distance(images + 0.5, images) == pytest.approx(2.0)  # flattened: sqrt(16 * 0.25)


@pytest.mark.parametrize("dim", [3, 20])  # k-d tree and chunked brute force
def test_nearest_neighbours_agree_with_brute_force(dim):
    rng = np.random.default_rng(0)
    points, refs = rng.normal(size=(300, dim)), rng.normal(size=(500, dim))
    index, dist = metrics.nearest_neighbours(points, refs, budget=1000)
    brute = np.linalg.norm(points[:, None] - refs[None], axis=-1)
    np.testing.assert_array_equal(index, brute.argmin(1))
    np.testing.assert_allclose(dist, brute.min(1), atol=1e-9)


def test_conditional_metrics_say_where_a_removed_label_lands():
    samples = np.concatenate(
        [
            np.repeat(SPEC.centres[[0]], 4, 0),  # label 0 on its own mode
            np.repeat(SPEC.centres[[2]], 3, 0),
            np.zeros((1, 2)),
        ]
    )  # label 4 on mode 2 / nowhere
    labels = np.array([0, 0, 0, 0, 4, 4, 4, 4])
    out = metrics.conditional_metrics(samples, labels, SPEC, missing=(4,))
    assert out["label_0_on_own_mode"] == 1.0
    assert out["label_4_on_own_mode"] == 0.0
    assert out["removed_label_4_on_mode_2"] == pytest.approx(0.75)
    assert out["removed_label_4_off_modes"] == pytest.approx(0.25)
    assert out["present_labels_on_own_mode"] == 1.0


def test_swissroll_metrics_use_the_curve():
    spec = toy_data.toy_spec("swissroll")
    x, _ = toy_data.sample_toy("swissroll", 2000, np.random.default_rng(0))
    assert metrics.hq_fraction(x, spec) > 0.97
    assert metrics.modes_captured(x, spec) == 8
    assert metrics.hq_fraction(x + 1.0, spec) < 0.3


# ------------------------------------------------------------------------- image metrics
def test_class_histogram_and_removed_class_hits_by_hand():
    probs = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.45, 0.45], [0.3, 0.3, 0.4]])
    np.testing.assert_allclose(metrics.class_histogram(probs), [0.25, 0.5, 0.25])
    # class 1 wins twice but only once above 0.5; class 2 wins once at 0.4 (not confident)
    assert metrics.removed_class_hits(probs, (1,)) == pytest.approx(0.25)
    assert metrics.removed_class_hits(probs, (1, 2)) == pytest.approx(0.25)
    assert metrics.removed_class_hits(probs, (1,), confidence=0.4) == pytest.approx(0.5)
    assert metrics.removed_class_hits(probs, ()) == 0.0
    np.testing.assert_array_equal(metrics.removed_class_mask(probs, (0, 1)), [True, True, False, False])


def test_classifier_score_bounds():
    same = np.tile([[0.2, 0.5, 0.3]], (6, 1))
    assert metrics.classifier_score(same) == pytest.approx(1.0)
    one_hot = np.eye(4)[[0, 1, 2, 3, 0, 1, 2, 3]]
    assert metrics.classifier_score(one_hot) == pytest.approx(4.0, rel=1e-6)
    two_classes = np.eye(4)[[0, 1, 0, 1]]
    assert metrics.classifier_score(two_classes) == pytest.approx(2.0, rel=1e-6)


def test_precision_recall_tell_quality_from_coverage():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(400, 8))
    same = rng.normal(size=(400, 8))  # another draw of the real distribution
    p, r = metrics.precision_recall(same, real)
    assert p > 0.8 and r > 0.8
    collapsed = np.repeat(real[:1], 400, axis=0) + 1e-3 * rng.normal(size=(400, 8))  # one real point, copied
    p, r = metrics.precision_recall(collapsed, real)
    assert p == 1.0 and r < 0.05
    far = rng.normal(size=(400, 8)) + 50.0  # nothing realistic, nothing covered
    assert metrics.precision_recall(far, real) == (0.0, 0.0)
    # By hand: real points 0, 1, 2, 3 on a line (k=1 radii all 1); generated at 0.5 and at 10.
    line = np.array([[0.0], [1.0], [2.0], [3.0]])
    p, r = metrics.precision_recall(np.array([[0.5], [10.0]]), line, k=1)
    assert p == 0.5  # 0.5 lies within 1 of a real point, 10 does not
    # The generated balls have radius 9.5 (each one's nearest other generated point): every real
    # point is inside one, so an outlier inflates recall (why k is small and the sets large).
    assert r == 1.0

    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 3))
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    # Same covariance, mean shifted by (1, 2, 0): distance |shift|^2 = 5.
    assert metrics.frechet_distance(a, a + [1.0, 2.0, 0.0]) == pytest.approx(5.0, rel=1e-6)
    # 1-d Gaussians N(0, 1) and N(0, 4): (sqrt(1) - sqrt(4))^2 = 1, from exact sample moments.
    x = np.array([-1.0, 1.0] * 50)[:, None]
    var = np.var(x, ddof=1)
    assert metrics.frechet_distance(x, 2 * x) == pytest.approx((np.sqrt(var) - np.sqrt(4 * var)) ** 2)
    assert np.isnan(metrics.frechet_distance(x, x[:1]))  # one real image of a class: undefined
    assert np.isnan(metrics.frechet_distance(np.where(x > 0, np.nan, x), x))


def test_mean_pairwise_distance_by_hand():
    points = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 4.0]])  # pair distances 5, 4, 3
    assert metrics.mean_pairwise_distance(points) == pytest.approx(4.0)
    assert metrics.mean_pairwise_distance(points[:1]) == 0.0


def test_shot_metrics_by_hand():
    shots = np.array([[0.0, 0.0], [10.0, 0.0]])
    real = np.array([[0.0, 3.0], [10.0, 4.0]])  # 3 and 4 from a shot: nearest real is 3 away
    generations = np.array([[0.0, 1.0], [10.0, 5.0], [5.0, 0.0]])  # 1, 5, 5 from a shot
    out = metrics.shot_metrics(generations, shots, real, predicted=[2, 2, 0], target=[2, 2, 2])
    assert out["nn_distance"] == pytest.approx(11.0 / 3)
    assert out["real_nn_distance_mean"] == pytest.approx(3.5) and out[
        "real_nn_distance_min"
    ] == pytest.approx(3.0)
    assert out["copy_fraction"] == pytest.approx(1.0 / 3)  # only the first is nearer than any real image
    assert out["diversity"] == pytest.approx((np.hypot(10, 4) + np.hypot(5, 1) + np.hypot(5, 5)) / 3)
    assert out["real_diversity"] == pytest.approx(np.hypot(10, 1))
    assert out["judge_accuracy"] == pytest.approx(2.0 / 3)


def test_shot_metrics_in_feature_space_by_hand():
    """The same distances on judge features: a blurred image close to the shots in pixels can be
    far from them in what the judge sees, and the other way round."""
    pixels = np.zeros((2, 3))
    features = (
        np.array([[0.0, 2.0], [0.0, 0.5]]),  # generations
        np.array([[0.0, 0.0]]),  # the shot
        np.array([[1.0, 0.0], [3.0, 0.0]]),
    )  # real images: nearest is 1 away
    out = metrics.shot_metrics(pixels, pixels[:1], np.ones((2, 3)), features=features)
    assert out["copy_fraction"] == 1.0  # in pixels every generation is the shot
    assert out["feature_nn_distance"] == pytest.approx(1.25)
    assert out["feature_real_nn_distance_min"] == pytest.approx(1.0)
    assert out["feature_copy_fraction"] == pytest.approx(0.5)
    assert out["feature_diversity"] == pytest.approx(1.5) and out["feature_real_diversity"] == pytest.approx(
        2.0
    )


def test_saturated_fraction_counts_pixels_at_either_end_of_the_8_bit_range():
    images = np.array([0.0, 0.5 / 255, 1.5 / 255, 0.5, 253.5 / 255, 254 / 255, 1.0, 0.3]).reshape(1, 2, 2, 2)
    assert metrics.saturated_fraction(images) == 4 / 8


def test_nearest_neighbours_on_image_sized_data_match_float64_brute_force():
    # The ranking uses a float32 product; the distances are exact. Images in [0, 1] with 784
    # pixels, as the nn_distance metrics use them, and a pool with exact duplicates.
    rng = np.random.default_rng(1)
    refs = rng.uniform(size=(400, 784)).astype(np.float32)
    refs[200:210] = refs[:10]
    points = np.concatenate([refs[:5] + 0.01, rng.uniform(size=(95, 784)).astype(np.float32)])
    index, dist = metrics.nearest_neighbours(points, refs, budget=5000)
    brute = np.sqrt(((points[:, None].astype(np.float64) - refs[None].astype(np.float64)) ** 2).sum(-1))
    np.testing.assert_allclose(dist, brute.min(1), rtol=1e-12)
    np.testing.assert_allclose(brute[np.arange(len(points)), index], brute.min(1), rtol=1e-12)


def test_copy_rate_does_not_depend_on_how_many_real_images_there_are():
    rng = np.random.default_rng(0)
    shots = rng.normal(size=(4, 8))
    copies = np.repeat(shots, 10, axis=0) + 0.01 * rng.normal(size=(40, 8))
    new = rng.normal(size=(40, 8))  # drawn as the real images are
    for n_real in (50, 5000):
        real = rng.normal(size=(n_real, 8))
        assert metrics.copy_rate(copies, shots, real) == 1.0
        assert metrics.copy_rate(new, shots, real) < 0.2
    # The old measure (nearer than the nearest real image) falls as real images are added.
    few, many = rng.normal(size=(20, 8)), rng.normal(size=(20000, 8))
    near = shots + 0.5 * rng.normal(size=(4, 8))
    old_few = metrics.shot_metrics(near, shots, few)["copy_fraction"]
    old_many = metrics.shot_metrics(near, shots, many)["copy_fraction"]
    assert old_many < old_few


def test_foreground_saturation_ignores_a_black_background():
    garment = np.zeros((2, 8, 8, 1))
    garment[:, 2:6, 2:6] = 0.6  # a mid-grey object on black: nothing saturated
    assert metrics.saturated_fraction(garment) > 0.7  # the old measure counts the background
    assert metrics.foreground_saturated_fraction(garment) == 0.0
    burnt = garment.copy()
    burnt[:, 2:6, 2:6] = 1.0  # the object at 255: all of the foreground saturated
    assert metrics.foreground_saturated_fraction(burnt) == 1.0
    blank = np.zeros((1, 8, 8, 3))
    assert metrics.foreground_saturated_fraction(blank) == 1.0


def test_realistic_membership_is_the_precision_of_each_sample():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(300, 2))
    gen = np.concatenate([rng.normal(size=(50, 2)), 20 + rng.normal(size=(50, 2))])
    inside = metrics.realistic(gen, real)
    assert inside[:50].mean() > 0.8 and not inside[50:].any()
    assert metrics.precision_recall(gen, real)[0] == pytest.approx(inside.mean())


def test_coverage_is_not_inflated_by_noise():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(400, 4))
    good = rng.normal(size=(400, 4))
    collapsed = np.repeat(rng.normal(size=(1, 4)), 400, axis=0)
    noise = 30 * rng.normal(size=(400, 4))  # far-flung outliers: a large recall ball, no coverage
    assert metrics.coverage(good, real) > 0.8
    assert metrics.coverage(collapsed, real) < 0.1
    assert metrics.coverage(noise, real) < 0.05
    assert metrics.precision_recall(noise, real)[1] > metrics.coverage(noise, real)
