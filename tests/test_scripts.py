"""The entry scripts, run as a user runs them: subprocesses with tiny flags."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from common import timing
from tests.conftest import TOY_DIR
from tests.script_runs import metrics, run_script, script_env


def run(script, *args):
    return run_script(TOY_DIR, script, script_env(), *args)


@pytest.fixture(scope="module")
def style_run(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("style") / "run")
    # The report's first command, shortened.
    proc = run(
        "STYLEGAN.py",
        "--fig_name",
        "GAN_deneme",
        "--label",
        "--notebook",
        "--lambda_g",
        "0",
        "--lambda_d",
        "0",
        "--missing_mixt",
        "1",
        "--niters",
        "30",
        "--out_dir",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_stylegan_writes_the_output_contract(style_run):
    out, proc = style_run
    for name in ["metrics.json", "samples.npz", "scatter_density.png", "snapshots.png", "losses.png"]:
        assert os.path.exists(os.path.join(out, name)), name
    assert os.listdir(os.path.join(out, "checkpoints"))
    assert any(f.startswith("events.out.tfevents") for f in os.listdir(os.path.join(out, "logs", "train")))
    samples = np.load(os.path.join(out, "samples.npz"))["samples"]
    assert samples.shape == (2500, 2) and samples.dtype == np.float32
    m = metrics(out)
    assert m["steps"] == 30 and m["modes_present"] == 7 and 0.0 <= m["hq_fraction"] <= 1.0
    assert m["flags.missing_mixt"] == [1] and m["flags.label"] is True
    assert "metrics.json" in proc.stdout and "modes" in proc.stdout
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]


def test_tensorboard_gets_snapshots_and_the_final_numbers_as_hparams(style_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out, _ = style_run
    train = EventAccumulator(os.path.join(out, "logs", "train"), size_guidance={"tensors": 0})
    train.Reload()
    assert "samples" in train.Tags()["tensors"]  # the 2-d scatter at every snapshot
    steps = sorted(e.step for e in train.Tensors("samples"))
    snapshots = sorted(int(f[5:11]) for f in os.listdir(os.path.join(out, "snapshots")))
    assert steps == snapshots and steps
    record = EventAccumulator(os.path.join(out, "logs", "hparams"), size_guidance={"tensors": 0})
    record.Reload()
    tags = record.Tags()["tensors"]
    assert "_hparams_/session_start_info" in tags
    assert "hq_fraction" in tags and "modes_captured" in tags
    hq = record.Tensors("hq_fraction")[-1]
    assert float(tf.make_ndarray(hq.tensor_proto)) == pytest.approx(metrics(out)["hq_fraction"])
    assert hq.step == 30


def test_rerunning_resumes(style_run):
    out, _ = style_run
    proc = run(
        "STYLEGAN.py",
        "--fig_name",
        "GAN_deneme",
        "--label",
        "--lambda_g",
        "0",
        "--lambda_d",
        "0",
        "--missing_mixt",
        "1",
        "--niters",
        "40",
        "--nojit",  # how to train, not what: the run continues
        "--out_dir",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    m = metrics(out)
    assert m["resumed_from_step"] == 30 and m["steps"] == 40 and m["flags.jit"] is False
    with open(os.path.join(out, "run_config.json")) as f:
        assert json.load(f)["spec"]["jit"] is False  # the record follows the latest command


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--missing_mixt", "8"], "--missing_mixt"),
        (["--missing_mixt", "0,1,2,3,4,5,6,7"], "--missing_mixt"),
        (["--dataset", "imagenet"], "--dataset"),
        (["--batch_size", "0"], "--batch_size"),
        (["--niters", "-5"], "--niters"),
        (["--pack", "3"], "--pack"),
        (["--lambda_d", "0.5"], "--out_dir"),  # another configuration in the same directory
    ],
)
def test_bad_input_is_one_clear_line_and_keeps_earlier_outputs(style_run, args, flag):
    out, _ = style_run
    before = open(os.path.join(out, "metrics.json")).read()
    proc = run(
        "STYLEGAN.py",
        "--label",
        "--lambda_g",
        "0",
        "--lambda_d",
        "0",
        "--missing_mixt",
        "1",
        "--out_dir",
        out,
        *args,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and flag in lines[0], proc.stderr
    assert open(os.path.join(out, "metrics.json")).read() == before


def test_help_explains_every_flag():
    proc = run("STYLEGAN.py", "--helpshort")
    assert proc.returncode == 0
    for name in [
        "nhidden",
        "nlayers",
        "niters",
        "batch_size",
        "lrg",
        "lrd",
        "lambda_d",
        "lambda_g",
        "scale",
        "label",
        "missing_mixt",
        "fig_name",
        "notebook",
        "dataset",
        "minibatch_discriminate",
        "loss",
        "seed",
        "out_dir",
        "compare",
    ]:
        assert f"--{name}" in proc.stdout or f"--[no]{name}" in proc.stdout, name


def test_cgan_reports_where_removed_labels_land(tmp_path):
    out = str(tmp_path / "cgan")
    proc = run(
        "CGAN.py",
        "--fig_name",
        "result_file_name",
        "--label",
        "--notebook",
        "--missing_mixt",
        "4",
        "--niters",
        "30",
        "--out_dir",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    m = metrics(out)
    assert "label_4_on_own_mode" in m and "removed_label_4_off_modes" in m
    shares = [m[f"removed_label_4_on_mode_{k}"] for k in range(8)] + [m["removed_label_4_off_modes"]]
    assert sum(shares) == pytest.approx(1.0)
    data = np.load(os.path.join(out, "samples.npz"))
    assert sorted(set(data["labels"].tolist())) == list(range(8))  # the removed label is sampled too
    assert os.path.exists(os.path.join(out, "snapshots.png"))


def test_compare_draws_both_gans_on_one_seed(tmp_path):
    out = str(tmp_path / "cmp")
    proc = run(
        "STYLEGAN.py",
        "--compare",
        "--missing_mixt",
        "1",
        "--niters",
        "20",
        "--out_dir",
        out,
        "--loss",
        "wgan-gp",
        "--nhidden",
        "16",
        "--nojit",  # three models' XLA compiles would cost more than their 20 steps
    )
    assert proc.returncode == 0, proc.stderr
    assert os.path.exists(os.path.join(out, "comparison.png"))
    normal, style = metrics(os.path.join(out, "normal_gan")), metrics(os.path.join(out, "style_gan"))
    assert normal["flags.seed"] == style["flags.seed"]
    history = {
        name: json.load(open(os.path.join(out, name, "logs", "history.json")))
        for name in ("normal_gan", "style_gan")
    }
    assert "creativity" in history["style_gan"][-1] and "d_classification" in history["style_gan"][-1]
    assert not any("creativity" in h or "d_classification" in h for h in history["normal_gan"])


TIMING_KEYS = {"train_seconds", "steps_per_second", "flags.out_dir"}


def wall_clock(key):
    return key in TIMING_KEYS or key.startswith(timing.PREFIX)


def test_the_same_command_twice_gives_the_same_numbers(tmp_path):
    """Fixed seeds: two fresh runs of one command agree on every number but the wall-clock ones."""
    runs = []
    for name in ("first", "second"):
        out = str(tmp_path / name)
        proc = run("STYLEGAN.py", "--label", "--missing_mixt", "1", "--niters", "40", "--out_dir", out)
        assert proc.returncode == 0, proc.stderr
        runs.append(out)
    a, b = metrics(runs[0]), metrics(runs[1])
    assert set(a) == set(b)
    stages = {k[len(timing.PREFIX) :] for k in a if k.startswith(timing.PREFIX)}  # where the time went
    assert stages >= {"startup", "data", "train", "evaluate", "figures", "outputs"}, stages
    assert {k: v for k, v in a.items() if not wall_clock(k)} == {
        k: v for k, v in b.items() if not wall_clock(k)
    }
    np.testing.assert_array_equal(
        np.load(os.path.join(runs[0], "samples.npz"))["samples"],
        np.load(os.path.join(runs[1], "samples.npz"))["samples"],
    )


def test_report_settings_and_creativity_loss(tmp_path):
    out = str(tmp_path / "report")
    proc = run(
        "STYLEGAN.py",
        "--settings",
        "report",
        "--label",
        "--missing_mixt",
        "1",
        "--niters",
        "30",
        "--lrg",
        "1e-3",
        "--out_dir",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    m = metrics(out)
    assert m["flags.pack"] == 1 and m["flags.lr_decay"] is False and m["flags.lrd"] == 9e-3
    assert (
        m["flags.activation"] == "relu" and m["flags.creativity_loss"] == "report" and m["flags.nlayers"] == 3
    )
    assert m["flags.lrg"] == 1e-3  # a flag given explicitly wins over the preset
    history = json.load(open(os.path.join(out, "logs", "history.json")))
    assert "d_classification_fake" in history[-1]


def test_a_packed_class_head_is_refused():
    proc = run("STYLEGAN.py", "--label", "--pack", "2", "--niters", "5")
    assert proc.returncode == 2 and "--pack 2" in proc.stderr and "Traceback" not in proc.stderr


def test_a_diverged_run_fails_and_writes_no_result(tmp_path):
    out = str(tmp_path / "diverged")
    proc = run(
        "STYLEGAN.py", "--lrg", "1e3", "--lrd", "1e3", "--niters", "200", "--nhidden", "16", "--out_dir", out
    )
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    assert "training diverged" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    m = metrics(out)
    assert m["diverged"] is True and "hq_fraction" not in m and "modes_captured" not in m
    assert not [f for f in os.listdir(out) if f.endswith(".png")] and not os.path.exists(
        os.path.join(out, "samples.npz")
    )


def test_fewer_iterations_than_a_finished_run_are_refused(style_run):
    out, _ = style_run
    before = open(os.path.join(out, "metrics.json")).read()
    proc = run(
        "STYLEGAN.py",
        "--label",
        "--lambda_g",
        "0",
        "--lambda_d",
        "0",
        "--missing_mixt",
        "1",
        "--niters",
        "10",
        "--out_dir",
        out,
    )
    assert proc.returncode == 2 and "already trained for" in proc.stderr
    assert open(os.path.join(out, "metrics.json")).read() == before


def test_a_rerun_of_a_finished_run_keeps_its_timing(tmp_path):
    out = str(tmp_path / "timing")
    first = run("STYLEGAN.py", "--niters", "60", "--nhidden", "16", "--out_dir", out)
    assert first.returncode == 0, first.stderr
    before = metrics(out)
    again = run("STYLEGAN.py", "--niters", "60", "--nhidden", "16", "--out_dir", out)
    assert again.returncode == 0, again.stderr
    after = metrics(out)
    assert after["resumed_from_step"] == 60 and before["train_seconds"] > 0
    assert (
        after["train_seconds"] == before["train_seconds"]
        and after["steps_per_second"] == before["steps_per_second"]
    )
