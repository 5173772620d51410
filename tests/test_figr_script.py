"""figr/train.py and figr/generate.py run as a user runs them, on IDX files the tests write:
the output contract, resume, mirrored on two logical CPUs, generation from a class and from a
folder of images, bad input."""

import os

import numpy as np
import pytest

from tests.conftest import ROOT
from tests.script_runs import image_run_env, metrics, run_script

FIGR_DIR = os.path.join(ROOT, "figr")
TINY = [
    "--inner_steps",
    "2",
    "--width",
    "8",
    "--z_dim",
    "16",
    "--num_samples",
    "8",
    "--eval_episodes",
    "2",
    "--sample_every",
    "2",
    "--meta_iterations",
    "4",
]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return image_run_env(tmp_path_factory, "figr", train_per_class=12)


def train(ctx, out, *args):
    return run_script(
        FIGR_DIR, "train.py", ctx["env"], "--data_dir", ctx["data_dir"], "--out_dir", str(out), *TINY, *args
    )


@pytest.fixture(scope="module")
def run(ctx):
    out = ctx["root"] / "run"
    proc = train(ctx, out, "--dataset", "MNIST")
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_train_writes_the_output_contract(run):
    out, proc = run
    values = metrics(out)
    assert values["held_out_classes"] == [9] and values["meta_iterations"] == 4
    for key in (
        "heldout_judge_accuracy",
        "unadapted_judge_accuracy",
        "heldout_diversity",
        "heldout_real_diversity",
        "heldout_nn_distance",
        "heldout_real_nn_distance_min",
        "heldout_copy_fraction",
        "heldout_frechet_judge_distance",
        "shots_judge_accuracy",
        "meta_iterations_per_second",
    ):
        assert np.isfinite(values[key]), key
    assert 0.0 <= values["heldout_judge_accuracy"] <= 1.0
    assert values["heldout_real_diversity"] > 0 and len(values["class_9_shot_indices"]) == 4
    assert values["flags.dataset"] == "mnist" and values["flags.loss"] == "dcgan"
    with np.load(out / "samples.npz") as f:
        assert f["samples"].shape == (8, 32, 32, 1) and f["samples"].dtype == np.float32
        assert 0.0 <= f["samples"].min() and f["samples"].max() <= 1.0
        assert set(f["labels"].tolist()) == {9}
    for name in ("few_shot.png", "adaptation.png", "progression.png", "losses.png"):
        assert (out / name).stat().st_size > 0, name
    assert any(n.startswith("ckpt") for n in os.listdir(out / "checkpoints"))
    events = [f for _, _, files in os.walk(out / "logs") for f in files if f.startswith("events")]
    assert events
    assert "heldout_judge_accuracy" in proc.stdout


