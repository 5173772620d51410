"""Fault injection across the five experiments: what happens when things go wrong.

    python -m benchmarks.bench_faults                 # everything (~40 min on 2 cores)
    python -m benchmarks.bench_faults --kills 1 --race_trials 4 --bad_limit 20   # a quick look

Every case runs the entry scripts as subprocesses, exactly as a user would, on small data the
benchmark writes (tiny IDX digits, a tiny art folder) and classifies the outcome:

  clean error        exit status != 0, one line on stderr, no traceback, earlier outputs untouched
  resumed identical  the run finished and its metrics.json equals an undisturbed run's (all but
                     the wall-clock keys)
  traceback          a Python traceback reached the user
  silently wrong     exit 0 but the numbers differ from the undisturbed run's, or a bad input
                     was accepted
  data lost          an earlier finished run's metrics.json or checkpoints were destroyed
  handled            exit 0 and the right behaviour: the damage said, a cache rebuilt or an older
                     checkpoint used, the numbers of an undisturbed run (part `unlucky`)
  hang               the command did not end within its time limit

Cases: kill -9 at random moments (then rerun), Ctrl-C at random moments (one line, exit status
130, then rerun), stdout closed by its reader after one line (`| head -1`), each
damaged-checkpoint kind, damaged history and run_config files, two processes started at once
on one directory, a full disk (a small tmpfs when mounting works, else a file-size limit that
makes writes fail the same way), a list of bad inputs across the scripts, and the ordinary
unlucky things of benchmarks/faults_unlucky.py (damaged judge and scan caches, 16-bit images,
generate.py and the folders of other commands, TF_CONFIG, a missing worker, the survey's files). Writes
benchmarks/results/bench_faults.{json,md} and BENCHMARKS.md. tests/test_faults.py runs a fast
subset. Nothing here asserts.
"""

import argparse
import glob
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from benchmarks import bench_common, faults_unlucky
from common import timing
from tests.helpers import damage_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMING = {
    "train_seconds",
    "steps_per_second",
    "seconds_per_epoch",
    "seconds_per_iteration",
    "images_per_second",
    "meta_iterations_per_second",
    "flags.out_dir",
    "resumed_from_step",
}
OUTCOMES = ["clean error", "resumed identical", "handled", "traceback", "silently wrong", "data lost", "hang"]


def scripts(data_dir, art_dir):
    """name -> (folder, script, arguments of a small run). Every run takes a few seconds."""
    return {
        "STYLEGAN": ("2D-codes", "STYLEGAN.py", ["--niters", "600", "--nhidden", "32"]),
        "CGAN": ("2D-codes", "CGAN.py", ["--niters", "600", "--nhidden", "32", "--missing_mixt", "4"]),
        "VAE": (
            "vae",
            "VAE.py",
            [
                "--dataset",
                "mnist",
                "--data_dir",
                data_dir,
                "--epochs",
                "4",
                "--batch_size",
                "40",
                "--num_samples",
                "100",
                "--grid_size",
                "6",
                "--nojudge",
            ],
        ),
        "InfoGAN": (
            "infogan",
            "main.py",
            [
                "--dataset",
                "mnist",
                "--data_dir",
                data_dir,
                "--epoch",
                "3",
                "--batch_size",
                "16",
                "--width",
                "quarter",
                "--nojit",
            ],
        ),
        "FIGR": (
            "figr",
            "train.py",
            [
                "--dataset",
                "mnist",
                "--data_dir",
                data_dir,
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
                "10",
                "--meta_iterations",
                "40",
                "--nojudge",
            ],
        ),
        "CAN": (
            "can",
            "train.py",
            [
                "--data_dir",
                art_dir,
                "--genres",
                "cubism,early renaissance,pop art",
                "--image_size",
                "16",
                "--batch_size",
                "8",
                "--iterations",
                "40",
                "--sample_every",
                "10",
                "--num_samples",
                "16",
                "--nojudge",
            ],
        ),
    }


def environment(cache):
    env = bench_common.this_checkout(dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CREATIVE_GANS_CACHE=cache))
    env.pop("CREATIVE_GANS_DATA_DIR", None)
    return env


