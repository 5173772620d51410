"""survey/: building a study (one format, the tell check, the tutorial), its statistics (quality
checks, crossed bootstrap), the WSGI app and its store (one URL per item, stale forms, crowd
platforms, limits), the served study killed and restarted, bad study directories, and
participants in headless Chromium (Back, double tap, two tabs, a phone's screen)."""

import http.client
import io
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import types
import urllib.parse

import numpy as np
import pytest

from common.classes import UsageError
from reporting import browser
from survey import questions, study, survey_app, survey_stats, tells
from tests.conftest import ROOT
from tests.helpers import free_ports
from tests.script_runs import run_script, script_env

SURVEY_DIR = os.path.join(ROOT, "survey")
SCALES = ("q1", "q2", "q3", "q4", "q5")


# ------------------------------------------------------------------ a study from fake runs
def fake_run(root, name, n=30, size=28, channels=1, dataset="fashion-mnist", seed=0, look="like_real"):
    """A run whose samples look like fake_data's real images (uniform noise), or not."""
    run = root / name
    run.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    samples = rng.integers(0, 256, (n, size, size, channels)).astype(np.float32) / 255.0
    if look == "dark":
        samples *= 0.3
    elif look == "varied":  # from dark to as bright as the real images
        samples *= rng.uniform(0.2, 1.0, (n, 1, 1, 1)).astype(np.float32)
    elif look == "coloured":
        samples = np.concatenate([samples[..., :1], samples[..., :1] * 0.6, samples[..., :1] * 0.2], -1)
    np.savez(run / "samples.npz", samples=samples)
    (run / "metrics.json").write_text(json.dumps({"flags.dataset": dataset, "data_source": "made up"}))
    return str(run)


def fake_data(name, data_dir=None):
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(10), 30)
    return types.SimpleNamespace(
        test_x=rng.integers(0, 256, (300, 28, 28, 1), dtype=np.uint8), test_y=labels, source=f"fake {name}"
    )


def make(
    tmp_path, name="study", per_run=10, real=10, seed=3, runs=("A", "B"), look="like_real", n=30, **kwargs
):
    dirs = [
        study.read_run(fake_run(tmp_path / "runs" / name, r, n=n, seed=10 + i, look=look))
        for i, r in enumerate(runs)
    ]
    out = str(tmp_path / name)
    return out, study.build(dirs, out, per_run, real, seed, load=fake_data, **kwargs)


def test_image_selection_is_seeded_and_balanced(tmp_path):
    _, first = make(tmp_path, "one")
    _, second = make(tmp_path, "two")
    pick = lambda m: sorted((e["source"], e["index"]) for e in m["images"] + m["tutorial"])  # noqa: E731
    assert pick(first) == pick(second)  # same seed, same runs: the same images
    _, other = make(tmp_path, "three", seed=4)
    assert pick(other) != pick(first)
    counts = {s: sum(e["source"] == s for e in first["images"]) for s in first["sources"]}
    assert counts == {"A": 10, "B": 10, "real": 10}
    real_classes = [e["class"] for e in first["images"] if e["source"] == "real"]
    assert np.bincount(real_classes, minlength=10).tolist() == [1] * 10  # 10 real images, one per class
    assert sorted(e["source"] == "real" for e in first["tutorial"]) == [False, False, True, True]
    shown = {(e["source"], e["index"]) for e in first["images"]}
    assert not shown & {(e["source"], e["index"]) for e in first["tutorial"]}  # the tutorial is apart
    assert len(first["repeats"]) == 2 and set(first["repeats"]) <= {e["id"] for e in first["images"]}


