"""vae/VAE.py run as a user runs it, on IDX files the tests write (the judge trains on them in
seconds and is cached in a temporary directory)."""

import os

import numpy as np
import pytest

from tests.conftest import VAE_DIR
from tests.image_fixtures import write_tiny_idx
from tests.script_runs import image_run_env, metrics, run_script


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return image_run_env(tmp_path_factory, "vae", train_per_class=40)


def run(env, *args):
    return run_script(VAE_DIR, "VAE.py", env["env"], *args)


def image_summary_steps(log_dir, tag):
    import tensorflow as tf

    steps = []
    for name in sorted(os.listdir(log_dir)):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(log_dir, name)):
            steps += [event.step for value in event.summary.value if value.tag == tag]
    return sorted(steps)


TINY = ["--epochs", "2", "--batch_size", "40", "--num_samples", "100", "--grid_size", "6"]


@pytest.fixture(scope="module")
def few_shot_run(env):
    out = str(env["root"] / "few_shot")
    # The report's command on the tiny data.
    proc = run(
        env,
        "--dataset",
        "fashion-mnist",
        "--encoding-vector-size",
        "2",
        "--remove-label",
        "3",
        "--few-shot",
        "4",
        "--data_dir",
        env["data_dir"],
        "--out_dir",
        out,
        *TINY,
    )
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_few_shot_run_writes_the_output_contract(few_shot_run):
    out, proc = few_shot_run
    for name in [
        "metrics.json",
        "samples.npz",
        "latent.png",
        "manifold.png",
        "reconstructions.png",
        "prior_samples.png",
        "few_shot.png",
        "interpolation.png",
        "losses.png",
        "latent_codes.npz",
    ]:
        assert os.path.exists(os.path.join(out, name)), name
    assert os.listdir(os.path.join(out, "checkpoints"))
    assert any(f.startswith("events.out.tfevents") for f in os.listdir(os.path.join(out, "logs", "train")))
    assert image_summary_steps(os.path.join(out, "logs", "train"), "prior_samples") == [
        10,
        20,
    ]  # after each epoch
    samples = np.load(os.path.join(out, "samples.npz"))["samples"]
    assert samples.shape == (100, 28, 28, 1) and samples.dtype == np.float32
    assert 0.0 <= samples.min() and samples.max() <= 1.0
    m = metrics(out)
    # 9 present classes x 40 + 4 shots repeated 10 times to balance: 400 images, 10 steps per epoch
    assert m["train_examples"] == 400 and m["steps"] == 20 and m["few_shot"] == 4
    assert m["data_source"].startswith("IDX files in --data_dir")
    assert m["test_neg_elbo"] > 0 and "test_neg_elbo_removed" in m and "test_neg_elbo_class_3" in m
    for key in [
        "prior_removed_class_hits",
        "grid_removed_class_hits",
        "prior_classifier_score",
        "prior_frechet_judge_distance",
        "prior_nn_distance",
        "prior_nn_distance_heldout_real",
        "shots_judge_accuracy",
        "shots_nn_distance",
        "shots_real_nn_distance_min",
        "shots_copy_fraction",
        "judge_test_accuracy",
    ]:
        assert isinstance(m[key], float), key
    assert m["flags.few_shot"] == 4 and m["flags.remove_label"] == [3]
    codes = np.load(os.path.join(out, "latent_codes.npz"))
    assert codes["shots"].shape == (4, 28, 28, 1) and codes["near_shots"].shape[:2] == (4, 8)
    assert "test -ELBO" in proc.stdout and "judge:" in proc.stdout
    noise = [line for line in proc.stderr.splitlines() if line.strip() and not line.startswith("step ")]
    assert not noise, proc.stderr  # only the progress bar: no warnings, no retracing notes


def test_rerun_with_more_epochs_resumes(env, few_shot_run):
    out, _ = few_shot_run
    proc = run(
        env,
        "--dataset",
        "fashion-mnist",
        "--encoding-vector-size",
        "2",
        "--remove-label",
        "3",
        "--few-shot",
        "4",
        "--data_dir",
        env["data_dir"],
        "--out_dir",
        out,
        *TINY[:0],
        "--epochs",
        "3",
        *TINY[2:],
        "--jit",  # XLA says how to train, not what: the run continues
        "on",
    )
    assert proc.returncode == 0, proc.stderr
    m = metrics(out)
    assert m["resumed_from_step"] == 20 and m["steps"] == 30 and m["flags.jit"] == "on"
    assert "cached classifier" in proc.stdout  # the judge is not trained twice


def test_zero_shot_mlp_latent_20_on_two_devices(env):
    out = str(env["root"] / "zero_shot")
    two_cpus = dict(env, env=dict(env["env"], CREATIVE_GANS_CPU_DEVICES="2"))
    proc = run(
        two_cpus,
        "--dataset",
        "mnist",
        "--remove-label",
        "1",
        "--arch",
        "mlp",
        "--strategy",
        "mirrored",
        "--data_dir",
        env["data_dir"],
        "--out_dir",
        out,
        *TINY,
    )
    assert proc.returncode == 0, proc.stderr
    m = metrics(out)
    assert m["replicas"] == 2  # really two devices, not a mirrored strategy over one
    # --arch mlp asks for XLA (--jit auto), which cannot span logical CPU devices: said, not a crash
    assert m["flags.jit"] == "auto" and "training without XLA" in proc.stdout
    assert m["train_examples"] == 360 and m["steps"] == 18 and "shots_judge_accuracy" not in m
    assert not os.path.exists(os.path.join(out, "few_shot.png"))


