"""`make report`: the job engine (reuse, stages, failures, a driver killed), the statistics and the
verdicts on known numbers, the quotes, and the QUICK report end to end, opened in a real browser
(Debian's headless Chromium through Selenium)."""

import dataclasses
import glob
import io
import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from reporting import browser, engine, stats
from reporting import findings as rf
from reporting import runs as report_runs
from tests.conftest import ROOT
from tests.script_runs import script_env, served_python_env

# ------------------------------------------------------------------ the engine on tiny scripts
SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time
    args = sys.argv[1:]
    out = args[args.index("--out_dir") + 1]
    seed = int(args[args.index("--seed") + 1])
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "calls.txt"), "a") as f:
        f.write(" ".join(args) + "\\n")
    if "--fail" in args and seed == 1:
        print("tiny.py: failed: loss is NaN at step 3", file=sys.stderr)
        sys.exit(3)
    if "--sleep" in args:
        time.sleep(float(args[args.index("--sleep") + 1]))
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "metrics.json"), "w") as f:
        threads = os.environ.get("TF_NUM_INTRAOP_THREADS")
        json.dump({"value": seed * 10, "data_source": "made up", "threads": threads}, f)
    """
)


def tiny_spec(tmp_path, run_id, *args, stages=()):
    folder = tmp_path / "exp"
    folder.mkdir(exist_ok=True)
    (folder / "tiny.py").write_text(SCRIPT)
    return report_runs.ReportRun(run_id, str(folder), "tiny.py", tuple(args), (0, 1), 1.0, stages=stages)


def calls(tmp_path):
    path = tmp_path / "exp" / "calls.txt"
    return path.read_text().splitlines() if path.exists() else []


def run(specs, runs, **kwargs):
    return engine.run_jobs(
        report_runs.jobs(specs, runs, threads=1), parallel=2, folder=runs + "/../engine", **kwargs
    )


def test_the_engine_runs_each_job_once_through_submitit_and_reuses_finished_ones(tmp_path):
    spec = tiny_spec(tmp_path, "ok")
    runs = str(tmp_path / "runs")
    progress = io.StringIO()
    assert run([spec], runs, stream=progress) == 0
    assert len(calls(tmp_path)) == 2
    assert "ETA" in progress.getvalue()
    assert glob.glob(str(tmp_path / "engine" / "*_submitted.pkl"))  # submitit's own job files
    assert run([spec], runs) == 0  # nothing left to run
    assert len(calls(tmp_path)) == 2
    loaded = report_runs.load(runs, spec)
    assert {seed: m["final"]["value"] for seed, (_, m) in loaded.items()} == {0: 0, 1: 10}
    assert {m["final"]["threads"] for _, m in loaded.values()} == {"1"}  # capped per job
    assert all(record["status"] == "ok" and record["commit"] for record, _ in loaded.values())


def test_stages_continue_in_the_same_directory(tmp_path):
    spec = tiny_spec(tmp_path, "staged", stages=(("at_1", ("--n", "1")), ("at_2", ("--n", "2"))))
    runs = str(tmp_path / "runs")
    run([spec], runs)
    per_seed = sorted(c.split(" --seed")[0] for c in calls(tmp_path))
    assert per_seed == ["--n 1", "--n 1", "--n 2", "--n 2"]
    _, metrics = report_runs.load(runs, spec)[1]
    assert set(metrics) >= {"at_1", "at_2", "final"}


def test_a_comparison_job_records_the_training_of_every_model_it_trains(tmp_path):
    """A 2-d --compare job trains three models in sub-folders; the record once held only the first's."""
    for model, seconds in (("normal_gan", 12.0), ("style_gan", 25.5), ("style_gan_report_loss", 32.0)):
        (tmp_path / model).mkdir()
        (tmp_path / model / "metrics.json").write_text(json.dumps({"train_seconds": seconds}))
    compare = engine.Job("c/seed0", "2D-codes", (), str(tmp_path), metrics_file="normal_gan/metrics.json")
    assert engine.train_seconds(compare, {"train_seconds": 12.0}) == 69.5
    single = dataclasses.replace(compare, metrics_file="metrics.json")
    assert engine.train_seconds(single, {"train_seconds": 12.0}) == 12.0