def test_every_source_is_put_into_one_format_with_files_of_one_length(tmp_path):
    from PIL import Image

    out, manifest = make(tmp_path, look="coloured", accept_tells=True)  # RGB samples, grey real images
    names = os.listdir(os.path.join(out, "images"))
    assert len({os.path.getsize(os.path.join(out, "images", n)) for n in names}) == 1
    for n in names:
        with Image.open(os.path.join(out, "images", n)) as img:
            assert img.mode == "L" and img.size == (252, 252)
    assert manifest["format"]["channels"] == 1
    # The padding chunk changes no pixel.
    png = study.to_png(np.random.default_rng(0).random((28, 28, 1)))
    padded = tells.pad_png(png, len(png) + 100)
    assert len(padded) == len(png) + 100
    with Image.open(io.BytesIO(png)) as a, Image.open(io.BytesIO(padded)) as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_the_tell_check_refuses_a_study_that_low_level_statistics_tell_apart(tmp_path):
    with pytest.raises(UsageError, match=r"A vs real: AUC mean intensity alone 1\.00"):
        make(tmp_path, "dark", look="dark")
    assert not os.path.exists(tmp_path / "dark")  # nothing written
    _, manifest = make(tmp_path, "dark2", look="dark", accept_tells=True)
    assert manifest["tells_accepted"] and manifest["tells"]["sources"]["A"]["best"] == "mean intensity"
    _, clean = make(tmp_path, "clean")  # samples drawn like the real images: no tell
    assert not clean["tells"]["tells"] and all(
        e["max_auc"] < 0.75 for e in clean["tells"]["sources"].values()
    )
    assert tells.auc([3, 2, 1], [1, 0, 0]) == 1.0 and tells.auc([1, 1], [1, 0]) == 0.5


def test_the_tutorial_shows_the_least_telling_spare_images(tmp_path):
    out, manifest = make(tmp_path, look="varied", accept_tells=True)
    stats = {
        e["id"]: tells.features(open(os.path.join(out, "images", f"{e['id']}.png"), "rb").read())
        for e in manifest["images"] + manifest["tutorial"]
    }
    generated = [stats[e["id"]][0] for e in manifest["images"] if e["source"] != "real"]
    tutorial_generated = [stats[e["id"]][0] for e in manifest["tutorial"] if e["source"] != "real"]
    # The brightest of the darkened images (the closest to the real ones) are the examples.
    assert min(tutorial_generated) > np.median(generated)


def test_nothing_a_participant_receives_names_a_source(tmp_path):
    out, _ = make(tmp_path, runs=("CANrun", "BASErun"))
    names = os.listdir(os.path.join(out, "images"))
    assert all(re.fullmatch(r"[0-9a-f]{16}\.png", n) for n in names) and len(names) == 10 + 10 + 10 + 4
    app, _ = served(out)
    pid, csrf, tutorial = start_and_pass_tutorial(app)
    for _ in range(3):
        where, page = current(app, pid)
        for secret in ("CANrun", "BASErun", "real", "runs", ".npz", str(tmp_path), "manifest"):
            assert secret not in page, secret
        call(app, "POST", where, form=answer_form(csrf, image_of(page)))
    assert "CANrun" not in tutorial


