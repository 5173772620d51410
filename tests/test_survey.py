"""survey/: building a study, its statistics, the WSGI app and its store, the served study killed
and restarted, bad study directories, and a participant's whole path in headless Chromium."""

import http.client
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import types
import urllib.parse

import numpy as np
import pytest

from common.classes import UsageError
from reporting import browser
from survey import study, survey_app, survey_stats
from tests.conftest import ROOT
from tests.helpers import free_ports

SURVEY_DIR = os.path.join(ROOT, "survey")


# ------------------------------------------------------------------ a study from fake runs
def fake_run(root, name, n=30, size=28, channels=1, dataset="fashion-mnist", seed=0):
    run = root / name
    run.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    np.savez(run / "samples.npz", samples=rng.random((n, size, size, channels)).astype(np.float32))
    (run / "metrics.json").write_text(json.dumps({"flags.dataset": dataset, "data_source": "made up"}))
    return str(run)


def fake_data(name):
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(10), 20)
    return types.SimpleNamespace(
        test_x=rng.integers(0, 256, (200, 28, 28, 1), dtype=np.uint8), test_y=labels, source=f"fake {name}"
    )


def make(tmp_path, name="study", per_run=6, real=8, seed=3, runs=("A", "B")):
    dirs = [study.read_run(fake_run(tmp_path / "runs" / name, r, seed=i)) for i, r in enumerate(runs)]
    out = str(tmp_path / name)
    return out, study.build(dirs, out, per_run, real, seed, load=fake_data)


def test_image_selection_is_seeded_and_balanced(tmp_path):
    _, first = make(tmp_path, "one")
    _, second = make(tmp_path, "two")
    pick = lambda m: [(e["source"], e["index"]) for e in m["images"] + m["tutorial"]]  # noqa: E731
    assert pick(first) == pick(second)  # same seed, same runs: the same images
    _, other = make(tmp_path, "three", seed=4)
    assert pick(other) != pick(first)
    counts = {s: sum(e["source"] == s for e in first["images"]) for s in first["sources"]}
    assert counts == {"A": 6, "B": 6, "real": 8}
    real_classes = [e["class"] for e in first["images"] + first["tutorial"] if e["source"] == "real"]
    per_class = np.bincount(real_classes, minlength=10)
    assert per_class.max() - per_class.min() <= 1  # 10 real images over 10 classes: one each
    assert sorted(e["source"] == "real" for e in first["tutorial"]) == [False, False, True, True]


def test_nothing_a_participant_receives_names_a_source(tmp_path):
    out, _ = make(tmp_path, runs=("CANrun", "BASErun"))
    names = os.listdir(os.path.join(out, "images"))
    assert all(re.fullmatch(r"[0-9a-f]{16}\.png", n) for n in names) and len(names) == 6 + 6 + 8 + 4
    app, _ = served(out)
    pid = start(app)
    tutorial, _, _ = next_item(app, pid)
    call(app, "POST", f"/p/{pid}/tutorial", form={"csrf": csrf_of(tutorial)})
    for _ in range(3):
        page, item, image = next_item(app, pid)
        for secret in ("CANrun", "BASErun", "real", "runs", ".npz", str(tmp_path), "manifest"):
            assert secret not in page, secret
        call(app, "POST", f"/p/{pid}/answer", form=answer_form(csrf_of(page), item, image))
    for secret in ("CANrun", "BASErun", str(tmp_path)):
        assert secret not in tutorial