def test_a_failed_job_is_recorded_reported_and_not_retried_unless_asked(tmp_path):
    spec = tiny_spec(tmp_path, "flaky", "--fail")
    runs = str(tmp_path / "runs")
    assert run([spec], runs) == 1
    record = engine.read_record(spec.job(runs, 1))
    assert record["status"] == "failed" and "loss is NaN" in record["message"]
    assert run([spec], runs) == 1 and len(calls(tmp_path)) == 2  # not rerun
    run([spec], runs, retry_failed=True)
    assert len(calls(tmp_path)) == 3  # only the failed seed again
    # A finding that needs a run whose every seed failed says so instead of giving a verdict.
    ctx = rf.Context({"flaky": {1: ({"status": "failed"}, {})}})
    result = rf.missing(ctx, "flaky")
    assert result.verdict == stats.NOT_TESTABLE and "failed" in result.reason


def test_a_job_whose_command_changed_runs_again_and_its_old_run_is_kept_aside(tmp_path):
    """A finished record used to be reused whatever its command: a recipe changed in the code kept
    the old run's numbers under the new recipe's name."""
    runs = str(tmp_path / "runs")
    assert run([tiny_spec(tmp_path, "recipe", "--lr", "1")], runs) == 0
    progress = io.StringIO()
    changed = tiny_spec(tmp_path, "recipe", "--lr", "2")
    assert run([changed], runs, stream=progress) == 0
    assert sorted(c.split(" --seed")[0] for c in calls(tmp_path)) == ["--lr 1"] * 2 + ["--lr 2"] * 2
    assert progress.getvalue().count("made by other commands; moved to") == 2
    assert all("--lr 2" in engine.read_record(j)["commands"][0] for j in report_runs.jobs([changed], runs))
    kept = glob.glob(os.path.join(runs, "recipe", "seed*.replaced-*", "seed*.json"))
    assert len(kept) == 2 and all("--lr 1" in json.load(open(p))["commands"][0] for p in kept)
    # Moved (a copied results folder): absolute paths in the commands differ, the job is the same.
    moved = str(tmp_path / "elsewhere")
    os.rename(runs, moved)
    base = os.path.join(moved, "base")
    with_path = tiny_spec(tmp_path, "pathy", "--init_from", os.path.join(runs, "base"))
    assert run([with_path], moved) == 0
    again = tiny_spec(tmp_path, "pathy", "--init_from", base)
    assert run([again], moved) == 0 and len(calls(tmp_path)) == 6  # reused, not rerun


def test_a_killed_driver_leaves_no_record_and_a_rerun_finishes_the_job(tmp_path):
    spec = tiny_spec(tmp_path, "slow", "--sleep", "30")
    runs = str(tmp_path / "runs")
    code = textwrap.dedent(
        f"""
        from reporting import engine, runs as report_runs
        folder = {str(tmp_path / "exp")!r}
        spec = report_runs.ReportRun("slow", folder, "tiny.py", ("--sleep", "30"), (0,), 1.0)
        engine.run_jobs(report_runs.jobs([spec], {runs!r}), folder={runs + "/../engine"!r})
        """
    )
    driver = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    for _ in range(200):  # until the job has started its command
        if calls(tmp_path):
            break
        driver.wait(timeout=0.1) if driver.poll() is not None else __import__("time").sleep(0.1)
    driver.kill()  # kill -9: no chance to clean up
    driver.wait()
    job = report_runs.jobs([spec], runs)[0]
    assert engine.read_record(job) is None  # nothing pretends the run finished (or failed)
    spec_fast = report_runs.ReportRun("slow", str(tmp_path / "exp"), "tiny.py", ("--sleep", "0"), (0,), 1.0)
    assert run([spec_fast], runs) == 0
    assert engine.read_record(job)["status"] == "ok"


# ------------------------------------------------------------------ statistics and verdicts
def test_intervals():
    mean = stats.mean_interval([1.0, 2.0, 3.0])
    assert mean.estimate == 2.0 and mean.low == pytest.approx(2 - 4.303 * 1 / 3**0.5, abs=1e-3)
    zero = stats.rate_interval([0.0] * 10, 2500)  # no hit in 25,000 samples: still an upper bound
    assert zero.low == 0.0 and 1e-4 < zero.high < 2e-4
    diff = stats.difference_interval([1.0, 1.1, 0.9], [0.0, 0.1, -0.1])
    assert diff.low > 0 and diff.p_value < 0.01
    one = stats.mean_interval([0.5])
    assert np.isnan(one.low) and "1 seed" in one.text()