def test_bad_study_directories_runs_and_files_are_one_line_errors(tmp_path):
    with pytest.raises(UsageError, match="not a directory"):
        study.load_manifest(str(tmp_path / "nowhere"))
    out, _ = make(tmp_path)
    (tmp_path / "study" / "manifest.json").write_text("{broken")
    with pytest.raises(UsageError, match="broken"):
        study.load_manifest(out)
    out2, manifest = make(tmp_path, "study2")
    old = dict(manifest, version=1)
    (tmp_path / "study2" / "manifest.json").write_text(json.dumps(old))
    with pytest.raises(UsageError, match="older make_study.py"):
        study.load_manifest(out2)
    (tmp_path / "study2" / "manifest.json").write_text(json.dumps(manifest))
    os.remove(os.path.join(out2, "images", manifest["images"][0]["id"] + ".png"))
    with pytest.raises(UsageError, match="missing"):
        study.load_manifest(out2)
    with pytest.raises(UsageError, match="no samples.npz"):
        study.read_run(str(tmp_path))
    truncated = tmp_path / "runs" / "study2" / "A" / "samples.npz"
    truncated.write_bytes(truncated.read_bytes()[:200])
    with pytest.raises(UsageError, match="unreadable"):
        study.read_run(str(truncated.parent))
    runs = [study.read_run(str(tmp_path / "runs" / "study2" / "B"))]
    with pytest.raises(UsageError, match="already holds a study"):
        study.build(runs, out2, 6, 8, 3, load=fake_data)
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "answers.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(UsageError, match="not a readable answers database"):
        survey_app.Store(str(garbage / "answers.sqlite"))
    (tmp_path / "q.json").write_text(json.dumps({"scales": [], "choice": {}}))
    with pytest.raises(UsageError, match="not a questions spec"):
        questions.load(str(tmp_path / "q.json"))
    study_dir = tmp_path / "study"
    (study_dir / "manifest.json").write_text(json.dumps(make(tmp_path, "study3")[1]))
    for name in os.listdir(tmp_path / "study3" / "images"):
        os.replace(tmp_path / "study3" / "images" / name, study_dir / "images" / name)
    (study_dir / "answers.sqlite").write_bytes(b"garbage" * 1000)
    for script, args in (
        ("serve.py", ["--study", str(tmp_path / "nowhere")]),
        ("serve.py", ["--study", str(study_dir), "--port", "0"]),  # its answers.sqlite is garbage
        ("analyze.py", ["--study", str(study_dir)]),
        ("make_study.py", ["--runs", str(tmp_path / "missing"), "--out", str(tmp_path / "x")]),
        ("make_study.py", ["--runs", str(truncated.parent), "--out", str(tmp_path / "x")]),
        ("make_study.py", ["--runs", "a", "--out", "b", "--questions", str(tmp_path / "q.json")]),
        ("serve.py", ["--study", str(study_dir), "--completion_url", "ftp://x"]),
    ):
        proc = subprocess.run(
            [sys.executable, script, *args], cwd=SURVEY_DIR, capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 2, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr


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


def test_the_crossed_bootstrap_accounts_for_images_as_well_as_participants():
    rng = np.random.default_rng(0)
    assert survey_stats.crossed_bootstrap(np.full((5, 4), 3.0), rng, 100) == (3.0, 3.0)
    # Images differ a lot, participants not at all: an interval over participants alone would be
    # a point; the crossed one is as wide as the images' spread says.
    images = rng.normal(3.0, 1.0, 20)
    matrix = np.tile(images, (30, 1))
    low, high = survey_stats.crossed_bootstrap(matrix, rng, 1000)
    se = images.std() / np.sqrt(len(images))
    assert low < images.mean() < high and 2.5 * se < high - low < 5.5 * se


def simulated(manifest, kinds, rng):
    """Answers of participants of the given kinds: 'attentive' (answers follow the image's source,
    the same both times, the instructed item followed), 'random' or 'straight'."""
    from survey.survey_app import draw_order

    source = {e["id"]: e["source"] for e in manifest["images"]}
    rates = {"A": 0.35, "B": 0.15, "real": 0.8}
    answers, participants = [], []
    for p, kind in enumerate(kinds):
        pid = f"p{p}"
        participants.append({"pid": pid})
        memory = {}
        for item, (image, what) in enumerate(draw_order(manifest, random.Random(p))):
            if kind == "random":
                row = {q: int(rng.integers(1, 6)) for q in SCALES}
                row["q6"] = str(rng.choice(["designer", "computer"]))
            elif kind == "straight":
                row = {**{q: 3 for q in SCALES}, "q6": "designer"}
            elif what == "instructed":
                row = {**{q: 4 for q in SCALES}, "q1": 2, "q6": "computer"}
            elif image in memory:
                row = dict(memory[image])
            else:
                row = {q: 2 + int(source[image] == "real") + int(rng.integers(0, 2)) for q in SCALES}
                row["q6"] = "designer" if rng.random() < rates[source[image]] else "computer"
                memory[image] = row
            answers.append({"pid": pid, "item": item, "image_id": image, "kind": what, **row})
    return participants, answers


def test_the_quality_checks_catch_random_clickers_and_straight_liners_not_attentive_people(tmp_path):
    _, manifest = make(tmp_path)
    rng = np.random.default_rng(5)
    kinds = ["attentive"] * 200 + ["random"] * 200 + ["straight"] * 20
    participants, answers = simulated(manifest, kinds, rng)
    excluded = survey_stats.exclusions(manifest, participants, answers)
    rate = lambda k: np.mean([f"p{i}" in excluded for i, x in enumerate(kinds) if x == k])  # noqa: E731
    assert rate("attentive") == 0.0 and rate("random") >= 0.9 and rate("straight") == 1.0
    assert all("straight-lining" in excluded[f"p{i}"] for i, k in enumerate(kinds) if k == "straight")


def test_analysis_recovers_known_rates_and_refuses_intervals_for_too_few_people(tmp_path):
    _, manifest = make(tmp_path, per_run=30, real=30, n=50)
    rng = np.random.default_rng(5)
    participants, answers = simulated(manifest, ["attentive"] * 60 + ["random"] * 10, rng)
    results = survey_stats.analyze(manifest, participants, answers, seed=0, resamples=300)
    assert results["participants"]["finished"] == 70 and results["participants"]["included"] >= 60
    for source, rate in {"A": 0.35, "B": 0.15, "real": 0.8}.items():
        entry = results["sources"][source]["real_rate"]
        assert entry["ci95"][0] - 0.03 < rate < entry["ci95"][1] + 0.03 and abs(entry["rate"] - rate) < 0.08
    assert (
        results["sources"]["real"]["questions"]["q1"]["mean"]
        > results["sources"]["A"]["questions"]["q1"]["mean"]
    )
    assert "| A |" in survey_stats.markdown(results)
    few = survey_stats.analyze(
        manifest, participants[:3], [a for a in answers if a["pid"] in ("p0", "p1", "p2")]
    )
    assert not few["enough"] and few["sources"]["A"]["real_rate"]["ci95"] is None
    text = survey_stats.markdown(few)
    assert "Too few participants for intervals" in text and "[" not in text.split("| source")[1]


# ------------------------------------------------------------------ the WSGI app, in process
def served(out, token="tok-en", **config):
    manifest = study.load_manifest(out)
    store = survey_app.Store(os.path.join(out, "answers.sqlite"))
    app = survey_app.SurveyApp(
        manifest,
        survey_app.load_images(out, manifest),
        store,
        token,
        flag_fn=survey_stats.exclusions,
        config=survey_app.AppConfig(**config),
    )
    return app, store


def call(app, method, path, form=None, body=None, query="", cookie="", address="10.0.0.1"):
    raw = body if body is not None else urllib.parse.urlencode(form or {}).encode()
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": io.BytesIO(raw),
        "HTTP_COOKIE": cookie,
        "REMOTE_ADDR": address,
    }
    captured = {}

    def start_response(status, headers):
        captured["status"], captured["headers"] = status, dict(headers)

    out = b"".join(app(environ, start_response))
    return captured["status"], captured["headers"], out