def test_bad_study_directories_and_runs_are_one_line_errors(tmp_path):
    with pytest.raises(UsageError, match="not a directory"):
        study.load_manifest(str(tmp_path / "nowhere"))
    out, _ = make(tmp_path)
    (tmp_path / "study" / "manifest.json").write_text("{broken")
    with pytest.raises(UsageError, match="broken"):
        study.load_manifest(out)
    out2, manifest = make(tmp_path, "study2")
    os.remove(os.path.join(out2, "images", manifest["images"][0]["id"] + ".png"))
    with pytest.raises(UsageError, match="missing"):
        study.load_manifest(out2)
    with pytest.raises(UsageError, match="no samples.npz"):
        study.read_run(str(tmp_path))
    runs = [study.read_run(str(tmp_path / "runs" / "study2" / r)) for r in ("A", "B")]
    with pytest.raises(UsageError, match="already holds a study"):
        study.build(runs, out2, 6, 8, 3, load=fake_data)
    for script, args in (
        ("serve.py", ["--study", str(tmp_path / "nowhere")]),
        ("analyze.py", ["--study", out]),
        ("make_study.py", ["--runs", str(tmp_path / "missing"), "--out", str(tmp_path / "x")]),
    ):
        proc = subprocess.run(
            [sys.executable, script, *args], cwd=SURVEY_DIR, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 2, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


# ------------------------------------------------------------------ statistics
def test_krippendorff_alpha_matches_hand_computed_values():
    # Two units, two raters who always disagree: o_12 = o_21 = 2, n_1 = n_2 = 2, delta^2 = 4:
    # alpha = 1 - (n - 1) * sum(o delta^2) / sum(n_c n_k delta^2) = 1 - 3 * 16 / 32 = -0.5.
    assert survey_stats.krippendorff_alpha_ordinal([[1, 2], [2, 1]]) == pytest.approx(-0.5)
    assert survey_stats.krippendorff_alpha_ordinal([[1, 1], [3, 3], [5, 5, 5]]) == pytest.approx(1.0)
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the 4 observers x 12 units
    # example with missing values: ordinal alpha 0.815.
    units = [[1, 1, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4], [4, 4, 4, 4],
             [1, 1, 2, 1], [2, 2, 2, 2], [5, 5, 5], [1, 1], [3]]  # fmt: skip
    assert survey_stats.krippendorff_alpha_ordinal(units) == pytest.approx(0.815, abs=5e-4)


def test_bootstrap_interval_is_exact_on_constant_data_and_covers_the_mean():
    rng = np.random.default_rng(0)
    assert survey_stats.bootstrap_ci([[3, 3], [3]], survey_stats.pooled_mean, rng, 200) == (3.0, 3.0)
    groups = [list(rng.binomial(1, 0.3, 20)) for _ in range(40)]
    low, high = survey_stats.bootstrap_ci(groups, survey_stats.pooled_mean, rng, 1000)
    assert low < survey_stats.pooled_mean(groups) < high and high - low < 0.15


def test_analysis_recovers_known_rates_and_flags_inconsistent_participants():
    rng = np.random.default_rng(5)
    sources = {"CAN": 0.35, "baseline": 0.15, "real": 0.8}  # P(judged designer)
    images = [{"id": f"{i:016x}", "source": s} for i, s in enumerate(np.repeat(list(sources), 30))]
    manifest = {"images": images, "sources": list(sources), "attention_repeat": images[0]["id"]}
    answers, participants = [], []
    for p in range(60):
        pid = f"p{p}"
        participants.append({"pid": pid})
        careless = p >= 50
        order = [e["id"] for e in images] + [images[0]["id"]]
        first = None
        for item, image_id in enumerate(order):
            source = images[int(image_id, 16)]["source"]
            row = {
                q: int(rng.integers(1, 6)) if careless else 2 + int(source == "real")
                for q in survey_stats.LIKERT
            }
            row["q6"] = "designer" if rng.random() < (0.5 if careless else sources[source]) else "computer"
            if item == len(order) - 1 and not careless:
                row = dict(first)  # an attentive participant answers the repeat as before
            if item == 0:
                first = {k: row[k] for k in row}
            answers.append({"pid": pid, "item": item, "image_id": image_id, **row})
    results = survey_stats.analyze(manifest, participants, answers, seed=0, resamples=500)
    assert results["participants"]["finished"] == 60
    assert 3 <= results["participants"]["failed_attention_check"] <= 10  # only careless ones fail
    for source, rate in sources.items():
        entry = results["sources"][source]["designer_rate"]
        assert entry["ci95"][0] - 0.03 < rate < entry["ci95"][1] + 0.03
        assert abs(entry["rate"] - rate) < 0.06
    assert (
        results["sources"]["real"]["questions"]["q1"]["mean"]
        > results["sources"]["CAN"]["questions"]["q1"]["mean"]
    )
    assert "| CAN |" in survey_stats.markdown(results)


# ------------------------------------------------------------------ the WSGI app, in process
def served(out, token="tok-en"):
    manifest = study.load_manifest(out)
    store = survey_app.Store(os.path.join(out, "answers.sqlite"))
    app = survey_app.SurveyApp(
        manifest, survey_app.load_images(out, manifest), store, token, flag_fn=survey_stats.attention_failures
    )
    return app, store


def call(app, method, path, form=None, body=None, query=""):
    raw = body if body is not None else urllib.parse.urlencode(form or {}).encode()
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": io.BytesIO(raw),
    }
    captured = {}

    def start_response(status, headers):
        captured["status"], captured["headers"] = status, dict(headers)

    out = b"".join(app(environ, start_response))
    return captured["status"], captured["headers"], out