def start(spec, out_dir, env, extra=(), preexec=None, python=None):
    """The run as a user starts it from a terminal: SIGINT at its default action even when this
    benchmark runs in the background of a shell (which ignores SIGINT, an inheritance that Python
    keeps), so a Ctrl-C case can interrupt it. python: the command that starts Python (default
    this interpreter; the tests pass one that forks the run from a process with TensorFlow loaded,
    which passes on SIGINT and the pipes)."""
    folder, script, args = spec

    def as_from_a_terminal():
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if preexec is not None:
            preexec()

    return subprocess.Popen(
        [*(python or [sys.executable]), script, *args, *extra, "--out_dir", out_dir],
        cwd=os.path.join(ROOT, folder),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=as_from_a_terminal,
    )


def run(spec, out_dir, env, extra=(), preexec=None, timeout=600):
    proc = start(spec, out_dir, env, extra, preexec)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def metrics(out_dir):
    try:
        with open(os.path.join(out_dir, "metrics.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def comparable(values):
    if values is None:
        return None
    return {k: v for k, v in values.items() if k not in TIMING and not k.startswith(timing.PREFIX)}


PROGRESS = re.compile(r"^\s*(step|epoch|meta-iteration|iteration)s? \d+/\d+ ")


def one_line_error(code, err):
    """Exit status != 0, no traceback, and one line on stderr besides the progress bar's."""
    lines = [line for line in err.splitlines() if line.strip() and not PROGRESS.match(line)]
    return code != 0 and "Traceback" not in err and len(lines) == 1


def classify_rerun(code, err, out_dir, *references):
    """A rerun that should finish with the numbers of one of the undisturbed references (or stop
    with one clean line)."""
    if "Traceback" in err:
        return "traceback"
    if code != 0:
        return "clean error" if one_line_error(code, err) else "traceback"
    got = comparable(metrics(out_dir))
    return "resumed identical" if any(got == comparable(r) for r in references) else "silently wrong"


# ------------------------------------------------------------------------------------------ cases
def kills(specs, work, env, references, per_script, rng):
    rows = []
    for name, spec in specs.items():
        for trial in range(per_script):
            out = os.path.join(work, "kill", f"{name}-{trial}")
            shutil.rmtree(out, ignore_errors=True)
            proc = start(spec, out, env)
            time.sleep(rng.uniform(2.0, references[name]["seconds"] * 0.9))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            code, _, err = run(spec, out, env)
            rows.append(
                {
                    "case": "kill -9 at a random moment, then rerun",
                    "script": name,
                    "outcome": classify_rerun(code, err, out, references[name]["metrics"]),
                }
            )
    return rows


INTERRUPTED = 130


def interrupts(specs, work, env, references, per_script, rng, moment=None, python=None):
    """Ctrl-C at a random moment (one line, exit status 130, then the rerun finishes with the
    undisturbed numbers) and a reader that closes the pipe after the first line (`| head -1`: the
    run must still finish, exit 0, with the same numbers). `moment(proc, out_dir)`, when given,
    waits for the moment to send the Ctrl-C instead of a random time."""
    rows = []
    for name, spec in specs.items():
        for trial in range(per_script):
            out = os.path.join(work, "interrupt", f"{name}-{trial}")
            shutil.rmtree(out, ignore_errors=True)
            proc = start(spec, out, env, python=python)
            if moment is None:
                time.sleep(rng.uniform(2.0, references[name]["seconds"] * 0.9))
            else:
                moment(proc, out)
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=120)
            if proc.returncode == 0:  # it finished before the signal: nothing was interrupted
                outcome = classify_rerun(0, err, out, references[name]["metrics"])
            elif "Traceback" in err or not one_line_error(proc.returncode, err):
                outcome = "traceback"
            elif proc.returncode != INTERRUPTED or "interrupted" not in err:
                outcome = "silently wrong"
            else:
                code, _, err = run(spec, out, env)
                outcome = classify_rerun(code, err, out, references[name]["metrics"])
            rows.append(
                {
                    "case": "Ctrl-C at a random moment, then rerun",
                    "script": name,
                    "outcome": outcome,
                    "interrupted": proc.returncode == INTERRUPTED,
                    "message": f"exit {proc.returncode}: "
                    + (err.strip().splitlines() or ["no output"])[-1][:200],
                }
            )
        out = os.path.join(work, "pipe", name)
        shutil.rmtree(out, ignore_errors=True)
        proc = start(spec, out, env, python=python)
        proc.stdout.readline()
        proc.stdout.close()  # the reader goes away, as `head -1` does
        err = proc.stderr.read()
        proc.wait(timeout=600)
        rows.append(
            {
                "case": "stdout closed after one line (| head -1)",
                "script": name,
                "outcome": classify_rerun(proc.returncode, err, out, references[name]["metrics"]),
            }
        )
    return rows


DAMAGES = [
    ("newest checkpoint data truncated", "checkpoints/NEWEST.data-*", "truncate"),
    ("newest checkpoint index truncated", "checkpoints/NEWEST.index", "truncate"),
    ("newest checkpoint data bytes flipped", "checkpoints/NEWEST.data-*", "flip"),
    ("newest checkpoint index removed", "checkpoints/NEWEST.index", "remove"),
    ("newest checkpoint data removed", "checkpoints/NEWEST.data-*", "remove"),
    ("checkpoint list garbage", "checkpoints/checkpoint", "garbage"),
    ("checkpoint list removed", "checkpoints/checkpoint", "remove"),
    ("history.json garbage", "logs/history.json", "garbage"),
    ("run_config.json garbage", "run_config.json", "garbage"),
]


def damaged(specs, work, env, names, kinds=None, straight=None):
    """A run trained to a midpoint, damaged, then asked for the full length. straight: {name: the
    metrics of the whole command run in one go}, when the caller has them already."""
    rows = []
    straight = straight or {}
    for name in names:
        spec = specs[name]
        midpoint = halfway(spec)
        # Undisturbed references: the same two commands without the damage (a run extended from
        # its midpoint: a learning-rate schedule over the whole length differs from an extended
        # one, by design), and the whole length in one go (what a run falling back to step 0
        # must give).
        expected, references = [], [("extended", (midpoint, spec))]
        if name in straight:
            expected.append(straight[name])
        else:
            references.append(("straight", (spec,)))
        for tag, commands in references:
            reference = os.path.join(work, "damage", f"{name}-reference-{tag}")
            shutil.rmtree(reference, ignore_errors=True)
            for command in commands:
                run(command, reference, env)
            expected.append(metrics(reference))
        for label, pattern, how in DAMAGES if kinds is None else [d for d in DAMAGES if d[0] in kinds]:
            out = os.path.join(work, "damage", f"{name}-{label.replace(' ', '_')}")
            shutil.rmtree(out, ignore_errors=True)
            code, _, err = run(midpoint, out, env)
            newest = sorted(
                glob.glob(os.path.join(out, "checkpoints", "ckpt-*.index")),
                key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0]),
            )[-1][: -len(".index")]
            target = glob.glob(
                os.path.join(out, pattern.replace("checkpoints/NEWEST", os.path.relpath(newest, out)))
            )
            damage_file(target[0], how)
            code, _, err = run(spec, out, env)
            outcome = classify_rerun(code, err, out, *expected)
            if label.startswith("run_config") and outcome == "clean error":
                outcome = "clean error" if "run_config.json" in err else "traceback"
            rows.append(
                {
                    "case": f"damaged: {label}",
                    "script": name,
                    "outcome": outcome,
                    "message": err.strip()[-300:],
                }
            )
    return rows