def csrf_of(page):
    return re.search(r"name='csrf' value='([^']+)'", page).group(1)


def image_of(page):
    return re.search(r"name='image' value='([0-9a-f]+)'", page).group(1)


def start_and_pass_tutorial(app, **kwargs):
    status, headers, _ = call(app, "POST", "/start", **kwargs)
    assert status.startswith("303"), status
    pid = headers["Location"].rsplit("/", 1)[1]
    page = call(app, "GET", f"/p/{pid}/tutorial")[2].decode()
    assert call(app, "POST", f"/p/{pid}/tutorial", form={"csrf": csrf_of(page)})[0].startswith("303")
    return pid, csrf_of(page), page


def current(app, pid):
    """(URL, page) of the participant's current step."""
    where = call(app, "GET", f"/p/{pid}")[1]["Location"]
    return where, call(app, "GET", where)[2].decode()


def answer_form(csrf, image, **over):
    form = {
        "csrf": csrf,
        "image": image,
        "q1": "4",
        "q2": "3",
        "q3": "2",
        "q4": "5",
        "q5": "1",
        "q6": "designer",
    }
    form.update(over)
    return {k: v for k, v in form.items() if v is not None}


def test_one_url_per_item_and_a_stale_form_never_stores_an_answer_for_another_image(tmp_path):
    out, manifest = make(tmp_path)
    app, store = served(out)
    status, _, consent = call(app, "GET", "/")
    assert status.startswith("200") and b"I agree" in consent
    status, headers, _ = call(app, "POST", "/start")
    pid = headers["Location"].rsplit("/", 1)[1]
    assert "survey_pid=" in headers["Set-Cookie"] and "HttpOnly" in headers["Set-Cookie"]
    assert call(app, "GET", f"/p/{pid}")[1]["Location"] == f"/p/{pid}/tutorial"
    assert call(app, "GET", f"/p/{pid}/item/0")[1]["Location"] == f"/p/{pid}/tutorial"  # examples first
    tutorial = call(app, "GET", f"/p/{pid}/tutorial")[2].decode()
    assert "Four examples" in tutorial and tutorial.count("<img") == 4
    csrf = csrf_of(tutorial)
    call(app, "POST", f"/p/{pid}/tutorial", form={"csrf": csrf})
    where, page = current(app, pid)
    assert where == f"/p/{pid}/item/0" and "Image 1 of 33" in page and "autocomplete='off'" in page
    first = image_of(page)
    bad = [
        (answer_form(csrf, first, q3="6"), "400"),
        (answer_form(csrf, first, q1="0"), "400"),
        (answer_form(csrf, first, q2="x"), "400"),
        (answer_form(csrf, first, q6="maybe"), "400"),
        (answer_form(csrf, first, q5=None), "400"),
        (answer_form(csrf, "f" * 16), "400"),  # not this item's image
        (answer_form(None, first), "403"),  # no CSRF token
        (answer_form("forged", first), "403"),
    ]
    for form, expected in bad:
        status, headers, body = call(app, "POST", where, form=form)
        assert status.startswith(expected), (form, status)
        assert b"<h1>" in body and b"Continue" in body  # a readable page with the way on
    oversized = urllib.parse.urlencode(answer_form(csrf, first, pad="x" * 5000)).encode()
    assert call(app, "POST", where, body=oversized)[0].startswith("413")
    assert call(app, "POST", "/p/unknown-participant-id-000/item/0", form=answer_form(csrf, first))[
        0
    ].startswith("404")
    assert call(app, "POST", f"/p/{pid}/item/1", form=answer_form(csrf, first))[1]["Location"].endswith(
        "item/0?note=ahead"
    )
    assert len(store.rows()[1]) == 0  # nothing stored by any of them
    # The answer, then the same form again (a double tap, Back + Next, a second tab): 303 to the
    # current item with a note, nothing stored for another image.
    assert call(app, "POST", where, form=answer_form(csrf, first))[1]["Location"] == f"/p/{pid}/item/1"
    status, headers, _ = call(app, "POST", where, form=answer_form(csrf, first, q1="1"))
    assert status.startswith("303") and headers["Location"] == f"/p/{pid}/item/1?note=answered"
    status, _, page = call(app, "GET", f"/p/{pid}/item/1", query="note=answered")
    assert b"answered that image already" in page and image_of(page.decode()) != first
    assert call(app, "GET", where)[1]["Location"] == f"/p/{pid}/item/1?note=answered"  # Back
    rows = store.rows()[1]
    assert [(r["item"], r["image_id"], r["q1"]) for r in rows] == [(0, first, 4)]
    # No path a request names reaches the file system.
    for path in ("/img/../manifest.json", "/img/..%2fmanifest.json", "/img/manifest.png", "/answers.sqlite"):
        assert call(app, "GET", path)[0].startswith("404")
    # Answer the rest: repeats and the instructed item come, the completion code ends it.
    kinds = []
    while True:
        where, page = current(app, pid)
        if where.endswith("/done"):
            break
        kinds.append("instructed" if "id='instructed'" in page else "other")
        assert call(app, "POST", where, form=answer_form(csrf, image_of(page)))[0].startswith("303")
    assert "completion-code" in page and len(store.rows()[1]) == len(manifest["images"]) + 3
    assert kinds.count("instructed") == 1
    # HEAD, 405 with Allow, the researcher's page (plurals) and export (token).
    status, headers, body = call(app, "HEAD", "/")
    assert status.startswith("200") and body == b"" and int(headers["Content-Length"]) > 100
    status, headers, _ = call(app, "DELETE", f"/p/{pid}/item/0")
    assert status.startswith("405") and headers["Allow"] == "GET, HEAD, POST"
    assert call(app, "GET", "/researcher")[0].startswith("403")
    assert call(app, "GET", "/researcher/answers.csv", query="token=wrong")[0].startswith("403")
    status, _, page = call(app, "GET", "/researcher", query="token=tok-en")
    assert status.startswith("200") and b"1 participant started, 1 finished" in page
    status, headers, csv_body = call(app, "GET", "/researcher/answers.csv", query="token=tok-en")
    lines = csv_body.decode().splitlines()
    assert len(lines) == len(manifest["images"]) + 4 and "attachment" in headers["Content-Disposition"]
    assert lines[0].startswith("participant,external_id,item,image_id,kind,source,q1")