def start(app):
    status, headers, _ = call(app, "POST", "/start")
    assert status.startswith("303")
    return headers["Location"].rsplit("/", 1)[1]


def csrf_of(page):
    return re.search(r"name='csrf' value='([^']+)'", page).group(1)


def next_item(app, pid):
    _, _, page = call(app, "GET", f"/p/{pid}")
    text = page.decode()
    item = re.search(r"name='item' value='(\d+)'", text)
    image = re.search(r"name='image' value='([0-9a-f]+)'", text)
    return text, (int(item.group(1)) if item else None), (image.group(1) if image else None)


def answer_form(csrf, item, image, **over):
    form = {
        "csrf": csrf,
        "item": str(item),
        "image": image,
        "q1": "4",
        "q2": "3",
        "q3": "2",
        "q4": "5",
        "q5": "1",
    }
    form["q6"] = "designer"
    form.update(over)
    return {k: v for k, v in form.items() if v is not None}


def count(store):
    return len(store.rows()[1])


def test_the_whole_flow_and_every_bad_submission(tmp_path):
    out, manifest = make(tmp_path)
    app, store = served(out)
    _, _, consent = call(app, "GET", "/")
    assert b"start" in consent
    pid = start(app)
    text, item, image = next_item(app, pid)
    assert item is None and "Four examples" in text and text.count("<img") == 4
    csrf = csrf_of(text)
    assert call(app, "POST", f"/p/{pid}/answer", form=answer_form(csrf, 0, "0" * 16))[0].startswith("409")
    call(app, "POST", f"/p/{pid}/tutorial", form={"csrf": csrf})
    other = start(app)
    call(app, "POST", f"/p/{other}/tutorial", form={"csrf": csrf_of(next_item(app, other)[0])})
    _, _, other_image = next_item(app, other)
    text, item, image = next_item(app, pid)
    assert item == 0 and "Image 1 of" in text
    bad = [
        (answer_form(csrf, item, image, q3="6"), "400"),
        (answer_form(csrf, item, image, q1="0"), "400"),
        (answer_form(csrf, item, image, q2="x"), "400"),
        (answer_form(csrf, item, image, q6="maybe"), "400"),
        (answer_form(csrf, item, image, q5=None), "400"),
        (answer_form(csrf, item, "f" * 16), "400"),  # an image id not in the study
        (
            answer_form(csrf, item, other_image) if other_image != image else answer_form(csrf, 99, image),
            "400",
        ),
        (answer_form(None, item, image), "403"),  # no CSRF token
        (answer_form("forged", item, image), "403"),
        (answer_form(csrf, 1, next_item(app, pid)[2]), "400"),
    ]
    for form, expected in bad:
        status, _, _ = call(app, "POST", f"/p/{pid}/answer", form=form)
        assert status.startswith(expected), (form, status)
    oversized = urllib.parse.urlencode(answer_form(csrf, item, image, pad="x" * 5000)).encode()
    assert call(app, "POST", f"/p/{pid}/answer", body=oversized)[0].startswith("413")
    assert call(app, "POST", "/p/unknown-participant-id-000/answer", form=answer_form(csrf, item, image))[
        0
    ].startswith("404")
    assert count(store) == 0  # nothing stored by any of them
    assert call(app, "POST", f"/p/{pid}/answer", form=answer_form(csrf, item, image))[0].startswith("303")
    assert call(app, "POST", f"/p/{pid}/answer", form=answer_form(csrf, item, image))[0].startswith(
        "409"
    )  # replay
    assert count(store) == 1
    # No path a request names reaches the file system.
    for path in ("/img/../manifest.json", "/img/..%2fmanifest.json", "/img/manifest.png", "/answers.sqlite"):
        assert call(app, "GET", path)[0].startswith("404")
    # Answer the rest: the repeat comes back once, the completion code ends it.
    while True:
        text, item, image = next_item(app, pid)
        if item is None:
            break
        assert call(app, "POST", f"/p/{pid}/answer", form=answer_form(csrf, item, image))[0].startswith("303")
    assert "completion-code" in text and count(store) == len(manifest["images"]) + 1
    # The researcher page and the export need the token.
    assert call(app, "GET", "/researcher")[0].startswith("403")
    assert call(app, "GET", "/researcher/answers.csv", query="token=wrong")[0].startswith("403")
    status, _, page = call(app, "GET", "/researcher", query="token=tok-en")
    assert status.startswith("200") and b"1 finished" in page
    status, headers, csv_body = call(app, "GET", "/researcher/answers.csv", query="token=tok-en")
    assert (
        csv_body.decode().count("\n") == len(manifest["images"]) + 2
        and "attachment" in headers["Content-Disposition"]
    )