def test_toy_data(env):
    out = str(env["root"] / "toy")
    proc = run(
        env,
        "--dataset",
        "8gaussians",
        "--remove-label",
        "1",
        "--encoding-vector-size",
        "2",
        "--epochs",
        "1",
        "--batch_size",
        "1000",
        "--num_samples",
        "500",
        "--out_dir",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    m = metrics(out)
    assert (
        m["flags.arch"] == "mlp"  # toy data always uses the mlp
        and 0.0 <= m["prior_missing_mode_hits"] <= 1.0
        and m["prior_modes_present"] == 7
    )
    assert np.load(os.path.join(out, "samples.npz"))["samples"].shape == (500, 2)
    assert os.path.exists(os.path.join(out, "samples.png"))


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--few-shot", "4"], "--few-shot needs --remove-label"),
        (["--remove-label", "10"], "--remove-label: class 10 is out of range"),
        (["--remove-label", "3", "--few-shot", "-1"], "--few-shot must not be negative"),
        (["--encoding-vector-size", "0"], "--encoding-vector-size must be a positive integer"),
        (["--dataset", "imagenet"], "unknown image data set 'imagenet'"),
        (["--dataset", "cifar10"], "not available on this machine"),
        (["--data_dir", "/nonexistent"], "is not a directory"),
        (["--data_dir", "EMPTY"], "lacks the fashion-mnist IDX file"),
        (["--data_dir", "TRUNCATED"], "truncated"),
        (["--dataset", "8Gaussians", "--arch", "conv"], "--arch conv needs images"),
        (["--filters", "16"], "--filters must be two positive integers"),
    ],
)
def test_bad_input_is_one_clear_line_and_keeps_earlier_outputs(env, few_shot_run, args, expected):
    out, _ = few_shot_run
    before = open(os.path.join(out, "metrics.json")).read()
    empty = env["root"] / "empty"
    empty.mkdir(exist_ok=True)
    truncated = env["root"] / "truncated"
    if not truncated.exists():
        write_tiny_idx(str(truncated), 2, 1, gz=False)
        path = truncated / "train-images-idx3-ubyte"
        path.write_bytes(path.read_bytes()[:-100])
    args = [{"EMPTY": str(empty), "TRUNCATED": str(truncated)}.get(a, a) for a in args]
    env_no_tfds = dict(env, env=dict(env["env"], TFDS_DATA_DIR=str(empty)))
    proc = run(env_no_tfds, *args, "--out_dir", out, "--epochs", "1")
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    assert open(os.path.join(out, "metrics.json")).read() == before


def test_help_explains_every_flag(env):
    proc = run(env, "--help")
    assert proc.returncode == 0
    for flag in [
        "--dataset",
        "--encoding-vector-size",
        "--remove-label",
        "--few-shot",
        "--epochs",
        "--batch_size",
        "--lr",
        "--arch",
        "--seed",
        "--out_dir",
        "--notebook",
        "--data_dir",
        "--strategy",
        "--shot_radius",
    ]:
        assert flag in proc.stdout or flag.replace("--", "--[no]") in proc.stdout, flag


@pytest.mark.parametrize(
    "args, message",
    [
        (["--batch_size", "100000"], "larger than the"),
        (["--remove-label", "3", "--few-shot", "100000"], "shots of class 3 were asked for"),
    ],
)
def test_a_data_dependent_refusal_leaves_nothing(env, args, message):
    out = env["root"] / "refused"
    proc = run(
        env, "--dataset", "mnist", "--data_dir", env["data_dir"], "--out_dir", str(out), *TINY[:2], *args
    )
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()  # the corrected command is not refused as "other settings"


def test_mnist_downloaded_from_a_mirror_with_mixed_precision(env, tmp_path):
    """`python VAE.py --dataset mnist` pointed at a mirror (a local server here) trains on the
    files it serves, not the offline fallback; --mixed_precision runs and is recorded."""
    from tests.test_downloads import Server

    write_tiny_idx(str(tmp_path / "site" / "mnist"), train_per_class=10, test_per_class=4)
    server = Server(tmp_path / "site")
    try:
        scripted = dict(
            env["env"], CREATIVE_GANS_DATA_ORIGIN=server.url, CREATIVE_GANS_CACHE=str(tmp_path / "c")
        )
        scripted.pop("CREATIVE_GANS_NODOWNLOAD")
        out = str(tmp_path / "run")
        args = ["--dataset", "mnist", "--nojudge", "--mixed_precision", "--out_dir", out, *TINY]
        proc = run_script(VAE_DIR, "VAE.py", scripted, *args)
    finally:
        server.stop()
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = metrics(out)
    assert "downloaded" in m["data_source"] and m["train_examples"] == 100
    assert m["flags.mixed_precision"] is True and m["dtype_policy"] == "mixed_bfloat16"
    assert np.isfinite(m["test_neg_elbo"])
    assert len(server.requests) == 4 and "downloading" in proc.stdout
