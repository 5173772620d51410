"""Where a run's time goes (common.timing): stages nest without counting twice, metrics.json
written inside a stage holds it, and the training loop's compile estimate."""

import time

import pytest

from common import timing
from common.harness import TrainResult


def test_nested_stages_count_once_and_open_ones_count_up_to_now():
    stages = timing.Stages()
    with stages("evaluate"):
        time.sleep(0.05)
        with stages("judge"):
            time.sleep(0.1)
            inside = stages.numbers()
        time.sleep(0.05)
    assert inside["stage_seconds.judge"] == pytest.approx(0.1, abs=0.03)
    assert inside["stage_seconds.evaluate"] == pytest.approx(0.05, abs=0.03)  # judge's time not in it
    done = stages.numbers()
    assert done["stage_seconds.evaluate"] == pytest.approx(0.1, abs=0.03)
    assert done["stage_seconds.judge"] == pytest.approx(0.1, abs=0.03)
    with stages("evaluate"):  # entered again: summed
        time.sleep(0.05)
    assert stages.seconds["evaluate"] == pytest.approx(0.15, abs=0.04)
    stages.move("evaluate", "compile", 1e9)  # never more than the source has
    assert stages.seconds["evaluate"] == 0.0 and stages.seconds["compile"] == pytest.approx(0.15, abs=0.04)


def test_the_process_age_is_this_process_since_it_started():
    age = timing.process_seconds()
    assert age is not None and 0.0 < age < time.monotonic()
    time.sleep(0.05)
    assert timing.process_seconds() >= age


def result(seconds, steps, first_seconds, first_steps, start=0):
    return TrainResult(
        start + steps,
        start,
        [],
        seconds,
        0.0,
        first_chunk_seconds=first_seconds,
        first_chunk_steps=first_steps,
    )


def test_compile_seconds_is_the_first_chunk_less_its_steps_at_the_steady_speed():
    # 100 steps in 30 s, the first chunk of 10 steps took 12 s: the other 90 took 18 s (0.2 s
    # each), so the first chunk's steps were 2 s of it and its compilation 10 s.
    assert result(30.0, 100, 12.0, 10).compile_seconds() == pytest.approx(10.0)
    assert result(30.0, 100, 12.0, 10, start=500).compile_seconds() == pytest.approx(10.0)  # a resume
    assert result(5.0, 10, 5.0, 10).compile_seconds() is None  # one chunk: nothing to tell by
    assert result(0.0, 0, 0.0, 0).compile_seconds() is None  # a finished run re-evaluated
