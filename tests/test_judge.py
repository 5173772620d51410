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


def _entry(judge):
    base = os.path.join(judge_lib.cache_dir(), judge.info.key)
    return base + ".weights.h5", base + ".json"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Tiny data and a cache holding its judge, trained once for the tests that damage a copy."""
    root = tmp_path_factory.mktemp("judge")
    data = load_image_data("mnist", data_dir=write_tiny_idx(str(root / "data"), 30, 10))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(judge_lib.CACHE_ENV, str(root / "cache"))
        assert not judge_lib.load_judge(data, epochs=2, log=lambda _: None).info.cached
    return data, root / "cache"


@pytest.mark.parametrize("damage", ["not weights", "bit rot", "garbled record", "no accuracy", "no record"])
def test_a_damaged_cache_is_set_aside_and_retrained_never_trusted(trained, tmp_path, monkeypatch, damage):
    import json
    import shutil

    tiny, cache = trained
    shutil.copytree(cache, tmp_path / "cache")
    monkeypatch.setenv(judge_lib.CACHE_ENV, str(tmp_path / "cache"))
    judge = judge_lib.load_judge(tiny, epochs=2, log=lambda _: None)
    assert judge.info.cached  # the module's judge, about to be damaged
    weights, record = _entry(judge)
    if damage == "not weights":
        with open(weights, "wb") as f:
            f.write(b"not a weights file")
    elif damage == "bit rot":  # still a loadable file: only the checksum and the accuracy tell
        import h5py

        with h5py.File(weights, "r+") as f:
            names = []
            f.visititems(
                lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) and o.ndim == 2 else None
            )
            f[names[0]][...] = -np.asarray(f[names[0]])
    elif damage == "garbled record":
        with open(record, "w") as f:
            f.write('{"test_accuracy": 0.9')
    elif damage == "no accuracy":
        with open(record, "w") as f:
            json.dump({"key": judge.info.key}, f)
    else:
        os.remove(record)
    logs = []
    rebuilt = judge_lib.load_judge(tiny, epochs=2, log=logs.append)
    assert not rebuilt.info.cached and any("is damaged" in line and "set aside" in line for line in logs), (
        logs
    )
    assert len([n for n in os.listdir(judge_lib.cache_dir()) if ".damaged-" in n]) >= 1
    assert judge_lib.load_judge(tiny, epochs=2, log=lambda _: None).info.cached  # the new entry holds


def test_an_entry_from_before_checksums_is_verified_by_its_accuracy(tiny):
    import json

    judge = judge_lib.load_judge(tiny, epochs=6, log=lambda _: None)
    weights, record = _entry(judge)
    with open(record) as f:
        saved = json.load(f)
    legacy = {k: v for k, v in saved.items() if k not in ("weights_sha256", "check_accuracy")}
    with open(record, "w") as f:
        json.dump(legacy, f)
    logs = []
    assert judge_lib.load_judge(tiny, epochs=6, log=logs.append).info.cached
    assert any("recorded its checksum" in line for line in logs)
    with open(record) as f:
        assert json.load(f)["weights_sha256"] == saved["weights_sha256"]
    with open(record, "w") as f:  # legacy, and the weights no longer match the recorded accuracy
        json.dump(dict(legacy, test_accuracy=0.2), f)
    logs = []
    assert not judge_lib.load_judge(tiny, epochs=6, log=logs.append).info.cached
    assert any("is damaged" in line for line in logs)


def test_an_unwritable_cache_is_found_before_training(tmp_path, monkeypatch):
    from common.classes import UsageError

    blocker = tmp_path / "a-file"
    blocker.write_text("the cache cannot be made under a file, even by root")
    monkeypatch.setenv(judge_lib.CACHE_ENV, str(blocker / "cache"))
    with pytest.raises(UsageError, match="not writable"):
        judge_lib.check_cache_writable()
    monkeypatch.setenv(judge_lib.CACHE_ENV, str(tmp_path / "new" / "cache"))
    judge_lib.check_cache_writable()  # a cache that does not exist yet but can be made


def test_an_ensemble_that_remembers_grades_each_image_set_once_even_across_processes(tiny):
    from tests.helpers import damage_file

    judge_lib.load_judge(tiny, epochs=2, log=lambda _: None)
    (judge,) = judge_lib.load_ensemble(tiny, members=1, log=lambda _: None, remember=True)
    plain = judge_lib.load_judge(tiny, log=lambda _: None)  # the same weights, nothing remembered
    assert plain.memo is None and judge.info.weights_sha256 == plain.info.weights_sha256
    images = to_float(tiny.test_x)
    probs = judge.probabilities(images)  # probabilities alone: no features kept
    np.testing.assert_array_equal(probs, plain.probabilities(images))
    (kept,) = os.listdir(judge.memo.folder)
    with np.load(os.path.join(judge.memo.folder, kept)) as f:
        assert f.files == ["probs"]
    np.testing.assert_array_equal(judge.features(images), plain.features(images))  # asked: computed, kept

    def no_forward(_):
        raise AssertionError("graded again")

    # A new process's ensemble (a page rebuilt from the same runs) reads them back, computing nothing.
    (again,) = judge_lib.load_ensemble(tiny, members=1, log=lambda _: None, remember=True)
    again._forward = no_forward
    p, f = again.outputs(images)
    np.testing.assert_array_equal(p, probs)
    np.testing.assert_array_equal(f, plain.features(images))
    with pytest.raises(AssertionError, match="graded again"):  # other images are graded
        again.probabilities(images[:5])
    # A damaged file is graded again and rewritten, never trusted.
    damage_file(os.path.join(judge.memo.folder, kept), "truncate")
    (third,) = judge_lib.load_ensemble(tiny, members=1, log=lambda _: None, remember=True)
    np.testing.assert_array_equal(third.probabilities(images), probs)
    with np.load(os.path.join(judge.memo.folder, kept)) as f:
        np.testing.assert_array_equal(f["probs"], probs)


def test_processes_missing_the_same_judge_train_it_once(tiny):
    """While one process trains a judge (it holds its lock), another that needs it waits, then
    loads it from the cache instead of training its own (the report's and league's parallel jobs)."""
    import threading

    key = judge_lib.cache_key(tiny)
    logs = []
    waiting = threading.Event()

    def needs_it():
        def log(line):
            logs.append(line)
            if "waiting for it" in line:
                waiting.set()

        results.append(judge_lib.load_judge(tiny, epochs=2, log=log))

    results = []
    with judge_lib._training_lock(key, log=lambda _: None):
        other = threading.Thread(target=needs_it)
        other.start()
        assert waiting.wait(60), logs  # flock: a second open file of the same process waits too
        trained = judge_lib._train_and_cache(tiny, key, 2, 0, lambda _: None)
    other.join(60)
    assert not other.is_alive() and results[0].info.cached
    assert not any("training a classifier" in line for line in logs), logs
    assert results[0].info.weights_sha256 == trained.info.weights_sha256