def halfway(spec):
    """The same command asking for about half the steps (the length flag halved)."""
    folder, script, args = spec
    args = list(args)
    for flag in ("--niters", "--epochs", "--epoch", "--meta_iterations", "--iterations"):
        if flag in args:
            i = args.index(flag) + 1
            args[i] = str(max(1, int(args[i]) // 2))
    return folder, script, args


def race(specs, work, env, trials, python=None):
    """Two processes on one directory at the same instant: one runs, the other says who holds it."""
    rows = []
    spec = specs["STYLEGAN"]
    for trial in range(trials):
        out = os.path.join(work, "race", str(trial))
        shutil.rmtree(out, ignore_errors=True)
        procs = [start(spec, out, env, python=python) for _ in range(2)]
        outputs = [p.communicate() for p in procs]
        results = [(p.returncode, o, e) for p, (o, e) in zip(procs, outputs)]
        winners = [r for r in results if r[0] == 0]
        losers = [r for r in results if r[0] != 0]
        if any("Traceback" in e for _, _, e in results):
            outcome = "traceback"
        elif len(winners) == 1 and len(losers) == 1 and "in use by another run (process" in losers[0][2]:
            outcome = "clean error"
        elif len(winners) == 2:  # the second one started after the first finished: it re-evaluated
            outcome = "resumed identical" if metrics(out) else "silently wrong"
        else:
            outcome = "silently wrong"
        rows.append(
            {"case": "two processes on one directory at once", "script": "STYLEGAN", "outcome": outcome}
        )
    return rows


def disk_full(specs, work, env):
    """Writes fail as on a full disk: a 3 MB tmpfs when this process may mount one (root), else a
    file-size limit (writes past it fail with EFBIG)."""
    rows = []
    mount = tempfile.mkdtemp(prefix="faults-disk-")
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mount], capture_output=True
        ).returncode
        == 0
    )
    try:
        for name in ("STYLEGAN", "VAE"):
            out = os.path.join(mount, name) if mounted else os.path.join(work, "disk", name)
            shutil.rmtree(out, ignore_errors=True)
            limit = (
                None if mounted else (lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000)))
            )
            if mounted:
                filler = os.path.join(mount, "filler")
                with open(filler, "wb") as f:
                    f.write(b"\0" * (2_700_000))
            code, _, err = run(specs[name], out, env, preexec=limit)
            outcome = (
                "clean error"
                if one_line_error(code, err)
                else ("silently wrong" if code == 0 else "traceback")
            )
            rows.append(
                {
                    "case": "disk full " + ("(3 MB tmpfs)" if mounted else "(file-size limit)"),
                    "script": name,
                    "outcome": outcome,
                    "message": err.strip()[-200:],
                }
            )
            if mounted:
                os.remove(filler)
                shutil.rmtree(out, ignore_errors=True)
    finally:
        if mounted:
            subprocess.run(["umount", mount], capture_output=True)
        shutil.rmtree(mount, ignore_errors=True)
    return rows


