"""can/train.py run as a user runs it, on a WikiArt-style folder the test writes (odd files
included): the output contract, the data counts, resume, baseline, mirrored, bad input."""

import os

import numpy as np
import pytest

from tests.art_fixtures import write_art_folder
from tests.conftest import ROOT
from tests.script_runs import metrics, run_script, script_env

CAN_DIR = os.path.join(ROOT, "can")
TINY = [
    "--image_size",
    "16",
    "--batch_size",
    "8",
    "--iterations",
    "4",
    "--sample_every",
    "2",
    "--num_samples",
    "16",
]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    root = tmp_path_factory.mktemp("can")
    odd = write_art_folder(str(root / "art"), per_genre=10)
    return {"root": root, "art": str(root / "art"), "odd": odd, "env": script_env(root / "cache")}


def train(ctx, out, *args, env=None):
    return run_script(
        CAN_DIR,
        "train.py",
        env or ctx["env"],
        "--data_dir",
        ctx["art"],
        "--genres",
        "cubism,early renaissance,pop art",
        "--out_dir",
        str(out),
        *TINY,
        *args,
    )


@pytest.fixture(scope="module")
def run(ctx):
    out = ctx["root"] / "run"
    proc = train(ctx, out)
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_train_writes_the_output_contract(ctx, run):
    out, proc = run
    values = metrics(out)
    for key in (
        "style_entropy_dc",
        "style_entropy_judge",
        "style_entropy_judge_real",
        "realness",
        "nn_distance",
        "nn_distance_heldout_real",
        "diversity",
        "diversity_real",
        "diversity_ratio",
        "seconds_per_iteration",
    ):
        assert np.isfinite(values[key]), key
    assert values["style_entropy_max"] == pytest.approx(np.log(3))
    assert 0 <= values["style_entropy_dc"] <= values["style_entropy_max"] + 1e-6
    assert values["iterations"] == 4 and values["flags.style_loss"] == "binary"
    for key, count in ctx["odd"].items():  # every odd file counted in metrics.json
        assert values[f"data_{key}"] == count, key
    assert values["data_used"] == 30 + 4 and values["train_images"] < values["data_used"]  # some held out
    with np.load(out / "samples.npz") as f:
        assert f["samples"].shape == (16, 16, 16, 3) and 0 <= f["samples"].min() and f["samples"].max() <= 1
    for name in (
        "samples.png",
        "progression.png",
        "losses.png",
        "samples/iter_000002.png",
        "samples/iter_000004.png",
    ):
        assert (out / name).stat().st_size > 0, name
    assert any(n.startswith("ckpt") for n in os.listdir(out / "checkpoints"))
    assert [f for _, _, files in os.walk(out / "logs") for f in files if f.startswith("events")]
    assert "skip corrupt: 1" in proc.stdout and "style_entropy_dc" in proc.stdout


def test_rerun_with_more_iterations_resumes(ctx, run):
    out, _ = run
    proc = train(
        ctx, out, "--iterations", "6", "--sample_every", "3"
    )  # --sample_every: not the run's identity
    assert proc.returncode == 0, proc.stderr
    values = metrics(out)
    assert (
        values["resumed_from_step"] == 4 and values["iterations"] == 6 and values["flags.sample_every"] == 3
    )


def test_baseline_softmax_and_mirrored(ctx):
    out = ctx["root"] / "baseline"
    proc = train(
        ctx,
        out,
        "--baseline",
        "--style_loss",
        "softmax",
        "--minibatch_discrimination",
        "--g_steps",
        "1",
        "--strategy",
        "mirrored",
        "--nojudge",
        env=dict(ctx["env"], CREATIVE_GANS_CPU_DEVICES="2"),
    )
    assert proc.returncode == 0, proc.stderr
    values = metrics(out)
    assert (
        values["replicas"] == 2 and values["flags.baseline"] is True and "style_entropy_judge" not in values
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--genres", "0"], "--genres 0: choose 1..7"),
        (["--genres", "8"], "--genres 8: choose 1..7"),
        (["--genres", "cubism,fauvism"], "no directory for 'fauvism'"),
        (["--genres", "cubism", "--batch_size", "100"], "--batch_size 100 is larger than the"),
        (["--data_dir", "/no/such/dir"], "--data_dir /no/such/dir is not a directory"),
        (["--genres", "unreadable"], "genre directory 'Unreadable' has no readable image"),
    ],
)
def test_bad_input_is_one_line(ctx, tmp_path, args, message):
    bad = os.path.join(ctx["art"], "Unreadable")
    os.makedirs(bad, exist_ok=True)
    with open(os.path.join(bad, "x.jpg"), "w") as f:
        f.write("not an image")
    out = tmp_path / "bad"
    proc = run_script(
        CAN_DIR,
        "train.py",
        ctx["env"],
        "--data_dir",
        ctx["art"],
        "--genres",
        "cubism",
        "--out_dir",
        str(out),
        *TINY,
        *args,
    )
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (out / "metrics.json").exists()


@pytest.mark.skipif(
    not os.path.isdir("/usr/share/datasets/fashion-mnist"), reason="Debian's Fashion-MNIST not installed"
)
def test_without_data_dir_the_stand_in_is_announced(ctx, tmp_path):
    proc = run_script(
        CAN_DIR, "train.py", ctx["env"], "--genres", "7", "--out_dir", str(tmp_path / "s"), *TINY, "--nojudge"
    )
    assert proc.returncode == 0, proc.stderr
    assert "STAND-IN" in proc.stdout
    values = metrics(tmp_path / "s")
    assert values["data_source"].startswith("STAND-IN") and len(values["genres"]) == 7


def test_empty_data_dir_is_one_line(ctx, tmp_path):
    proc = run_script(
        CAN_DIR, "train.py", ctx["env"], "--data_dir", str(tmp_path), "--out_dir", str(tmp_path / "o")
    )
    assert proc.returncode == 2 and "has no class sub-directories" in proc.stderr


def test_help_explains_every_flag(ctx):
    proc = run_script(CAN_DIR, "train.py", ctx["env"], "--help")
    assert proc.returncode == 0
    for flag in (
        "--genres",
        "--data_dir",
        "--style_loss",
        "--lambda_style",
        "--baseline",
        "--lr_g",
        "--lr_d",
        "--batch_size",
        "--g_steps",
        "--sample_every",
        "--iterations",
        "--image_size",
        "--seed",
        "--out_dir",
        "--strategy",
        "--minibatch_discrimination",
    ):
        assert flag + ":" in proc.stdout or flag.replace("--", "--[no]") + ":" in proc.stdout, flag
