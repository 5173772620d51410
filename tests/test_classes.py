import numpy as np
import pytest

from common.classes import UsageError, parse_class_list, remove_classes, validate_classes


def test_parse_class_list_accepts_the_original_spellings():
    assert parse_class_list("1") == (1,)
    assert parse_class_list("4,1") == (1, 4)
    assert parse_class_list(["1", "4"]) == (1, 4)
    assert parse_class_list([]) == ()
    with pytest.raises(UsageError, match="--missing_mixt"):
        parse_class_list("one")


def test_validate_classes_names_the_flag_and_the_range():
    assert validate_classes((0, 7), 8) == (0, 7)
    with pytest.raises(UsageError, match=r"--missing_mixt: class 8 is out of range.*0\.\.7"):
        validate_classes((8,), 8)
    with pytest.raises(UsageError, match="all 8 classes"):
        validate_classes(tuple(range(8)), 8)
    with pytest.raises(UsageError, match="--remove-label"):
        validate_classes((-1,), 10, "--remove-label")


def test_remove_classes_drops_every_example():
    y = np.repeat(np.arange(4), 25)
    x = np.arange(100)
    xr, yr, shots = remove_classes(x, y, (2,))
    assert len(xr) == 75 and not (yr == 2).any() and shots == {}
    np.testing.assert_array_equal(y[xr], yr)  # x and y stay paired through the shuffle


def test_few_shot_repeats_k_shots_until_balanced():
    y = np.repeat(np.arange(4), 30)
    x = np.arange(120)
    xr, yr, shots = remove_classes(x, y, (3,), few_shot=4, rng=np.random.default_rng(1))
    kept = xr[yr == 3]
    assert set(kept.tolist()) == set(shots[3].tolist()) and len(shots[3]) == 4
    assert all(y[i] == 3 for i in shots[3])
    # about as many as an average present class (30): 4 shots repeated round(30 / 4) = 8 times
    assert len(kept) == 32
    assert np.bincount(yr).tolist()[:3] == [30, 30, 30]


def test_draw_shots_is_the_few_shot_draw_of_remove_classes():
    """FIGR and the VAE see the same shots for the same seed."""
    from common.classes import draw_shots

    y = np.repeat(np.arange(4), 10)
    _, _, shots = remove_classes(np.zeros((40, 1)), y, (3, 1), 4, np.random.default_rng(7))
    drawn = draw_shots(y, (3, 1), 4, np.random.default_rng(7))
    assert list(drawn) == [3, 1] and all(np.array_equal(drawn[c], shots[c]) for c in shots)
    assert all(set(y[drawn[c]]) == {c} and len(set(drawn[c])) == 4 for c in drawn)