def odd_idx_sets(work):
    """Two IDX folders that load but cannot train: 30x30 images, and no images at all."""
    import numpy as np

    from common.image_data import write_idx

    folders = []
    for name, count, side in (("idx-30x30", 60, 30), ("idx-empty", 0, 28)):
        folder = os.path.join(work, name)
        os.makedirs(folder, exist_ok=True)
        rng = np.random.default_rng(0)
        for part, n in (("train", count), ("t10k", count // 5)):
            images = rng.integers(0, 256, (n, side, side), dtype=np.uint8)
            write_idx(os.path.join(folder, f"{part}-images-idx3-ubyte.gz"), images)
            write_idx(
                os.path.join(folder, f"{part}-labels-idx1-ubyte.gz"), (np.arange(n) % 10).astype(np.uint8)
            )
        folders.append(folder)
    return folders


def bad_inputs(data_dir, art_dir, work):
    """(script spec, extra flags): each must be refused with one line."""
    missing = os.path.join(work, "no-such-dir")
    a_file = os.path.join(work, "a-file")
    open(a_file, "w").close()
    odd_sides, no_images = odd_idx_sets(work)
    cases = [
        (script, ["--data_dir", folder]) for script in ("VAE", "InfoGAN") for folder in (odd_sides, no_images)
    ]
    for script in ("STYLEGAN", "CGAN"):
        for flags in (
            ["--missing_mixt", "8"],
            ["--missing_mixt", "0,1,2,3,4,5,6,7"],
            ["--missing_mixt", "x"],
            ["--dataset", "imagenet"],
            ["--batch_size", "0"],
            ["--batch_size", "-3"],
            ["--niters", "0"],
            ["--niters", "-5"],
            ["--pack", "3"],
            ["--pack", "0"],
            ["--lrg", "nan"],
            ["--lrd", "inf"],
            ["--lrg", "0"],
            ["--lrd", "-1"],
            ["--scale", "inf"],
            ["--scale", "0"],
            ["--seed", "99999999999"],
            ["--seed", "-1"],
            ["--nhidden", "2000000000"],
            ["--nhidden", "0"],
            ["--nlayers", "0"],
            ["--z_dim", "0"],
            ["--r1_gamma", "-1"],
            ["--out_dir_is_file"],
            ["--out_dir_under_file"],
            ["--strategy", "cluster"],
            ["stray-argument"],
        ):
            cases.append((script, flags))
    for flags in (
        ["--label", "--pack", "2"],
        ["--lambda_g", "nan"],
        ["--lambda_d", "-1"],
        ["--d_steps", "0"],
        ["--loss", "hinge"],
        ["--creativity_loss", "random"],
        ["--r1_gamma", "1", "--loss", "wgan-gp"],
    ):
        cases.append(("STYLEGAN", flags))
    for flags in (
        ["--dataset", "imagenet"],
        ["--remove-label", "10"],
        ["--remove-label", "x"],
        ["--few-shot", "4"],
        ["--remove-label", "3", "--few-shot", "100000"],
        ["--few-shot", "-1", "--remove-label", "3"],
        ["--data_dir", missing],
        ["--data_dir", a_file],
        ["--lr", "nan"],
        ["--lr", "0"],
        ["--epochs", "0"],
        ["--batch_size", "1000000"],
        ["--grid_size", "30000"],
        ["--grid_size", "0"],
        ["--num_samples", "0"],
        ["--num_samples", "2000000000"],
        ["--arch", "rnn"],
        ["--filters", "16"],
        ["--hidden", "0"],
        ["--shot_radius", "-1"],
        ["--shot_radius", "inf"],
        ["--encoding-vector-size", "0"],
        ["--seed", "-4"],
        ["--out_dir_is_file"],
        ["--out_dir_under_file"],
        ["--remove-label", "0,1,2,3,4,5,6,7,8,9"],
    ):
        cases.append(("VAE", flags))
    for flags in (
        ["--gan_type", "BigGAN"],
        ["--dataset", "cifar10"],
        ["--missing_mixt", "10"],
        ["--epoch", "0"],
        ["--batch_size", "0"],
        ["--batch_size", "1000000"],
        ["--z_dim", "0"],
        ["--lrG", "nan"],
        ["--lrD", "0"],
        ["--beta1", "nan"],
        ["--beta1", "1"],
        ["--beta1", "-0.1"],
        ["--data_dir", missing],
        ["--width", "huge"],
        ["--out_dir_is_file"],
        ["--missing_mixt", "0,1,2,3,4,5,6,7,8,9"],
    ):
        cases.append(("InfoGAN", flags))
    for flags in (
        ["--dataset", "cifar10"],
        ["--loss", "hinge"],
        ["--network", "vgg"],
        ["--shots", "0"],
        ["--shots", "100000"],
        ["--inner_steps", "0"],
        ["--meta_iterations", "0"],
        ["--image_size", "30"],
        ["--inner_lr", "nan"],
        ["--meta_lr", "0"],
        ["--r1_gamma", "-2"],
        ["--held_out", "10"],
        ["--data_dir", missing],
        ["--width", "0"],
        ["--num_samples", "0"],
        ["--out_dir_is_file"],
    ):
        cases.append(("FIGR", flags))
    for flags in (
        ["--genres", "0"],
        ["--genres", "11"],
        ["--genres", "cubism,baroque"],
        ["--data_dir", missing],
        ["--style_loss", "hinge"],
        ["--lambda_style", "-1"],
        ["--lambda_style", "nan"],
        ["--lr_g", "0"],
        ["--lr_d", "inf"],
        ["--image_size", "30"],
        ["--image_size", "0"],
        ["--image_size", "100000"],
        ["--batch_size", "0"],
        ["--batch_size", "100000"],
        ["--iterations", "0"],
        ["--g_steps", "0"],
        ["--out_dir_is_file"],
    ):
        cases.append(("CAN", flags))
    return cases, a_file


def bad(specs, work, env, cases, a_file, limit, finished_runs=None):
    """Each bad input beside a finished run's directory: one line, exit != 0, that run untouched.
    finished_runs: {script: a finished run of its spec}, copied instead of run again."""
    rows = []
    finished = {}
    for script, flags in cases[:limit]:
        spec = specs[script]
        if script not in finished:  # a finished run whose outputs the bad commands must not touch
            out = os.path.join(work, "bad", script)
            shutil.rmtree(out, ignore_errors=True)
            if script in (finished_runs or {}):
                shutil.copytree(finished_runs[script], out)
            else:
                run(spec, out, env)
            finished[script] = (out, open(os.path.join(out, "metrics.json")).read())
        out, before = finished[script]
        target = out
        extra = list(flags)
        if flags == ["--out_dir_is_file"]:
            target, extra = a_file, []
        elif flags == ["--out_dir_under_file"]:
            target, extra = os.path.join(a_file, "run"), []
        folder, name, args = spec
        spec_args = drop_overridden(args, extra)
        code, _, err = run((folder, name, spec_args), target, env, extra)
        if "Traceback" in err:
            outcome = "traceback"
        elif code == 0:
            outcome = "silently wrong"
        elif open(os.path.join(out, "metrics.json")).read() != before:
            outcome = "data lost"
        else:
            outcome = "clean error" if one_line_error(code, err) else "traceback"
        rows.append(
            {
                "case": "bad input",
                "script": script,
                "flags": " ".join(flags),
                "outcome": outcome,
                "message": err.strip().splitlines()[-1][:160] if err.strip() else "",
            }
        )
    return rows


def drop_overridden(args, extra):
    """The small run's arguments without the flags a bad-input case sets itself."""
    names = {f for f in extra if f.startswith("--")}
    out, skip = [], False
    for i, a in enumerate(args):
        if skip:
            skip = False
            continue
        if a in names:
            skip = i + 1 < len(args) and not args[i + 1].startswith("--")
            continue
        out.append(a)
    return out


# ---------------------------------------------------------------------------------------- report
def markdown(results):
    rows = results["rows"]
    lines = [
        f"Load: {results['load']}.",
        "",
        "| case | tried | " + " | ".join(OUTCOMES) + " |",
        "|---|---|" + "---|" * len(OUTCOMES),
    ]
    cases = []
    for r in rows:
        key = r["case"] if not r["case"].startswith("damaged") else r["case"]
        if key not in cases:
            cases.append(key)
    for case in cases:
        mine = [r for r in rows if r["case"] == case]
        lines.append(
            f"| {case} | {len(mine)} | "
            + " | ".join(str(sum(r["outcome"] == o for r in mine)) for o in OUTCOMES)
            + " |"
        )
    lines.append(
        f"| **all** | {len(rows)} | "
        + " | ".join(f"**{sum(r['outcome'] == o for r in rows)}**" for o in OUTCOMES)
        + " |"
    )
    bad_rows = [r for r in rows if r["outcome"] in ("traceback", "silently wrong", "data lost")]
    if bad_rows:
        lines += ["", "Not clean:", ""] + [
            f"- {r['script']} {r['case']} {r.get('flags', '')}: {r['outcome']} ({r.get('message', '')})"
            for r in bad_rows
        ]
    lines += [
        "",
        "Scripts: "
        + ", ".join(sorted({r["script"] for r in rows}))
        + ". A clean error is exit status ≠ 0 with "
        "one line on stderr and no traceback; resumed identical means the same metrics.json as an "
        "undisturbed run "
        "(wall-clock keys aside).",
    ]
    return "\n".join(lines) + "\n"


def part_of(row):
    """The part a result row came from (rows of older runs carry only their case)."""
    if row.get("part"):
        return row["part"]
    for prefix, part in (
        ("kill", "kills"),
        ("Ctrl-C", "interrupts"),
        ("stdout closed", "interrupts"),
        ("damaged", "damage"),
        ("two processes", "race"),
        ("disk", "disk"),
        ("bad input", "bad"),
    ):
        if row["case"].startswith(prefix):
            return part
    return None


def prepare(work):
    from tests.art_fixtures import write_art_folder
    from tests.image_fixtures import write_tiny_idx

    data_dir = write_tiny_idx(os.path.join(work, "data"), train_per_class=12, test_per_class=10)
    art_dir = os.path.join(work, "art")
    if not os.path.isdir(art_dir):
        write_art_folder(art_dir, per_genre=10)
    return data_dir, art_dir


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--parts",
        default="kills,interrupts,damage,race,disk,bad,unlucky",
        help="comma list of kills, interrupts, damage, race, disk, bad, unlucky (benchmarks/"
        "faults_unlucky.py: damaged caches, odd images, folders of other commands, waits that could "
        "hang); the other parts' rows are kept from the last run",
    )
    parser.add_argument("--kills", type=int, default=3, help="kill -9 trials per script")
    parser.add_argument("--race_trials", type=int, default=20, help="two-process trials")
    parser.add_argument(
        "--damage_scripts", default="STYLEGAN,VAE,InfoGAN,FIGR,CAN", help="scripts of the damage cases"
    )
    parser.add_argument("--bad_limit", type=int, default=10_000, help="at most this many bad inputs")
    parser.add_argument("--seed", type=int, default=0, help="seeds the kill moments")
    parser.add_argument(
        "--work_dir", default=os.path.join(ROOT, "runs", "bench_faults"), help="scratch output"
    )
    parser.add_argument("--out", default=None, help="the JSON of results (default: see --write_docs)")
    args = bench_common.parse_args(parser, "bench_faults")
    os.makedirs(args.work_dir, exist_ok=True)
    data_dir, art_dir = prepare(args.work_dir)
    env = environment(os.path.join(args.work_dir, "cache"))
    specs = scripts(data_dir, art_dir)
    started = time.perf_counter()
    load = os.getloadavg()
    references = {}
    for name, spec in specs.items():  # undisturbed runs: the numbers every resumed run must give
        out = os.path.join(args.work_dir, "reference", name)
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        code, _, err = run(spec, out, env)
        if code != 0:
            raise SystemExit(f"reference run of {name} failed:\n{err[-2000:]}")
        references[name] = {"metrics": metrics(out), "seconds": time.perf_counter() - t0}
        print(f"reference {name}: {references[name]['seconds']:.1f} s", flush=True)
    rng = random.Random(args.seed)
    parts = {
        "kills": lambda: kills(specs, args.work_dir, env, references, args.kills, rng),
        "interrupts": lambda: interrupts(specs, args.work_dir, env, references, args.kills, rng),
        "damage": lambda: damaged(specs, args.work_dir, env, args.damage_scripts.split(",")),
        "race": lambda: race(specs, args.work_dir, env, args.race_trials),
        "disk": lambda: disk_full(specs, args.work_dir, env),
        "bad": lambda: bad(
            specs, args.work_dir, env, *bad_inputs(data_dir, art_dir, args.work_dir), args.bad_limit
        ),
        "unlucky": lambda: faults_unlucky.unlucky(sys.modules[__name__], specs, args.work_dir, env),
    }
    wanted = args.parts.split(",")
    from common import files

    previous = files.read_json(args.out, {}).get("rows", []) if set(wanted) != set(parts) else []
    rows = [r for r in previous if part_of(r) not in wanted]
    for name in wanted:
        new = [dict(r, part=name) for r in parts[name]()]
        rows += new
        for r in new:
            print(r, flush=True)
    ran = len(rows) - len([r for r in previous if part_of(r) not in wanted])
    load = (
        f"load average {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, 2 cores; parts "
        f"{', '.join(wanted)} run now ({ran} cases in {(time.perf_counter() - started) / 60:.1f} min), the "
        "others kept "
        "from the last run"
    )
    results = {"rows": rows, "load": load}
    files.write_json(args.out, results)
    bench_common.publish("bench_faults.md", markdown(results))


if __name__ == "__main__":
    main()