def test_tensorboard_gets_few_shot_images(run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out, _ = run
    acc = EventAccumulator(str(out / "logs" / "train"), size_guidance={"tensors": 0})
    acc.Reload()
    tags = acc.Tags()["tensors"]
    assert "few_shot/9" in tags and "d_loss" in tags
    assert sorted(e.step for e in acc.Tensors("few_shot/9")) == [2, 4]


def test_vae_and_figr_draw_the_same_shots(run):
    """Episode 0's shots of digit 9 are VAE.py's --remove-label 9 --few-shot 4 with the same seed."""
    from common.classes import remove_classes
    from common.image_data import load_image_data

    out, _ = run
    data = load_image_data("mnist", metrics(out)["flags.data_dir"])
    _, _, shots = remove_classes(data.train_x, data.train_y, (9,), 4, np.random.default_rng(1))
    assert metrics(out)["class_9_shot_indices"] == shots[9].tolist()


def test_rerun_with_more_meta_iterations_resumes(ctx, run):
    out, _ = run
    # --sample_every and the evaluation's flags do not define the run: it continues.
    proc = train(
        ctx, out, "--dataset", "mnist", "--meta_iterations", "6", "--sample_every", "3", "--gen_steps", "1"
    )
    assert proc.returncode == 0, proc.stderr
    values = metrics(out)
    assert values["resumed_from_step"] == 4 and values["meta_iterations"] == 6
    assert values["flags.sample_every"] == 3 and values["flags.gen_steps"] == 1


def test_wgan_gp_resnet_on_two_logical_devices(ctx):
    out = ctx["root"] / "mirrored"
    env = dict(ctx["env"], CREATIVE_GANS_CPU_DEVICES="2")
    proc = run_script(
        FIGR_DIR,
        "train.py",
        env,
        "--data_dir",
        ctx["data_dir"],
        "--out_dir",
        str(out),
        *TINY,
        "--loss",
        "WGAN-GP",
        "--network",
        "resnet",
        "--strategy",
        "mirrored",
        "--held_out",
        "3,4",
        "--nojudge",
    )
    assert proc.returncode == 0, proc.stderr
    values = metrics(out)
    assert values["replicas"] == 2 and values["held_out_classes"] == [3, 4]
    assert "heldout_judge_accuracy" not in values and np.isfinite(values["heldout_diversity"])
    assert (out / "few_shot_4.png").exists()


def test_generate_from_a_class_and_from_a_folder(ctx, run, tmp_path):
    from PIL import Image

    out, _ = run
    proc = run_script(
        FIGR_DIR,
        "generate.py",
        ctx["env"],
        "--run_dir",
        str(out),
        "--class",
        "9",
        "--num_samples",
        "8",
        "--out_dir",
        str(tmp_path / "class9"),
    )
    assert proc.returncode == 0, proc.stderr
    values = metrics(tmp_path / "class9")
    assert (
        values["class"] == 9
        and not values["class_seen_in_meta_training"]
        and 0 <= values["judge_accuracy"] <= 1
    )
    assert (tmp_path / "class9" / "few_shot.png").exists()
    proc = run_script(
        FIGR_DIR,
        "generate.py",
        ctx["env"],
        "--run_dir",
        str(out),
        "--class",
        "3",
        "--num_samples",
        "8",
        "--out_dir",
        str(tmp_path / "class3"),
    )
    assert proc.returncode == 0, proc.stderr
    assert metrics(tmp_path / "class3")["class_seen_in_meta_training"] is True
    folder = tmp_path / "mine"
    folder.mkdir()
    for i in range(3):  # dark strokes on white paper, of another size than the model's
        image = np.full((40, 40), 255, np.uint8)
        image[10:30, 15 + i : 20 + i] = 0
        Image.fromarray(image).save(folder / f"shot{i}.png")
    (folder / "notes.txt").write_text("not an image, ignored")
    proc = run_script(
        FIGR_DIR,
        "generate.py",
        ctx["env"],
        "--run_dir",
        str(out),
        "--shots_dir",
        str(folder),
        "--num_samples",
        "8",
        "--steps",
        "2",
    )
    assert proc.returncode == 0, proc.stderr
    values = metrics(out / "generate" / "mine")
    assert values["num_shots"] == 3 and values["inverted"] is True and values["adaptation_steps"] == 2
    with np.load(out / "generate" / "mine" / "samples.npz") as f:
        assert f["samples"].shape == (8, 32, 32, 1)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--shots", "0"], "--shots must be a positive integer"),
        (["--held_out", "10"], "--held_out: class 10 is out of range"),
        (["--held_out", "0,1,2,3,4,5,6,7,8,9"], "leaves nothing to train on"),
        (["--dataset", "cifar"], "--dataset: unknown data set 'cifar'"),
        (["--loss", "hinge"], "--loss: unknown loss 'hinge'"),
        (["--data_dir", "/no/such/dir"], "--data_dir /no/such/dir is not a directory"),
        (["--image_size", "30"], "--image_size must be a positive multiple of 8"),
        (["--shots", "20"], "20 shots of class 9 were asked for, but it has only 12 examples"),
    ],
)
def test_train_bad_input_is_one_line(ctx, tmp_path, args, message):
    out = tmp_path / "bad"
    proc = run_script(
        FIGR_DIR, "train.py", ctx["env"], "--data_dir", ctx["data_dir"], "--out_dir", str(out), *args
    )
    assert proc.returncode == 2
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (out / "metrics.json").exists()


