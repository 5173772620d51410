"""diffusion/train.py run as a user runs it, on IDX files the tests write."""

import numpy as np
import pytest

from tests.conftest import DIFFUSION_DIR
from tests.script_runs import image_run_env, metrics, run_script

TINY = ["--steps", "4", "--batch_size", "20", "--channels", "8,16", "--per_class", "6", "--sample_steps", "3"]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return image_run_env(tmp_path_factory, "diffusion", train_per_class=20)


def run(env, *args):
    return run_script(DIFFUSION_DIR, "train.py", env["env"], "--data_dir", env["data_dir"], *TINY, *args)


@pytest.fixture(scope="module")
def zero_shot(env):
    out = str(env["root"] / "zero")
    proc = run(env, "--dataset", "fashion-mnist", "--remove_label", "1", "--out_dir", out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def test_a_zero_shot_run_writes_the_output_contract(zero_shot):
    m = metrics(zero_shot)
    assert m["steps"] == 4 and np.isfinite(m["final_loss"]) and 0.0 <= m["class_1_rate"] <= 1.0
    assert np.isfinite(m["frechet_judge_distance_present"]) and m["flags.remove_label"] == [1]
    with np.load(f"{zero_shot}/samples.npz") as f:
        assert f["samples"].shape == (60, 28, 28, 1) and sorted(set(f["labels"].tolist())) == list(range(10))
        assert 0.0 <= f["samples"].min() and f["samples"].max() <= 1.0


def test_few_shot_fine_tuning_from_the_zero_shot_run_and_a_resume(env, zero_shot):
    out = str(env["root"] / "tuned")
    args = ["--dataset", "fashion-mnist", "--remove_label", "1", "--few_shot", "4", "--init_from", zero_shot]
    args += ["--nojit"]  # the zero-shot run compiles with XLA; compiling again here only costs time
    proc = run(env, *args, "--out_dir", out)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "fine-tuning from" in proc.stdout
    m = metrics(out)
    assert len(m["class_1_shot_indices"]) == 4 and 0.0 <= m["class_1_copy_rate"] <= 1.0
    proc = run(
        env, *args, "--out_dir", out, "--steps", "6", "--guidance", "2"
    )  # longer, other guidance: continues
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert metrics(out)["resumed_from_step"] == 4


@pytest.mark.parametrize(
    "args, message",
    [
        (["--few_shot", "4"], "--few_shot needs --remove_label"),
        (["--remove_label", "12"], "class 12 is out of range"),
        (["--dataset", "cifar10"], "not a data set of diffusion"),
        (["--init_from", "/no/such/run"], "is not a directory"),
    ],
)
def test_bad_input_is_one_line(env, tmp_path, args, message):
    proc = run(env, *args, "--out_dir", str(tmp_path / "refused"))
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_help_explains_every_flag(env):
    proc = run_script(DIFFUSION_DIR, "train.py", env["env"], "--help")
    assert proc.returncode == 0
    for flag in ("--steps", "--guidance", "--init_from", "--few_shot", "--mixed_precision", "--sample_steps"):
        assert flag.lstrip("-") in proc.stdout, flag
