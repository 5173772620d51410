"""The judge: trained on the full data, cached on disk by data set + source + fingerprint, and
grading images with the image metrics."""

import os

import numpy as np
import pytest

from common import judge as judge_lib
from common.image_data import load_image_data
from common.pipelines import to_float
from tests.image_fixtures import write_tiny_idx


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    monkeypatch.setenv(judge_lib.CACHE_ENV, str(tmp_path / "cache"))
    return load_image_data("mnist", data_dir=write_tiny_idx(str(tmp_path / "data"), 30, 10))


def test_judge_learns_trains_once_and_is_cached(tiny):
    logs = []
    first = judge_lib.load_judge(tiny, epochs=6, log=logs.append)
    assert not first.info.cached and first.info.test_accuracy >= 0.9
    assert any("training a classifier" in line for line in logs)
    files = os.listdir(judge_lib.cache_dir())
    assert any(f.endswith(".weights.h5") for f in files) and not any(f.startswith(".") for f in files)
    again = judge_lib.load_judge(tiny, epochs=6, log=logs.append)
    assert again.info.cached and again.info.key == first.info.key
    images = to_float(tiny.test_x)
    np.testing.assert_allclose(again.probabilities(images), first.probabilities(images), atol=1e-5)


def test_a_damaged_cache_is_retrained(tiny):
    judge = judge_lib.load_judge(tiny, epochs=2, log=lambda _: None)
    with open(os.path.join(judge_lib.cache_dir(), f"{judge.info.key}.weights.h5"), "wb") as f:
        f.write(b"not a weights file")
    logs = []
    rebuilt = judge_lib.load_judge(tiny, epochs=2, log=logs.append)
    assert not rebuilt.info.cached and any("ignoring unreadable cache" in line for line in logs)


def test_cache_key_names_data_set_source_and_contents(tiny):
    key = judge_lib.cache_key(tiny)
    assert key.startswith("mnist-data_dir-") and tiny.fingerprint() in key


def test_grade_reports_every_image_metric(tiny):
    judge = judge_lib.load_judge(tiny, epochs=6, log=lambda _: None)
    real = to_float(tiny.test_x)
    only_nines = to_float(tiny.test_x[tiny.test_y == 9])
    graded = judge.grade(only_nines, "gen_", removed=(9,), real_features=judge.features(real))
    assert graded["gen_class_9_share"] > 0.8 and graded["gen_removed_class_hits"] > 0.8
    assert graded["gen_classifier_score"] < 1.5  # all one class
    balanced = judge.grade(real, "real_", removed=(9,), real_features=judge.features(real))
    assert balanced["real_classifier_score"] > 7.0 and balanced["real_removed_class_hits"] < 0.2
    assert balanced["real_frechet_judge_distance"] < graded["gen_frechet_judge_distance"]