def test_omniglot_without_tensorflow_datasets_data_is_one_line(ctx, tmp_path):
    proc = run_script(
        FIGR_DIR,
        "train.py",
        dict(ctx["env"], TFDS_DATA_DIR=str(tmp_path)),
        "--dataset",
        "Omniglot",
        "--out_dir",
        str(tmp_path / "o"),
    )
    assert proc.returncode == 2 and "omniglot is not available on this machine" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = run_script(FIGR_DIR, "train.py", ctx["env"], "--dataset", "omniglot", "--held_out", "3")
    assert proc.returncode == 2 and "omniglot always holds out its evaluation alphabets" in proc.stderr


def test_generate_bad_input_is_one_line(ctx, run, tmp_path):
    out, _ = run
    before = (out / "metrics.json").read_bytes()
    empty = tmp_path / "empty"
    empty.mkdir()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.png").write_bytes(b"not a png at all")
    for args, message in [
        (["--shots_dir", str(empty)], "holds no images"),
        (["--shots_dir", str(broken)], "cannot read a.png as an image"),
        (["--shots_dir", str(tmp_path / "none")], "is not a directory"),
        (["--class", "12"], "--class: class 12 is out of range"),
        (["--shots", "0"], "--shots must be a positive integer"),
    ]:
        proc = run_script(FIGR_DIR, "generate.py", ctx["env"], "--run_dir", str(out), *args)
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    proc = run_script(FIGR_DIR, "generate.py", ctx["env"], "--run_dir", str(tmp_path))
    assert proc.returncode == 2 and "is not a FIGR run" in proc.stderr
    assert (out / "metrics.json").read_bytes() == before  # earlier output untouched


def test_help_explains_every_flag(ctx):
    for script, flags in (
        (
            "train.py",
            [
                "--dataset",
                "--loss",
                "--held_out",
                "--inner_steps",
                "--shots",
                "--meta_iterations",
                "--image_size",
                "--z_dim",
                "--network",
                "--log_dir",
                "--seed",
                "--out_dir",
                "--strategy",
            ],
        ),
        ("generate.py", ["--run_dir", "--shots_dir", "--class", "--steps", "--num_samples"]),
    ):
        proc = run_script(FIGR_DIR, script, ctx["env"], "--help")
        assert proc.returncode == 0
        for flag in flags:
            assert flag + ":" in proc.stdout, (script, flag)


def test_generate_reads_past_a_damaged_checkpoint_and_refuses_busy_or_diverged_runs(run, tmp_path):
    import dataclasses
    import fcntl
    import json
    import shutil

    from common.classes import UsageError
    from figr.figr_run import restore_meta_model
    from figr.spec import from_run_dir

    out, _ = run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    config = dataclasses.replace(from_run_dir(str(copy)).model, channels=1)
    _, newest = restore_meta_model(str(copy), config, log=lambda _: None)
    [data] = (copy / "checkpoints").glob(f"ckpt-{newest}.data-*")
    data.write_bytes(data.read_bytes()[:100])  # a full disk cut the newest checkpoint short
    said = []
    _, step = restore_meta_model(str(copy), config, log=said.append)
    assert step < newest and "is damaged" in said[0] and "older checkpoint" in said[0]
    with open(copy / ".lock", "a+") as lock:  # a train.py run under way holds this lock
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        lock.write("12345")
        lock.flush()
        with pytest.raises(UsageError, match="is being trained now"):
            restore_meta_model(str(copy), config)
        fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    (copy / "metrics.json").write_text(json.dumps({"diverged": True, "diverged_at_step": 3}))
    with pytest.raises(UsageError, match="diverged at meta-iteration 3"):
        restore_meta_model(str(copy), config)
