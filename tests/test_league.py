"""`make league QUICK=1` on a subset of the families (the diffusion model, with the copy and real
reference rows), end to end through the job engine: the table, the heatmap, the
strips and the protocol, a rerun that starts no run, and the page in Chromium. The other families
run the same code path (league/families.py); `make league QUICK=1` runs them all (~4 min)."""

import json
import math
import os
import subprocess

import pytest

from league.league import METRICS
from reporting import browser
from tests.conftest import ROOT
from tests.script_runs import script_env, served_python_env

FAMILIES = "diffusion,copy,real"


def league(out, *extra):
    python, env = served_python_env(script_env())
    return subprocess.run(
        [*python, "-m", "league", "--quick", "--families", FAMILIES, "--out", str(out), *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def quick_league(tmp_path_factory):
    out = tmp_path_factory.mktemp("league") / "quick"
    proc = league(out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, proc


def test_the_quick_league_writes_its_table_and_a_rerun_starts_no_run(quick_league):
    out, proc = quick_league
    assert "league phase 1 [" in proc.stderr and "ETA" in proc.stderr
    with open(out / "league.json") as f:
        result = json.load(f)
    rows = result["rows"]
    assert {r["family"] for r in rows} == set(FAMILIES.split(","))
    assert all(r["status"] == "ok" for r in rows), [r for r in rows if r["status"] != "ok"]
    assert {(r["family"], r["k"]) for r in rows} >= {("diffusion", 0), ("diffusion", 4), ("copy", 4)}
    assert all(r.get("shots_match") is not False for r in rows)  # every family got the league's shots
    for entry in result["table"]:
        if entry["cells"]:
            mean, low, high = entry["rate"]  # one cell: no interval yet (NaN), never a made-up one
            assert 0.0 <= mean <= 1.0 and (math.isnan(low) or low <= mean <= high)
    assert result["meta"]["quick"] and result["meta"]["commit"]
    markdown = (out / "league.md").read_text()
    assert "| diffusion | 4 |" in markdown and "| copy | 4 |" in markdown
    runs = sorted(os.listdir(out / "runs"))
    again = league(out)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "0 to run" in again.stderr and "already finished (reused)" in again.stderr
    assert sorted(os.listdir(out / "runs")) == runs


def test_the_quick_league_page_in_chromium(quick_league, tmp_path):
    out, _ = quick_league
    try:
        driver = browser.chromium()
    except browser.NoBrowser as missing:
        pytest.skip(str(missing))
    try:
        driver.get((out / "index.html").as_uri())
        images = browser.load_all_images(driver)
        assert len(images) >= 2 and all(width > 0 for _, width in images)  # a strip per family
        table = driver.execute_script(
            "return Array.from(document.querySelectorAll('#league tr[data-family]')).map(r => ({"
            "family: r.dataset.family, k: r.dataset.k, cells: r.querySelectorAll('td').length}));"
        )
        assert {(r["family"], r["k"]) for r in table} >= {
            ("diffusion", "0"),
            ("diffusion", "4"),
            ("real", "0"),
        }
        assert all(r["cells"] == 4 + len(METRICS) for r in table)
        heat = driver.find_elements("css selector", "#heatmap tr")
        assert len(heat) >= 4
        text = driver.find_element("tag name", "body").text
        assert "QUICK" in text and "The protocol" in text and "Budgets spent" in text
        assert "Held-out class c" in text  # the protocol, printed from league/README.md
    finally:
        driver.quit()


def test_intervals_are_the_report_pages_and_few_cells_are_not_mistaken_for_many():
    from league.league import interval, table

    def rows(family, rates, fjds):
        return [
            {"family": family, "k": 0, "status": "ok", "rate": r, "fjd_c": f, "aimed": 100, "real_c": 1000}
            for r, f in zip(rates, fjds)
        ]

    never, often = rows("never", [0.0, 0.0], [50.0, 70.0]), rows("often", [0.9, 0.95], [5.0, 6.0])
    m, lo, hi = interval("rate", never)
    assert m == 0.0 and lo == 0.0 and 0.01 < hi < 0.03  # 0 of 200 still has an upper bound (~0.018)
    m, lo, hi = interval("rate", rows("x", [0.2, 0.6], [1.0, 1.0]))
    assert lo == 0.0 and hi == 1.0  # t with one degree of freedom: two cells decide little
    m, lo, hi = interval("fjd_c", never)
    assert m == 60.0 and lo == 0.0 and hi > 150  # 60 ± 12.7 * 10
    assert math.isnan(interval("fjd_c", never[:1])[1])  # one cell: no interval
    ranks = table(never + often, ["never", "often"], [0])
    assert ranks[("often", 0)]["rank"] == 1 and ranks[("never", 0)]["rank"] == 2
