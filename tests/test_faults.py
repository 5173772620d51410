"""A fast subset of benchmarks/bench_faults.py: the same cases, classified the same way, on the
2-d script (a few seconds a run) and the bad inputs that are refused before TensorFlow starts."""

import os
import random
import time

import pytest

from benchmarks import bench_faults
from tests.conftest import ROOT
from tests.script_runs import run_script, served_python_env

_fresh_run = bench_faults.run


@pytest.fixture(scope="module", autouse=True)
def served_runs():
    """Runs that end on their own go through the tests' TensorFlow server (tests/zygote.py), as the
    script tests' do; kills start their own processes (a SIGKILL must reach the run itself); Ctrl-C,
    a closed pipe and races go through tests/served_python (a forked run that gets the signal and
    the pipes as a started one does, without an import of TensorFlow each)."""

    def served(spec, out_dir, env, extra=(), preexec=None, timeout=600):
        if preexec is not None:
            return _fresh_run(spec, out_dir, env, extra, preexec, timeout)
        folder, script, args = spec
        proc = run_script(
            os.path.join(ROOT, folder), script, env, *args, *extra, "--out_dir", out_dir, timeout=timeout
        )
        return proc.returncode, proc.stdout, proc.stderr

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bench_faults, "run", served)
        yield


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("faults"))
    data_dir, art_dir = bench_faults.prepare(work)
    env = bench_faults.environment(os.path.join(work, "cache"))
    python, served_env = served_python_env(env)
    specs = bench_faults.scripts(data_dir, art_dir)
    # Without XLA: what these cases test is the harness and the run directory, not compiling, and
    # a 300-iteration run's XLA compile costs more than its training (the benchmark runs the default).
    specs["STYLEGAN"] = ("2D-codes", "STYLEGAN.py", ["--niters", "300", "--nhidden", "16", "--nojit"])
    out = os.path.join(work, "reference")
    code, _, err = bench_faults.run(specs["STYLEGAN"], out, env)
    assert code == 0, err
    references = {"STYLEGAN": {"metrics": bench_faults.metrics(out), "seconds": 8.0}}
    return {
        "reference": out,
        "work": work,
        "env": env,
        "served": (python, served_env),
        "specs": specs,
        "references": references,
        "data_dir": data_dir,
        "art_dir": art_dir,
    }


def test_damaged_checkpoints_resume_identically_or_fail_cleanly(ctx):
    # A damaged checkpoint list and history.json are tested in-process by test_harness.py, a
    # garbled run_config.json by test_rundir.py; the benchmark runs every kind on every script.
    kinds = ["newest checkpoint data truncated"]
    straight = {"STYLEGAN": ctx["references"]["STYLEGAN"]["metrics"]}  # the command in one go: ran once
    rows = bench_faults.damaged(ctx["specs"], ctx["work"], ctx["env"], ["STYLEGAN"], kinds, straight)
    assert len(rows) == len(kinds)
    outcomes = {r["case"]: r["outcome"] for r in rows}
    assert all(o in ("resumed identical", "clean error") for o in outcomes.values()), outcomes
    assert outcomes["damaged: newest checkpoint data truncated"] == "resumed identical"


def test_a_killed_run_resumes_identically(ctx):
    rows = bench_faults.kills(
        {"STYLEGAN": ctx["specs"]["STYLEGAN"]},
        ctx["work"],
        ctx["env"],
        ctx["references"],
        1,
        random.Random(0),
    )
    assert [r["outcome"] for r in rows] == ["resumed identical"]


def after_the_first_checkpoint(proc, out_dir, timeout=300):
    """Waits until the run has written its first checkpoint (step 0's, written before the first
    step): a Ctrl-C sent then lands while it compiles or trains, however loaded the machine is."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(os.path.join(out_dir, "checkpoints", "checkpoint")):
        if proc.poll() is not None or time.monotonic() > deadline:
            return
        time.sleep(0.02)


def test_ctrl_c_is_one_line_and_resumes_and_a_closed_pipe_does_not_stop_the_run(ctx):
    # A random moment (the benchmark's) can fall into start-up or after the end on a loaded machine;
    # here the signal follows the first checkpoint (step 0's): it interrupts compiling or training.
    # The reference is the module's (served: the same numbers as a fresh process).
    python, env = ctx["served"]
    rows = bench_faults.interrupts(
        {"STYLEGAN": ctx["specs"]["STYLEGAN"]},
        ctx["work"],
        env,
        ctx["references"],
        1,
        random.Random(0),
        after_the_first_checkpoint,
        python,
    )
    assert [(r["case"].split()[0], r["outcome"], r.get("interrupted")) for r in rows] == [
        ("Ctrl-C", "resumed identical", True),
        ("stdout", "resumed identical", None),
    ], rows


def test_two_processes_on_one_directory(ctx):
    python, env = ctx["served"]
    rows = bench_faults.race(ctx["specs"], ctx["work"], env, 2, python)
    assert all(r["outcome"] in ("clean error", "resumed identical") for r in rows), rows
    assert any(r["outcome"] == "clean error" for r in rows)  # at least once they really overlapped


def test_bad_inputs_are_one_line_and_touch_nothing(ctx):
    cases, a_file = bench_faults.bad_inputs(ctx["data_dir"], ctx["art_dir"], ctx["work"])
    assert len(cases) >= 100
    # One of each kind: a class out of range, not a number, an unknown data set, nan, a seed out
    # of range, sizes that cannot fit, --out_dir a file and under a file (the rest: the benchmark).
    kinds = [
        ["--missing_mixt", "8"],
        ["--missing_mixt", "x"],
        ["--dataset", "imagenet"],
        ["--lrg", "nan"],
        ["--seed", "99999999999"],
        ["--nhidden", "2000000000"],
        ["--out_dir_is_file"],
        ["--out_dir_under_file"],
    ]
    quick = [c for c in cases if c[0] == "STYLEGAN" and c[1] in kinds]
    assert len(quick) == len(kinds)
    finished = {"STYLEGAN": ctx["reference"]}  # copied, not run again
    rows = bench_faults.bad(ctx["specs"], ctx["work"], ctx["env"], quick, a_file, len(quick), finished)
    assert [r for r in rows if r["outcome"] != "clean error"] == []