# ------------------------------------------------------------------ served by waitress, killed, restarted
def serve(out, port, token="tok-en"):
    proc = subprocess.Popen(
        [sys.executable, "serve.py", "--study", out, "--port", str(port), "--token", token],
        cwd=SURVEY_DIR,
        stdout=subprocess.PIPE,
        stderr=open(os.path.join(out, "server.log"), "a"),  # a pipe nobody reads would block the server
        text=True,
        env=dict(os.environ, PYTHONPATH=ROOT),
    )
    line = proc.stdout.readline()
    assert line.startswith("participants: http://127.0.0.1:"), line
    return proc


def request(port, method, path, form=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = urllib.parse.urlencode(form).encode() if form is not None else None
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, response.getheader("Location"), data.decode(errors="replace")


def test_a_killed_server_loses_no_acknowledged_answer_and_participants_continue(tmp_path):
    out, _ = make(tmp_path)
    (port,) = free_ports(1)
    proc = serve(out, port)
    try:
        _, location, _ = request(port, "POST", "/start")
        _, _, page = request(port, "GET", location)
        csrf = csrf_of(page)
        request(port, "POST", location + "/tutorial", {"csrf": csrf})
        for _ in range(3):
            _, _, page = request(port, "GET", location)
            item = int(re.search(r"name='item' value='(\d+)'", page).group(1))
            image = re.search(r"name='image' value='([0-9a-f]+)'", page).group(1)
            assert request(port, "POST", location + "/answer", answer_form(csrf, item, image))[0] == 303
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    with sqlite3.connect(os.path.join(out, "answers.sqlite")) as db:
        assert db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 3
    proc = serve(out, port)
    try:
        _, _, page = request(port, "GET", location)
        assert "Image 4 of" in page  # the same link continues at the next image
    finally:
        proc.terminate()
        proc.wait(10)


def tiny_can_runs(root):
    """Two real runs of ours, CAN and its baseline, a few iterations each on the stand-in data."""
    runs = []
    for name, extra in (("CAN", []), ("baseline", ["--baseline"])):
        out = str(root / name)
        proc = subprocess.run(
            [sys.executable, "train.py", "--genres", "7", "--iterations", "4", "--batch_size", "8",
             "--image_size", "32", "--sample_every", "2", "--num_samples", "16", "--nojudge",
             "--out_dir", out, *extra],
            cwd=os.path.join(ROOT, "can"),
            env=dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="2"),
            capture_output=True,
            text=True,
            timeout=300,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        runs.append(out)
    return runs


def test_a_study_of_can_against_its_baseline_is_completed_in_chromium(tmp_path):
    try:
        driver = browser.chromium(420, 900)  # a phone-sized window
    except browser.NoBrowser as missing:
        pytest.skip(str(missing))
    try:
        runs = tiny_can_runs(tmp_path / "runs")
        out = str(tmp_path / "study")
        proc = subprocess.run(
            [sys.executable, "make_study.py", "--runs", ",".join(runs), "--labels", "CAN,baseline",
             "--per_run", "3", "--real", "3", "--out", out],
            cwd=SURVEY_DIR, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        manifest = study.load_manifest(out)
    except BaseException:
        driver.quit()
        raise
    (port,) = free_ports(1)
    proc = serve(out, port)
    try:
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        def submit(button):  # click, wait until this page is gone and the next one has loaded
            page = driver.find_element(By.TAG_NAME, "html")
            button.click()

            def gone(_):
                try:
                    page.is_enabled()
                    return False
                except WebDriverException:  # stale, or Chromium's "node does not belong to the document"
                    return True

            WebDriverWait(driver, 20).until(gone)
            WebDriverWait(driver, 20).until(
                lambda d: d.execute_script("return document.readyState") == "complete"
            )

        driver.get(f"http://127.0.0.1:{port}/")
        submit(driver.find_element(By.CSS_SELECTOR, "form[action='/start'] button"))
        assert len(driver.find_elements(By.TAG_NAME, "figure")) == 4
        assert all(w > 0 for _, w in browser.load_all_images(driver))
        submit(driver.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        total = len(manifest["images"]) + 1
        for index in range(total):
            progress = driver.find_element(By.ID, "progress").text
            assert progress == f"Image {index + 1} of {total}"
            assert all(w > 0 for _, w in browser.load_all_images(driver))
            radios = {
                r.get_attribute("name") for r in driver.find_elements(By.CSS_SELECTOR, "input[type=radio]")
            }
            assert radios == {"q1", "q2", "q3", "q4", "q5", "q6"}
            if index == 0:
                shot = tmp_path / "question.png"
                assert driver.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
            # A consistent participant: answers depend on the image, so the repeat gets the same ones.
            image = int(driver.find_element(By.CSS_SELECTOR, "input[name=image]").get_attribute("value"), 16)
            for q in ("q1", "q2", "q3", "q4", "q5"):
                driver.find_element(By.CSS_SELECTOR, f"input[name={q}][value='{1 + image % 5}']").click()
            choice = "designer" if image % 2 else "computer"
            driver.find_element(By.CSS_SELECTOR, f"input[name=q6][value={choice}]").click()
            submit(driver.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        code = driver.find_element(By.ID, "completion-code").text
        assert re.fullmatch(r"[0-9A-F]{8}", code)
    finally:
        driver.quit()
        proc.terminate()
        proc.wait(10)
    with sqlite3.connect(os.path.join(out, "answers.sqlite")) as db:
        assert db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == total
    proc = subprocess.run(
        [sys.executable, "analyze.py", "--study", out, "--resamples", "200"],
        cwd=SURVEY_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    results = json.loads((tmp_path / "study" / "results.json").read_text())
    assert (
        results["participants"]["included"] == 1
        and (tmp_path / "study" / "results.png").stat().st_size > 10_000
    )