def test_the_four_verdicts():
    absent = stats.rate_interval([0.0] * 10, 2500)
    found = stats.rate_interval([0.1] * 10, 2500)
    assert stats.absent(absent, 0.001, found) == stats.REPRODUCED
    assert stats.absent(absent, 0.001, absent) == stats.INCONCLUSIVE  # the control cannot find X
    assert stats.absent(absent, 0.001, None) == stats.INCONCLUSIVE
    assert stats.absent(found, 0.001, found) == stats.NOT_REPRODUCED
    spans = stats.mean_interval([0.3, 0.7, 0.5])
    assert stats.present(spans, 0.5) == stats.INCONCLUSIVE and stats.below(spans, 0.5) == stats.INCONCLUSIVE
    assert stats.present(stats.mean_interval([0.8, 0.9, 0.85]), 0.5) == stats.REPRODUCED
    assert stats.below(stats.mean_interval([0.8, 0.9, 0.85]), 0.5) == stats.NOT_REPRODUCED
    assert stats.present(stats.mean_interval([]), 0.5) == stats.NOT_TESTABLE
    assert stats.all_of(stats.REPRODUCED, stats.INCONCLUSIVE) == stats.INCONCLUSIVE
    assert stats.all_of(stats.REPRODUCED, stats.NOT_REPRODUCED) == stats.NOT_REPRODUCED


def ok(**metrics):
    return ({"status": "ok", "commit": "x"}, {"final": metrics})


def panels(**by_panel):
    return ({"status": "ok"}, {"final": {}, "panels": by_panel})


def toy(hits, total=2500, off=0.05):
    return {"hq_count_mode_1": hits, "num_samples": total, "hq_fraction": 1 - off, "nn_distance": 0.1}


def test_the_missing_mixture_claim_needs_its_control():
    quiet = {s: panels(normal_gan=toy(0), style_gan=toy(0), style_gan_report_loss=toy(0)) for s in range(10)}
    present = {
        s: panels(normal_gan=toy(300), style_gan=toy(250), style_gan_report_loss=toy(280)) for s in range(10)
    }
    data = {"toy_compare": quiet, "toy_compare_report": quiet, "toy_compare_all": present}
    assert rf.eval_missing_mixture(rf.Context(data)).verdict == stats.REPRODUCED
    data["toy_compare_all"] = quiet  # a control that never finds the mixture: cannot decide
    assert rf.eval_missing_mixture(rf.Context(data)).verdict == stats.INCONCLUSIVE
    data["toy_compare_all"] = present
    data["toy_compare"] = {
        s: panels(normal_gan=toy(50), style_gan=toy(0), style_gan_report_loss=toy(0)) for s in range(10)
    }
    assert rf.eval_missing_mixture(rf.Context(data)).verdict == stats.NOT_REPRODUCED


def test_a_comparison_is_decided_by_the_interval_of_the_difference():
    can = {
        s: ok(style_entropy_judge=1.2 + 0.01 * s, style_entropy_judge_realistic=1.0 + 0.01 * s)
        for s in range(5)
    }
    base = {
        s: ok(style_entropy_judge=0.6 + 0.01 * s, style_entropy_judge_realistic=0.5 + 0.02 * s)
        for s in range(5)
    }
    assert rf.eval_can_ambiguity(rf.Context({"can": can, "can_baseline": base})).verdict == stats.REPRODUCED
    noisy = {
        s: ok(style_entropy_judge=0.6 + (0.9 if s % 2 else -0.5), style_entropy_judge_realistic=0.5)
        for s in range(5)
    }
    assert (
        rf.eval_can_ambiguity(rf.Context({"can": can, "can_baseline": noisy})).verdict == stats.INCONCLUSIVE
    )


def test_every_finding_is_complete_and_every_claim_quoted():
    ids = [f.finding_id for f in rf.FINDINGS]
    assert len(ids) == len(set(ids))
    for finding in rf.FINDINGS:
        assert finding.kind in rf.KINDS and finding.test and finding.representation
        assert finding.evaluate(rf.Context({})).verdict in stats.VERDICTS
        if finding.kind == "claim":
            assert finding.quote and "seed 00" in finding.source
        if finding.kind in ("claim", "reading") and finding.runs:
            assert finding.criterion != "—", finding.finding_id