def test_crowd_platform_ids_cookies_completion_links_and_a_rate_limit(tmp_path):
    out, _ = make(tmp_path)
    url = "https://app.prolific.com/submissions/complete?cc={code}&p={id}"
    app, store = served(out, completion_url=url, new_per_hour=3)
    status, _, consent = call(app, "GET", "/", query="PROLIFIC_PID=abc123&STUDY_ID=s&SESSION_ID=x")
    assert b"name='external_id' value='abc123'" in consent
    assert call(app, "GET", "/", query="workerId=%3Cscript%3E")[0].startswith("400")
    pid, csrf, _ = start_and_pass_tutorial(app, form={"external_id": "abc123"})
    again = call(app, "POST", "/start", form={"external_id": "abc123"})[1]["Location"]
    assert again == f"/p/{pid}"  # one participant, one completion code per platform id
    cookie = f"survey_pid={pid}"
    assert call(app, "GET", "/", cookie=cookie)[1]["Location"] == f"/p/{pid}"  # a returning browser
    while True:
        where, page = current(app, pid)
        if where.endswith("/done"):
            break
        call(app, "POST", where, form=answer_form(csrf, image_of(page)))
    code = re.search(r"id='completion-code'>([0-9A-F]{8})<", page).group(1)
    assert f"https://app.prolific.com/submissions/complete?cc={code}&amp;p=abc123" in page
    assert "http-equiv='refresh'" in page
    # New participants per address are limited; other addresses and known ids are not.
    for _ in range(2):
        assert call(app, "POST", "/start")[0].startswith("303")
    status, headers, body = call(app, "POST", "/start")
    assert status.startswith("429") and headers["Retry-After"] and b"try again later" in body
    assert call(app, "POST", "/start", address="10.0.0.2")[0].startswith("303")
    assert call(app, "POST", "/start", form={"external_id": "abc123"})[0].startswith("303")
    assert len(store.rows()[0]) == 4


