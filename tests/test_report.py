"""`make report`: the runner (reuse, failures), the verdicts on known numbers, and the QUICK report
end to end, opened in a real browser (Debian's headless Chromium through Selenium)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from reporting import browser
from reporting import findings as rf
from reporting import runs as report_runs
from tests.conftest import ROOT

# ------------------------------------------------------------------ the runner on tiny scripts
SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    args = sys.argv[1:]
    out = args[args.index("--out_dir") + 1]
    seed = int(args[args.index("--seed") + 1])
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "calls.txt"), "a") as f:
        f.write(" ".join(args) + "\\n")
    if "--fail" in args and seed == 1:
        print("tiny.py: failed: loss is NaN at step 3", file=sys.stderr)
        sys.exit(3)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump({"value": seed * 10, "data_source": "made up"}, f)
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


def test_runner_runs_each_seed_once_and_reuses_finished_runs(tmp_path, capsys):
    spec = tiny_spec(tmp_path, "ok")
    runs = str(tmp_path / "runs")
    assert report_runs.run_all([spec], runs) == 0
    assert len(calls(tmp_path)) == 2
    assert "ETA" in capsys.readouterr().err
    assert report_runs.run_all([spec], runs) == 0  # nothing left to run
    assert len(calls(tmp_path)) == 2
    loaded = report_runs.load(runs, spec)
    assert {seed: m["final"]["value"] for seed, (_, m) in loaded.items()} == {0: 0, 1: 10}
    assert all(record["status"] == "ok" and record["commit"] for record, _ in loaded.values())


def test_runner_keeps_each_stage_and_continues_in_the_same_directory(tmp_path):
    spec = tiny_spec(tmp_path, "staged", stages=(("at_1", ("--n", "1")), ("at_2", ("--n", "2"))))
    runs = str(tmp_path / "runs")
    report_runs.run_all([spec], runs)
    assert [c.split(" --seed")[0] for c in calls(tmp_path)[:2]] == ["--n 1", "--n 2"]
    _, metrics = report_runs.load(runs, spec)[1]
    assert set(metrics) >= {"at_1", "at_2", "final"}


def test_a_failed_run_is_recorded_reported_and_not_retried_unless_asked(tmp_path):
    spec = tiny_spec(tmp_path, "flaky", "--fail")
    runs = str(tmp_path / "runs")
    assert report_runs.run_all([spec], runs) == 1
    record = report_runs.read_record(runs, spec, 1)
    assert record["status"] == "failed" and "loss is NaN" in record["message"]
    assert report_runs.run_all([spec], runs) == 1 and len(calls(tmp_path)) == 2  # not rerun
    report_runs.run_all([spec], runs, retry_failed=True)
    assert len(calls(tmp_path)) == 3  # only the failed seed again
    # A finding that needs a run whose every seed failed says so instead of giving a verdict.
    result = rf._missing({"flaky": {1: ({"status": "failed"}, {})}}, "flaky")
    assert result.verdict == rf.NOT_TESTABLE and "failed" in result.reason


# ------------------------------------------------------------------ verdicts on known numbers
def ok(**metrics):
    return ({"status": "ok"}, {"final": metrics})


def test_verdicts_follow_their_criteria():
    data = {"vae_trousers_removed": {1: ok(grid_removed_class_hits=0.0, prior_removed_class_hits=0.0)}}
    data["vae_sneakers_removed"] = {
        1: ok(grid_removed_class_hits=0.03, prior_removed_class_hits=0.02),
        2: ok(grid_removed_class_hits=0.02, prior_removed_class_hits=0.01),
    }
    assert rf.eval_trousers_removed(data).verdict == rf.REPRODUCED
    result = rf.eval_sneakers_removed(data)
    assert result.verdict == rf.PARTLY  # 2.5 % of the grid: above the control, below 'a lot'
    assert result.numbers[0].summary() == "0.025 ± 0.007 (n=2)"
    data["vae_sneakers_removed"][3] = ok(grid_removed_class_hits=0.40, prior_removed_class_hits=0.1)
    assert rf.eval_sneakers_removed(data).verdict == rf.REPRODUCED
    can = {
        "can": {
            s: ok(style_entropy_judge=1.2 + 0.01 * s, style_entropy_judge_real=0.3, diversity_ratio=0.6)
            for s in range(3)
        },
        "can_baseline": {s: ok(style_entropy_judge=0.6 + 0.01 * s, diversity_ratio=0.8) for s in range(3)},
    }
    assert rf.eval_can_ambiguity(can).verdict == rf.REPRODUCED
    can["can_baseline"] = {s: ok(style_entropy_judge=1.3, diversity_ratio=0.8) for s in range(3)}
    assert rf.eval_can_ambiguity(can).verdict == rf.NOT_REPRODUCED


def test_every_finding_has_a_source_section_claim_and_a_known_verdict_on_no_data():
    ids = [f.finding_id for f in rf.FINDINGS]
    assert len(ids) == len(set(ids))
    sections = {f.section.split(",")[0] for f in rf.FINDINGS if f.source.startswith("report")}
    assert {"2.1", "2.2", "2.3", "2.4", "2.5", "2.6"} <= {s.split(" ")[0] for s in sections}
    for finding in rf.FINDINGS:
        assert finding.claim and finding.section
        assert finding.evaluate({}).verdict in rf.VERDICTS


# ------------------------------------------------------------------ QUICK, end to end, in a browser
@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "quick"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(
        [sys.executable, "-m", "reporting", "--quick", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def test_quick_report_writes_the_page_the_table_and_the_json(quick_report):
    out, proc = quick_report
    assert "report [" in proc.stderr and "ETA" in proc.stderr  # one progress bar across runs
    with open(out / "findings.json") as f:
        report = json.load(f)
    findings = report["findings"]
    assert len(findings) == len(rf.FINDINGS)
    assert all(f["verdict"] in rf.VERDICTS for f in findings)
    measured = [f for f in findings if f["verdict"] != rf.NOT_TESTABLE]
    assert len(measured) >= 12 and all(f["numbers"] for f in measured)
    assert report["meta"]["runs_failed"] == 0 and report["meta"]["machine"]["cores"]
    assert all(run["data_source"] and run["commits"] for run in report["runs"])
    markdown = (out / "FINDINGS.md").read_text()
    assert markdown.count("\n| ") == len(findings) + 1
    page = (out / "index.html").read_text()
    assert "http://" not in page and "https://" not in page  # self-contained
    # Rerunning reuses every run: no training, the page again.
    again = subprocess.run(
        [sys.executable, "-m", "reporting", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0 and "0 to run" in again.stderr


def test_quick_report_opens_in_chromium_with_every_image_and_verdict(quick_report, tmp_path):
    out, _ = quick_report
    try:
        driver = browser.chromium()
    except browser.NoBrowser as missing:
        pytest.skip(str(missing))
    try:
        driver.get((out / "index.html").as_uri())
        images = browser.load_all_images(driver)
        assert len(images) >= 10
        assert all(width > 0 for _, width in images), [src for src, width in images if width == 0]
        rows = driver.execute_script(
            "return Array.from(document.querySelectorAll('[data-finding]')).map(d => {"
            "const v = d.querySelector('[data-verdict]'); "
            "return [d.dataset.finding, v ? v.textContent : null];});"
        )
        assert len(rows) == len(rf.FINDINGS)
        assert all(verdict in rf.VERDICTS for _, verdict in rows), rows
        shot = tmp_path / "report.png"
        assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
    finally:
        driver.quit()


def test_a_failed_first_seed_leaves_the_others_counted():
    figr = {"class_9_judge_accuracy": 0.7, "unadapted_judge_accuracy": 0.1}
    data = {
        "figr": {
            1: ({"status": "failed"}, {}),
            2: ({"status": "ok"}, {"at_1000": dict(figr), "at_2000": dict(figr), "final": dict(figr)}),
        }
    }
    result = rf.eval_figr(data)
    assert result.verdict == rf.REPRODUCED and "1 run(s) failed" in result.reason
    assert [n.values for n in result.numbers[-4:-2]] == [[0.7], [0.1]]