def test_every_quote_is_verbatim_in_its_source():
    seeds = os.path.join(ROOT, "..", "shared", "seeds")
    if not os.path.isdir(seeds):
        pytest.skip("the source documents (../shared/seeds) are not beside this checkout")
    documents = {
        os.path.basename(p)[:3]: open(p, encoding="utf-8").read() for p in glob.glob(f"{seeds}/*.txt")
    }

    def norm(text):
        return re.sub(r"\s+", " ", text).strip()

    for finding in rf.FINDINGS:
        if finding.quote and finding.kind != "cited":
            number = re.search(r"seed (\d{3})", finding.source).group(1)
            assert norm(finding.quote) in norm(documents[number]), finding.finding_id


# ------------------------------------------------------------------ QUICK, end to end, in a browser
# The suite runs a partial QUICK page (`make report QUICK=1` runs all 24): every experiment family,
# every kind of finding, each "no X" with its control; 12 of the 23 runs.
SUBSET = (  # every kind of finding and verdict path on the cheapest runs (the 2-d comparisons are
    # the slowest quick runs and are tested by their own scripts' tests)
    "2.3-cgan",
    "2.5-no-trousers",
    "2.6-figr-copies",
    "004-mode-collapse",
    "poster-human-evaluation",
    "2.4-infogan-no-3",
    "can-ambiguity",
    "elgammal-human",
)


