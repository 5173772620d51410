"""Load test of the survey server (`survey/serve.py`, waitress on 127.0.0.1): simulated
participants answer a whole study at once; every answer acknowledged must be stored exactly once.

    python -m benchmarks.bench_survey      # make bench-survey (~2 min)

The study is CAN against its baseline from `make report`'s runs (report/runs/can/seed0 and
report/runs/can_baseline/seed0; --runs for others). Each participant: start, the tutorial, then
every item (page, answer), and one replay of an answer already given (which must be refused).
Reports answers acknowledged vs stored, duplicates, replays refused, p50/p95 latency and the
machine's load; writes benchmarks/results/bench_survey.{json,md} and BENCHMARKS.md, and the README's
survey figures: the question page (headless Chromium) and the analysis of these SIMULATED answers.
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.parse

from benchmarks import bench_common
from tests.helpers import free_ports

ROOT = bench_common.ROOT
SURVEY_DIR = os.path.join(ROOT, "survey")
SIMULATED = "SIMULATED answers from the load test (bench_survey.py), not people"


def request(port, method, path, form=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = urllib.parse.urlencode(form).encode() if form is not None else None
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
    start = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read().decode(errors="replace")
    elapsed = time.perf_counter() - start
    conn.close()
    return response.status, response.getheader("Location"), data, elapsed


def participant(port, number, careless):
    """One simulated participant's whole study; returns its counts and latencies."""
    rng = random.Random(number)
    out = {"acknowledged": 0, "refused_replays": 0, "errors": [], "answer_s": [], "page_s": []}
    status, location, _, _ = request(port, "POST", "/start")
    _, _, page, seconds = request(port, "GET", location)
    out["page_s"].append(seconds)
    csrf = re.search(r"name='csrf' value='([^']+)'", page).group(1)
    request(port, "POST", location + "/tutorial", {"csrf": csrf})
    last = None
    rates = {}  # a consistent participant answers an image the same way both times it is shown
    while True:
        _, _, page, seconds = request(port, "GET", location)
        out["page_s"].append(seconds)
        item = re.search(r"name='item' value='(\d+)'", page)
        if item is None:
            out["code"] = re.search(r"id='completion-code'>([0-9A-F]+)<", page).group(1)
            break
        image = re.search(r"name='image' value='([0-9a-f]+)'", page).group(1)
        if careless or image not in rates:
            rates[image] = {q: str(rng.randint(1, 5)) for q in ("q1", "q2", "q3", "q4", "q5")}
            rates[image]["q6"] = rng.choice(["designer", "computer"])
        form = {"csrf": csrf, "item": item.group(1), "image": image, **rates[image]}
        status, _, _, seconds = request(port, "POST", location + "/answer", form)
        out["answer_s"].append(seconds)
        if status == 303:
            out["acknowledged"] += 1
        else:
            out["errors"].append(status)
        if int(item.group(1)) == 4:  # replay the answer just given: must be refused, store nothing
            status, _, _, _ = request(port, "POST", location + "/answer", form)
            out["refused_replays"] += status == 409
        last = form
    out["last"] = last
    return out


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def run(args):
    runs = [os.path.abspath(r) for r in args.runs.split(",")]
    for run_dir in runs:
        if not os.path.exists(os.path.join(run_dir, "samples.npz")):
            sys.exit(f"bench_survey: {run_dir} has no samples.npz; run `make report` first (or give --runs)")
    study_dir = os.path.join(args.work_dir, "study")
    shutil.rmtree(args.work_dir, ignore_errors=True)
    os.makedirs(args.work_dir)
    env = dict(os.environ, PYTHONPATH=ROOT)
    subprocess.run(
        [sys.executable, "make_study.py", "--runs", ",".join(runs), "--labels", args.labels,
         "--per_run", str(args.per_run), "--real", str(args.real), "--out", study_dir],
        cwd=SURVEY_DIR, env=env, check=True,
    )  # fmt: skip
    (port,) = free_ports(1)
    server = subprocess.Popen(
        [sys.executable, "serve.py", "--study", study_dir, "--port", str(port),
         "--threads", str(args.threads), "--token", "bench"],
        cwd=SURVEY_DIR, env=env, stdout=subprocess.PIPE, text=True,
        stderr=open(os.path.join(args.work_dir, "server.log"), "w"),  # waitress's queue warnings: not a pipe
    )  # fmt: skip
    server.stdout.readline()
    load = [os.getloadavg()[0]]
    started = time.perf_counter()
    try:
        careless = set(range(0, args.participants, 10))  # one in ten answers at random
        with concurrent.futures.ThreadPoolExecutor(args.participants) as pool:
            results = list(pool.map(lambda n: participant(port, n, n in careless), range(args.participants)))
        wall = time.perf_counter() - started
        load.append(os.getloadavg()[0])
        screenshot(port, args.work_dir)
    finally:
        server.terminate()
        server.wait(10)
    with sqlite3.connect(os.path.join(study_dir, "answers.sqlite")) as db:
        stored = db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
        with open(os.path.join(study_dir, "manifest.json")) as f:
            repeat = json.load(f)["attention_repeat"]
        duplicates = db.execute(
            "SELECT COALESCE(SUM(n - CASE WHEN image_id = ? THEN 2 ELSE 1 END), 0) FROM "
            "(SELECT image_id, COUNT(*) AS n FROM answers GROUP BY pid, image_id HAVING n > "
            "CASE WHEN image_id = ? THEN 2 ELSE 1 END)",
            (repeat, repeat),
        ).fetchone()[0]
    subprocess.run(
        [sys.executable, "analyze.py", "--study", study_dir, "--note", SIMULATED],
        cwd=SURVEY_DIR, env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    bench_common.copy_figure(os.path.join(study_dir, "results.png"), "survey_results_simulated.png")
    answers = [s for r in results for s in r["answer_s"]]
    pages = [s for r in results for s in r["page_s"]]
    return {
        "participants": args.participants,
        "items_per_participant": args.per_run * len(runs) + args.real + 1,
        "server_threads": args.threads,
        "acknowledged": sum(r["acknowledged"] for r in results),
        "stored": stored,
        "duplicates": duplicates,
        "replays_sent": args.participants,
        "replays_refused": sum(r["refused_replays"] for r in results),
        "errors": sum(len(r["errors"]) for r in results),
        "completed": sum("code" in r for r in results),
        "answer_p50_ms": 1000 * percentile(answers, 0.5),
        "answer_p95_ms": 1000 * percentile(answers, 0.95),
        "page_p50_ms": 1000 * percentile(pages, 0.5),
        "page_p95_ms": 1000 * percentile(pages, 0.95),
        "wall_seconds": round(wall, 1),
        "answers_per_second": round(sum(r["acknowledged"] for r in results) / wall, 1),
        "load_average": [round(x, 2) for x in load],
        "cores": os.cpu_count(),
    }


def screenshot(port, work_dir):
    """The question page a participant sees, in headless Chromium at a phone's width (into
    docs/figures with --write_docs, else into the work directory)."""
    from reporting import browser

    try:
        driver = browser.chromium(480, 1100)
    except browser.NoBrowser as missing:
        print(f"bench_survey: no screenshot ({missing})")
        return
    try:
        from selenium.webdriver.common.by import By

        driver.get(f"http://127.0.0.1:{port}/")
        driver.find_element(By.CSS_SELECTOR, "form[action='/start'] button").click()
        time.sleep(0.5)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        time.sleep(0.5)
        browser.load_all_images(driver)
        folder = bench_common.FIGURES if bench_common.WRITE_DOCS else work_dir
        driver.save_screenshot(os.path.join(folder, "survey_question.png"))
    finally:
        driver.quit()


def markdown(row):
    return "\n".join(
        [
            f"{row['participants']} simulated participants at once, each answering the whole study "
            f"({row['items_per_participant']} images incl. the attention repeat) and replaying one answer; "
            f"`survey/serve.py` (waitress, {row['server_threads']} threads) and the participants on the same "
            f"{row['cores']}-core machine, load average {row['load_average'][0]:.1f} before / "
            f"{row['load_average'][1]:.1f} after.",
            "",
            "| answers acknowledged | stored | duplicates | replays refused | other errors | participants "
            "finished | answer p50 / p95 (ms) | page p50 / p95 (ms) | answers/s | wall (s) |",
            "|---|---|---|---|---|---|---|---|---|---|",
            f"| {row['acknowledged']} | {row['stored']} | {row['duplicates']} | "
            f"{row['replays_refused']}/{row['replays_sent']} | {row['errors']} | {row['completed']} | "
            f"{row['answer_p50_ms']:.0f} / {row['answer_p95_ms']:.0f} | {row['page_p50_ms']:.0f} / "
            f"{row['page_p95_ms']:.0f} | {row['answers_per_second']} | {row['wall_seconds']} |",
            "",
        ]
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    runs = os.path.join(ROOT, "report", "runs")
    parser.add_argument(
        "--runs",
        default=f"{runs}/can/seed0,{runs}/can_baseline/seed0",
        help="comma list of run directories the study is built from",
    )
    parser.add_argument("--labels", default="CAN,baseline", help="their names in the results")
    parser.add_argument("--participants", type=int, default=50, help="simulated participants at once")
    parser.add_argument("--per_run", type=int, default=40, help="images per run")
    parser.add_argument("--real", type=int, default=40, help="real images")
    parser.add_argument("--threads", type=int, default=8, help="server threads")
    parser.add_argument(
        "--work_dir", default=os.path.join(ROOT, "runs", "bench_survey"), help="scratch output"
    )
    args = bench_common.parse_args(parser, "bench_survey")
    row = run(args)
    from common import files

    folder = bench_common.RESULTS if bench_common.WRITE_DOCS else bench_common.SCRATCH
    files.write_json(os.path.join(folder, "bench_survey.json"), row)
    bench_common.publish("bench_survey.md", markdown(row))


if __name__ == "__main__":
    main()