def test_a_study_with_its_own_questions_and_consent(tmp_path):
    spec = {
        "scales": [
            {"id": "beauty", "text": "How beautiful?", "low": "ugly", "high": "beautiful", "points": 7},
            {"id": "surprise", "text": "How surprising?", "low": "not", "high": "very"},
        ],
        "choice": {"id": "who", "text": "Who made it?", "options": ["a person", "a machine", "unsure"],
                   "real": "a person"},
    }  # fmt: skip
    (tmp_path / "consent.txt").write_text("Our consent, {items} images.\n\nSecond paragraph.")
    out, manifest = make(
        tmp_path,
        questions=questions.check(spec),
        consent=questions.load_consent(str(tmp_path / "consent.txt")),
    )
    app, store = served(out)
    consent = call(app, "GET", "/")[2].decode()
    assert "Our consent, 33 images." in consent and consent.count("<p>") == 2
    pid, csrf, _ = start_and_pass_tutorial(app)
    where, page = current(app, pid)
    assert page.count("name='beauty'") == 7 and page.count("name='who'") == 3
    form = {"csrf": csrf, "image": image_of(page), "beauty": "7", "surprise": "2", "who": "unsure"}
    assert call(app, "POST", where, form=dict(form, beauty="8"))[0].startswith("400")
    assert call(app, "POST", where, form=form)[0].startswith("303")
    participants, answers = store.rows()
    assert answers[0]["beauty"] == 7 and answers[0]["who"] == "unsure"
    results = survey_stats.analyze(manifest, participants, answers, resamples=50)
    assert "beauty" in results["sources"]["A"]["questions"] and "BEAUTY" in survey_stats.markdown(results)


# ------------------------------------------------------------------ served by waitress
def serve(out, port, token="tok-en", *extra):
    proc = subprocess.Popen(
        [sys.executable, "serve.py", "--study", out, "--port", str(port), "--token", token, *extra],
        cwd=SURVEY_DIR,
        stdout=subprocess.PIPE,
        stderr=open(os.path.join(out, "server.log"), "a"),  # a pipe nobody reads would block the server
        text=True,
        env=dict(os.environ, PYTHONPATH=ROOT),
    )
    line = proc.stdout.readline()
    assert line.startswith("participants: http://127.0.0.1:"), line
    return proc


