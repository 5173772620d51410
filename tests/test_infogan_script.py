"""infogan/main.py run as a user runs it, on IDX files the tests write."""

import os
import re

import numpy as np
import pytest

from tests.conftest import INFOGAN_DIR
from tests.script_runs import image_run_env, metrics, run_script


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return image_run_env(tmp_path_factory, "infogan", train_per_class=16)


def run(env, *args):
    return run_script(INFOGAN_DIR, "main.py", env["env"], *args)


TINY = ["--epoch", "2", "--batch_size", "16", "--width", "quarter", "--nojit"]


@pytest.mark.parametrize("gan_type", ["GAN", "CGAN", "ACGAN", "infoGAN"])
def test_every_gan_type_runs_and_writes_the_output_contract(env, gan_type):
    out = str(env["root"] / gan_type)
    proc = run(
        env,
        "--gan_type",
        gan_type,
        "--dataset",
        "mnist",
        "--missing_mixt",
        "3",
        "--data_dir",
        env["data_dir"],
        "--out_dir",
        out,
        *TINY,
    )
    assert proc.returncode == 0, proc.stderr
    for name in ["metrics.json", "samples.npz", "code_grid.png", "losses.png", "epochs/epoch_002.png"]:
        assert os.path.exists(os.path.join(out, name)), name
    assert os.path.exists(os.path.join(out, "continuous_sweep.png")) == (gan_type == "infoGAN")
    assert os.path.exists(os.path.join(out, "label_rows.png")) == (gan_type in ("CGAN", "ACGAN"))
    assert os.listdir(os.path.join(out, "logs"))  # TensorBoard
    m = metrics(out)
    assert m["train_examples"] == 144 and m["steps"] == 18 and 0.0 <= m["removed_class_hits"] <= 1.0
    assert isinstance(m["frechet_judge_distance"], float) and isinstance(m["classifier_score"], float)
    assert 1 <= m["classes_generated"] <= 10
    assert sum(m[f"class_{c}_share"] for c in range(10)) == pytest.approx(1.0, abs=1e-4)
    if gan_type != "GAN":
        assert 1 <= m["classes_covered"] <= 10 and 0.0 < m["code_purity_mean"] <= 1.0
    if gan_type in ("CGAN", "ACGAN"):
        assert "label_3_accuracy" in m  # the removed label is asked for too
    samples = np.load(os.path.join(out, "samples.npz"))["samples"]
    assert samples.shape[1:] == (28, 28, 1) and samples.min() >= 0.0 and samples.max() <= 1.0


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--gan_type", "WGAN"], "--gan_type: unknown type 'WGAN'"),
        (["--dataset", "imagenet"], "unknown image data set"),
        (["--missing_mixt", "10"], "class 10 is out of range"),
        (["--missing_mixt", "0,1,2,3,4,5,6,7,8,9"], "removing all 10 classes"),
        (["--batch_size", "0"], "--batch_size must be a positive integer"),
    ],
)
def test_bad_input_is_one_clear_line(env, args, expected):
    proc = run(env, *args)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("gan_type", ["infoGAN", "CGAN"])
def test_toy_data_with_mlps(env, gan_type):
    out = str(env["root"] / f"toy-{gan_type}")
    proc = run(
        env,
        "--gan_type",
        gan_type,
        "--dataset",
        "8gaussians",
        "--missing_mixt",
        "1",
        "--epoch",
        "1",
        "--batch_size",
        "500",
        "--out_dir",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    m = metrics(out)
    assert m["modes_present"] == 7 and 0.0 <= m["missing_mode_hits"] <= 1.0 and "code_7_purity" in m
    assert os.path.exists(os.path.join(out, "code_scatter.png"))
    assert np.load(os.path.join(out, "samples.npz"))["samples"].shape == (800, 2)


def test_resume_and_mirrored_strategy_on_two_logical_cpus(env):
    out = str(env["root"] / "mirrored")
    args = [
        "--gan_type",
        "infoGAN",
        "--dataset",
        "mnist",
        "--data_dir",
        env["data_dir"],
        "--out_dir",
        out,
        "--batch_size",
        "16",
        "--width",
        "quarter",
    ]
    proc = run(env, *args, "--epoch", "1", "--jit")  # one device, compiled with XLA
    assert proc.returncode == 0, proc.stderr
    first = metrics(out)
    assert first["steps"] == 10 and first["resumed_from_step"] == 0 and first["replicas"] == 1
    # More epochs continue the run from its checkpoint; the strategy and XLA say how to train, not
    # what: on two replicas (restored into mirrored variables) the run continues.
    two_cpus = dict(env, env=dict(env["env"], CREATIVE_GANS_CPU_DEVICES="2"))
    proc = run(two_cpus, *args, "--epoch", "2", "--strategy", "mirrored")
    assert proc.returncode == 0, proc.stderr
    # --jit is on by default; XLA cannot span logical CPU devices: said in a line, not a crash
    assert "training without XLA" in proc.stdout and "data stream starts afresh" in proc.stdout
    second = metrics(out)
    assert second["steps"] == 20 and second["resumed_from_step"] == 10 and second["replicas"] == 2


def test_mixed_precision_on_a_cpu_trains_without_xla_unless_asked(env):
    out = str(env["root"] / "bf16")
    common = ["--gan_type", "GAN", "--dataset", "mnist", "--data_dir", env["data_dir"], "--epoch", "1"]
    proc = run(
        env, *common, "--batch_size", "16", "--width", "quarter", "--mixed_precision", "--out_dir", out
    )
    assert proc.returncode == 0, proc.stderr
    assert "--mixed_precision on a CPU: training without XLA" in proc.stdout
    m = metrics(out)
    assert m["flags.mixed_precision"] is True and m["dtype_policy"] == "mixed_bfloat16"


def test_a_different_config_never_overwrites_a_run(env):
    out = str(env["root"] / "claimed")
    proc = run(
        env,
        "--gan_type",
        "GAN",
        "--dataset",
        "mnist",
        "--data_dir",
        env["data_dir"],
        "--out_dir",
        out,
        "--epoch",
        "1",
        "--batch_size",
        "16",
        "--width",
        "quarter",
        "--nojit",
    )
    assert proc.returncode == 0, proc.stderr
    before = open(os.path.join(out, "metrics.json")).read()
    proc = run(
        env,
        "--gan_type",
        "CGAN",
        "--dataset",
        "mnist",
        "--data_dir",
        env["data_dir"],
        "--out_dir",
        out,
        *TINY,
    )
    assert proc.returncode != 0 and len(proc.stderr.strip().splitlines()) == 1
    assert open(os.path.join(out, "metrics.json")).read() == before


def test_help_explains_every_flag(env):
    proc = run(env, "--help")
    assert proc.returncode == 0
    for flag in [
        "gan_type",
        "dataset",
        "missing_mixt",
        "epoch",
        "batch_size",
        "z_dim",
        "lrG",
        "lrD",
        "beta1",
        "seed",
        "out_dir",
        "notebook",
        "strategy",
        "width",
        "jit",
        "data_dir",
    ]:
        assert re.search(rf"--(\[no\])?{flag}: \S", proc.stdout), flag