def test_a_subset_of_findings_runs_only_their_runs_and_unknown_ids_are_one_line(tmp_path):
    from reporting import report

    chosen = report.select_findings(",".join(SUBSET))
    assert [f.finding_id for f in chosen] == [f.finding_id for f in rf.FINDINGS if f.finding_id in SUBSET]
    assert {f.kind for f in chosen} == set(rf.KINDS)
    runs = {spec.run_id for spec in report.needed_runs(report_runs.run_specs(True), chosen)}
    assert len(runs) == 9 and {"cgan_all", "vae_all_classes", "infogan_all"} <= runs
    assert not any(run.startswith("toy_compare") for run in runs)  # only the chosen findings' runs
    assert len(report.select_findings("")) == len(rf.FINDINGS)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "reporting",
            "--quick",
            "--findings",
            "2.3-cgan,nonsense",
            "--out",
            str(tmp_path / "x"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "unknown finding(s) nonsense" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "x").exists()


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "quick"
    # The driver and its jobs forked from a process with TensorFlow imported (tests/served_python):
    # the same runs, without eleven imports of TensorFlow. The environment is the server's (this
    # tree on PYTHONPATH): with another PYTHONPATH the driver would get a fresh interpreter.
    python, env = served_python_env(script_env())
    reference = os.path.join(ROOT, "..", "shared", "reference-figures")
    extra = ["--findings", ",".join(SUBSET)]
    extra += ["--reference_figures", reference] if os.path.isdir(reference) else []
    proc = subprocess.run(
        [*python, "-m", "reporting", "--quick", "--out", str(out), *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc, extra, python, env


def test_quick_report_writes_the_page_the_table_and_the_json(quick_report):
    out, proc, extra, python, env = quick_report
    assert "report [" in proc.stderr and "ETA" in proc.stderr  # one progress bar across runs
    with open(out / "findings.json") as f:
        report = json.load(f)
    findings = report["findings"]
    assert [f["id"] for f in findings] == [f.finding_id for f in rf.FINDINGS if f.finding_id in SUBSET]
    assert report["meta"]["subset"] == [f["id"] for f in findings] and len(findings) == len(SUBSET)
    assert all(f["verdict"] in stats.VERDICTS for f in findings)
    measured = [f for f in findings if f["verdict"] != stats.NOT_TESTABLE]
    assert len(measured) >= 6 and all(f["numbers"] for f in measured)
    assert report["meta"]["runs_failed"] == 0 and report["meta"]["criteria_commit"]
    assert set(report["judges"]) == {"fashion-mnist", "mnist"}  # claims' data sets validated too
    assert all(run["data_source"] and run["commits"] for run in report["runs"])
    markdown = (out / "FINDINGS.md").read_text()
    for f in findings:  # every number of a row, none cut off
        for n in f["numbers"]:
            assert n["summary"] in markdown
    page = (out / "index.html").read_text()
    assert "http://" not in page and "https://" not in page  # self-contained
    table = subprocess.run(  # where the runs' time went, per run and stage
        [sys.executable, "-m", "reporting.wall_time", str(out / "runs")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert table.returncode == 0, table.stderr
    header, _, *rows = table.stdout.splitlines()
    for stage in ("startup", "data", "train", "evaluate", "figures", "outputs", "other"):
        assert f" {stage} |" in header, header
    assert len(rows) == 10 and rows[-1].startswith("| **all** |")  # its 9 runs and their total
    again = subprocess.run(
        [*python, "-m", "reporting", "--quick", "--out", str(out), "--page_only", *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    with open(out / "findings.json") as f:  # rebuilt from the same runs: the same verdicts and numbers
        rebuilt = json.load(f)["findings"]
    assert [(f["id"], f["verdict"], [n["summary"] for n in f["numbers"]]) for f in rebuilt] == [
        (f["id"], f["verdict"], [n["summary"] for n in f["numbers"]]) for f in findings
    ]


def _digest(path):
    import hashlib

    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_quick_report_in_chromium_every_finding_has_a_quote_an_interval_a_verdict_and_controls(
    quick_report, tmp_path
):
    out, _, extra, _, _ = quick_report
    with_reference = "--reference_figures" in extra
    try:
        driver = browser.chromium()
    except browser.NoBrowser as missing:
        pytest.skip(str(missing))
    try:
        driver.get((out / "index.html").as_uri())
        images = browser.load_all_images(driver)
        # a figure per measured finding (6 of the 8; the human-study rows have none), plus the
        # report's own figures where ../shared/reference-figures exists
        assert len(images) >= 6
        assert all(width > 0 for _, width in images), [src for src, width in images if width == 0]
        if with_reference:  # the report's figures beside ours, linked from ../shared, never copied
            assert any("reference-figures" in src for src, _ in images)
            reference = os.path.join(ROOT, "..", "shared", "reference-figures")
            theirs = {_digest(p) for p in glob.glob(os.path.join(reference, "*.png"))}
            ours = {_digest(p) for p in glob.glob(str(out / "**" / "*.png"), recursive=True)}
            assert theirs and not theirs & ours
        rows = driver.execute_script(
            "return Array.from(document.querySelectorAll('[data-finding]')).map(d => ({"
            "id: d.dataset.finding, kind: d.dataset.kind,"
            "quote: (d.querySelector('blockquote.quote') || {}).textContent || '',"
            "verdict: (d.querySelector('[data-verdict]') || {}).textContent,"
            "intervals: d.querySelectorAll('td.interval').length,"
            "controls: d.querySelectorAll('tr.control').length}));"
        )
        assert len(rows) == len(SUBSET)
        assert f"{len(SUBSET)} of the 24 findings" in driver.find_element("id", "subset").text
        by_id = {f.finding_id: f for f in rf.FINDINGS}
        for row in rows:
            finding = by_id[row["id"]]
            assert row["verdict"] in stats.VERDICTS, row
            if finding.kind == "claim":
                assert row["quote"].strip() == finding.quote
            if row["verdict"] != stats.NOT_TESTABLE:
                assert row["intervals"] >= 1, row
            if finding.evaluate in (
                rf.eval_missing_mixture,
                rf.eval_cgan,
                rf.eval_no_trousers,
                rf.eval_infogan,
            ):
                assert row["controls"] >= 1, row  # every "no X" shows its positive control
        headline = driver.find_element("id", "headline").text
        assert "claims of the sources" in headline
        shot = tmp_path / "report.png"
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    finally:
        driver.quit()


def test_the_readme_block_is_replaced_between_its_markers_whatever_the_opening_says(tmp_path):
    from reporting.report import README_END, write_readme_block

    readme = tmp_path / "README.md"
    readme.write_text(
        "# x\n\n<!-- report:begin (written by an older tool) -->\nold\n" + README_END + "\n\ntail\n"
    )
    meta = {
        "command": "make report",
        "commit": "abc1234",
        "criteria_commit": "def5678",
        "made": "2026-12-06",
        "confirmatory": 100,
        "wall_minutes": 150.0,
        "machine": {"cores": 2},
    }
    findings = [
        {"kind": "claim", "quote": "A quoted sentence.", "source": "2.2", "verdict": "reproduced"},
        {"kind": "reading", "quote": "Not counted.", "source": "fig", "verdict": "inconclusive"},
    ]
    write_readme_block(str(readme), findings, meta)
    text = readme.read_text()
    assert "old" not in text and text.startswith("# x") and text.rstrip().endswith("tail")
    assert "**1 claim of the sources: 1 reproduced" in text and "“A quoted sentence.”" in text
    assert "Not counted" not in text
    readme.write_text("# no markers\n")
    with pytest.raises(ValueError, match="no report block"):
        write_readme_block(str(readme), findings, meta)