def request(port, method, path, form=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    body = urllib.parse.urlencode(form).encode() if form is not None else None
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, response.getheader("Location"), data.decode(errors="replace")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One study served by serve.py for the browser and limit tests."""
    out, manifest = make(tmp_path_factory.mktemp("served"))
    (port,) = free_ports(1)
    proc = serve(out, port, "tok-en", "--new_per_hour", "1000", "--channel_timeout", "5")
    yield types.SimpleNamespace(out=out, port=port, manifest=manifest, url=f"http://127.0.0.1:{port}")
    proc.terminate()
    proc.wait(10)


def test_a_killed_server_loses_no_acknowledged_answer_and_participants_continue(tmp_path):
    out, _ = make(tmp_path)
    (port,) = free_ports(1)
    proc = serve(out, port)
    try:
        _, location, _ = request(port, "POST", "/start")
        _, tutorial, _ = request(port, "GET", location)
        _, _, page = request(port, "GET", tutorial)
        csrf = csrf_of(page)
        request(port, "POST", tutorial, {"csrf": csrf})
        for _ in range(3):
            _, where, _ = request(port, "GET", location)
            _, _, page = request(port, "GET", where)
            assert request(port, "POST", where, answer_form(csrf, image_of(page)))[0] == 303
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    with sqlite3.connect(os.path.join(out, "answers.sqlite")) as db:
        assert db.execute("SELECT COUNT(*) FROM answers").fetchone()[0] == 3
    proc = serve(out, port)
    try:
        _, where, _ = request(port, "GET", location)
        assert where.endswith("/item/3") and "Image 4 of" in request(port, "GET", where)[2]
    finally:
        proc.terminate()
        proc.wait(10)


def test_idle_sockets_do_not_lock_a_participant_out_and_big_bodies_are_refused_unread(server):
    idle = []
    try:
        for _ in range(100):  # each holds half a request line, as a slow client would
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            s.sendall(b"GET / HT")
            idle.append(s)
        started = time.perf_counter()
        status, _, page = request(server.port, "GET", "/", timeout=5)
        assert status == 200 and "I agree" in page and time.perf_counter() - started < 5
    finally:
        for s in idle:
            s.close()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(
            b"POST /start HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 209715200\r\n\r\n"
        )  # 200 MiB announced, none sent: the answer comes from the headers alone
        assert s.recv(200).startswith(b"HTTP/1.1 413")


# ------------------------------------------------------------------ participants in Chromium
def with_chromium(width, height):
    try:
        driver = browser.chromium(width, height)
    except browser.NoBrowser as missing:
        pytest.skip(str(missing))
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True},
    )
    return driver


def wait_for_page(driver, old):
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def gone(_):
        try:
            old.is_enabled()
            return False
        except WebDriverException:  # stale, or Chromium's "node does not belong to the document"
            return True

    WebDriverWait(driver, 20).until(gone)
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")


def submit(driver):
    from selenium.webdriver.common.by import By

    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for_page(driver, page)


def fill(driver, value):
    """Answers every question of the page on screen; returns the image id it was shown."""
    from selenium.webdriver.common.by import By

    for q in SCALES:
        driver.find_element(By.CSS_SELECTOR, f"input[name={q}][value='{value}']").click()
    driver.find_element(By.CSS_SELECTOR, "input[name=q6][value=computer]").click()
    return driver.find_element(By.CSS_SELECTOR, "input[name=image]").get_attribute("value")


def begin(driver, url):
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(url + "/")
    submit(driver)  # consent
    pid = driver.current_url.split("/p/")[1].split("/")[0]
    assert driver.find_elements(By.TAG_NAME, "figure")
    submit(driver)  # tutorial
    return pid


def stored(out, pid):
    with sqlite3.connect(os.path.join(out, "answers.sqlite")) as db:
        return db.execute(
            "SELECT item, image_id, response FROM answers WHERE pid = ? ORDER BY item", (pid,)
        ).fetchall()


def test_back_double_tap_and_two_tabs_store_each_answer_for_the_image_on_screen(server):
    from selenium.webdriver.support.ui import WebDriverWait

    driver = with_chromium(390, 844)
    try:
        pid = begin(driver, server.url)
        on_screen = {}  # item -> the image shown when its Next was pressed
        on_screen[0] = fill(driver, 4)
        submit(driver)
        driver.back()  # Back: the answered image's URL now shows the current item, nothing pre-filled
        WebDriverWait(driver, 20).until(lambda d: "item/1" in d.current_url)
        assert driver.execute_script("return document.querySelectorAll('input:checked').length") == 0
        assert "answered that image already" in driver.page_source
        on_screen[1] = fill(driver, 2)
        submit(driver)
        # A double tap: the same form posted twice at once.
        on_screen[2] = fill(driver, 5)
        driver.execute_script(
            "const f = document.forms[0];"
            "fetch(f.action, {method: 'POST', body: new URLSearchParams(new FormData(f))});"
            "f.submit();"
        )
        WebDriverWait(driver, 20).until(lambda d: "item/3" in d.current_url)
        assert "Sorry" not in driver.title
        # Two tabs on the same item: the first answers it, the second's Next stores nothing.
        driver.switch_to.new_window("tab")
        driver.get(f"{server.url}/p/{pid}")
        second = driver.current_window_handle
        first = driver.window_handles[0]
        fill(driver, 1)
        driver.switch_to.window(first)
        on_screen[3] = fill(driver, 3)
        submit(driver)
        driver.switch_to.window(second)
        submit(driver)
        assert "answered that image already" in driver.page_source and "item/4" in driver.current_url
    finally:
        driver.quit()
    rows = stored(server.out, pid)
    assert [(item, image) for item, image, _ in rows] == sorted(on_screen.items())
    assert [json.loads(r)["q1"] for _, _, r in rows] == [4, 2, 5, 3]


@pytest.mark.parametrize("width, height", [(390, 844), (320, 568)])
def test_on_a_phone_the_image_stays_in_view_while_every_question_is_answered(server, width, height):
    driver = with_chromium(width, height)
    try:
        begin(driver, server.url)
        for element in ("#next", "input[name=q1]", "input[name=q6]"):
            rects = driver.execute_script(
                f"document.querySelector('{element}').scrollIntoView({{block: 'end'}});"
                "const i = document.querySelector('img.study').getBoundingClientRect();"
                f"const b = document.querySelector('{element}').getBoundingClientRect();"
                "return [i.top, i.bottom, i.height, b.top, b.bottom, window.innerHeight];"
            )
            top, bottom, image_height, b_top, b_bottom, view = rects
            assert top >= -1 and bottom <= view + 1 and image_height >= 120, (element, rects)
            assert b_bottom <= view + 1 and b_top >= bottom - 1, (element, rects)  # not under the image
    finally:
        driver.quit()


def tiny_can_runs(root):
    """Two real runs of ours, CAN and its baseline, a few iterations each on the stand-in data."""
    runs = []
    for name, extra in (("CAN", []), ("baseline", ["--baseline"])):
        out = str(root / name)
        proc = run_script(
            os.path.join(ROOT, "can"), "train.py", script_env(),
            "--genres", "7", "--iterations", "4", "--batch_size", "8", "--image_size", "32",
            "--sample_every", "2", "--num_samples", "16", "--nojudge", "--out_dir", out, *extra,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        runs.append(out)
    return runs


def test_a_study_of_can_against_its_baseline_is_completed_in_chromium(tmp_path):
    runs = tiny_can_runs(tmp_path / "runs")
    out = str(tmp_path / "study")
    proc = subprocess.run(
        [sys.executable, "make_study.py", "--runs", ",".join(runs), "--labels", "CAN,baseline",
         "--per_run", "3", "--real", "3", "--out", out],
        cwd=SURVEY_DIR, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "tell check" in proc.stdout
    manifest = study.load_manifest(out)
    assert manifest["format"]["channels"] == 1  # the CAN stand-in's RGB output, grey like the real images
    driver = with_chromium(420, 900)
    (port,) = free_ports(1)
    server_proc = serve(out, port)
    try:
        from selenium.webdriver.common.by import By

        begin(driver, f"http://127.0.0.1:{port}")
        total = len(manifest["images"]) + len(manifest["repeats"]) + 1
        for index in range(total):
            assert driver.find_element(By.ID, "progress").text == f"Image {index + 1} of {total}"
            assert all(w > 0 for _, w in browser.load_all_images(driver))
            # A consistent participant: answers depend on the image, so a repeat gets the same ones.
            image = driver.find_element(By.CSS_SELECTOR, "input[name=image]").get_attribute("value")
            value = 1 + int(image, 16) % 5
            if driver.find_elements(By.ID, "instructed"):
                value = 2
            fill(driver, value)
            submit(driver)
        assert re.fullmatch(r"[0-9A-F]{8}", driver.find_element(By.ID, "completion-code").text)
    finally:
        driver.quit()
        server_proc.terminate()
        server_proc.wait(10)
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
    assert results["participants"]["included"] == 1 and not results["enough"]
    assert (
        "Too few participants" in proc.stdout and (tmp_path / "study" / "results.png").stat().st_size > 10_000
    )
