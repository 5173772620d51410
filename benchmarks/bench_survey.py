"""Load test of the survey server (`survey/serve.py`, waitress on 127.0.0.1): simulated
participants answer a whole study at once; every answer acknowledged must be stored exactly once.

    python -m benchmarks.bench_survey      # make bench-survey (~2 min)

The study is CAN against its baseline from `make report`'s runs (report/runs/can/seed100 and
report/runs/can_baseline/seed100; --runs for others). Each participant: start, the tutorial, then
every item at its own URL (page, answer), and one stale form sent again (which must store nothing).
The server is killed with SIGKILL mid-study (--kill_at) and restarted; participants reload. Reports
answers acknowledged vs stored, answers stored for another image than the one on screen
(misattributed), p50/p95 latency and the machine's load; writes
benchmarks/results/bench_survey.{json,md} and BENCHMARKS.md, and the README's survey figures:
the question page (headless Chromium) and the analysis of these SIMULATED answers.
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import random
import re
import shutil
import signal
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


def request(port, method, path, form=None, retry_for=0.0):
    """(status, Location, body, seconds); with retry_for, connection failures (the server being
    restarted) are retried for that many seconds and the wait counts in the latency."""
    body = urllib.parse.urlencode(form).encode() if form is not None else None
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
    start = time.perf_counter()
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read().decode(errors="replace")
            conn.close()
            return response.status, response.getheader("Location"), data, time.perf_counter() - start
        except (ConnectionError, http.client.HTTPException, OSError):
            if time.perf_counter() - start > retry_for:
                raise
            time.sleep(0.2)


def participant(port, number, careless, log):
    """One simulated participant's whole study through a server that may be killed and restarted
    under it; every answer the server acknowledged goes into log as (pid, item, image on screen).
    Returns its counts and latencies."""
    rng = random.Random(number)
    wait = 120.0  # a restart takes a few seconds; a participant waits and reloads
    out = {"acknowledged": 0, "stale_sent": 0, "stale_stored_nothing": 0, "lost_posts": 0, "errors": [],
           "answer_s": [], "page_s": []}  # fmt: skip
    _, location, _, _ = request(port, "POST", "/start", {}, retry_for=wait)
    pid = location.rsplit("/", 1)[1]
    _, where, _, _ = request(port, "GET", location, retry_for=wait)
    _, _, page, _ = request(port, "GET", where, retry_for=wait)
    csrf = re.search(r"name='csrf' value='([^']+)'", page).group(1)
    request(port, "POST", where, {"csrf": csrf}, retry_for=wait)
    rates = {}  # a consistent participant answers an image the same way both times it is shown
    while True:
        _, where, _, _ = request(port, "GET", location, retry_for=wait)
        if where.endswith("/done"):
            _, _, page, seconds = request(port, "GET", where, retry_for=wait)
            out["page_s"].append(seconds)
            out["code"] = re.search(r"id='completion-code'>([0-9A-F]+)<", page).group(1)
            break
        _, _, page, seconds = request(port, "GET", where, retry_for=wait)
        out["page_s"].append(seconds)
        item = int(where.rsplit("/", 1)[1])
        image = re.search(r"name='image' value='([0-9a-f]+)'", page).group(1)
        instructed = "id='instructed'" in page
        if careless or image not in rates:
            rates[image] = {q: str(rng.randint(1, 5)) for q in ("q1", "q2", "q3", "q4", "q5")}
            rates[image]["q6"] = rng.choice(["designer", "computer"])
        form = {"csrf": csrf, "image": image, **rates[image]}
        if instructed and not careless:
            form.update(q1="2", q6="computer")
        try:
            status, target, _, seconds = request(port, "POST", where, form)
        except (ConnectionError, http.client.HTTPException, OSError):
            out["lost_posts"] += 1  # the server died under it: unacknowledged; the page is reloaded
            continue
        out["answer_s"].append(seconds)
        if status == 303 and target.endswith((f"/item/{item + 1}", "/done")):
            out["acknowledged"] += 1
            log.append((pid, item, image))
        elif status == 303 and "note=answered" in target:
            pass  # answered before the server died, acknowledgement lost: stored once
        else:
            out["errors"].append(status)
        if item == 4:  # the same form again (Back + Next, a double tap): must store nothing
            status, target, _, _ = request(port, "POST", where, dict(form, q1="1"), retry_for=wait)
            out["stale_sent"] += 1
            out["stale_stored_nothing"] += status == 303 and "note=answered" in (target or "")
    return out


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


def start_server(study_dir, port, threads, work_dir, env):
    proc = subprocess.Popen(
        [sys.executable, "serve.py", "--study", study_dir, "--port", str(port),
         "--threads", str(threads), "--token", "bench", "--new_per_hour", "100000"],
        cwd=SURVEY_DIR, env=env, stdout=subprocess.PIPE, text=True,
        stderr=open(os.path.join(work_dir, "server.log"), "a"),  # waitress's queue warnings: not a pipe
    )  # fmt: skip
    proc.stdout.readline()
    return proc


def run(args):
    runs = [os.path.abspath(r) for r in args.runs.split(",")]
    for run_dir in runs:
        if not os.path.exists(os.path.join(run_dir, "samples.npz")):
            sys.exit(f"bench_survey: {run_dir} has no samples.npz; run `make report` first (or give --runs)")
    study_dir = os.path.join(args.work_dir, "study")
    shutil.rmtree(args.work_dir, ignore_errors=True)
    os.makedirs(args.work_dir)
    env = bench_common.this_checkout(dict(os.environ))
    made = subprocess.run(
        [sys.executable, "make_study.py", "--runs", ",".join(runs), "--labels", args.labels,
         "--per_run", str(args.per_run), "--real", str(args.real), "--out", study_dir, "--accept_tells"],
        cwd=SURVEY_DIR, env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    (port,) = free_ports(1)
    server = start_server(study_dir, port, args.threads, args.work_dir, env)
    load = [os.getloadavg()[0]]
    started = time.perf_counter()
    log, kills = [], 0
    try:
        careless = set(range(0, args.participants, 10))  # one in ten answers at random
        with concurrent.futures.ThreadPoolExecutor(args.participants) as pool:
            futures = [
                pool.submit(participant, port, n, n in careless, log) for n in range(args.participants)
            ]
            for at in args.kill_at:  # kill -9 the server once this many answers were acknowledged
                while len(log) < at and not all(f.done() for f in futures):
                    time.sleep(0.05)
                server.send_signal(signal.SIGKILL)
                server.wait(10)
                kills += 1
                server = start_server(study_dir, port, args.threads, args.work_dir, env)
            results = [f.result() for f in futures]
        wall = time.perf_counter() - started
        load.append(os.getloadavg()[0])
        screenshot(port, args.work_dir)
    finally:
        server.terminate()
        server.wait(10)
    with sqlite3.connect(os.path.join(study_dir, "answers.sqlite")) as db:
        rows = db.execute("SELECT pid, item, image_id FROM answers").fetchall()
        order = {pid: json.loads(o) for pid, o in db.execute("SELECT pid, item_order FROM participants")}
    stored = {(pid, item): image for pid, item, image in rows}
    acknowledged_missing = sum((pid, item) not in stored for pid, item, _ in log)
    misattributed = sum(stored.get((pid, item)) not in (None, image) for pid, item, image in log)
    wrong_image = sum(image != order[pid][item][0] for pid, item, image in rows)
    subprocess.run(
        [sys.executable, "analyze.py", "--study", study_dir, "--note", SIMULATED],
        cwd=SURVEY_DIR, env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    bench_common.copy_figure(os.path.join(study_dir, "results.png"), "survey_results_simulated.png")
    with open(os.path.join(study_dir, "results.json")) as f:
        analysis = json.load(f)
    answers = [s for r in results for s in r["answer_s"]]
    pages = [s for r in results for s in r["page_s"]]
    return {
        "participants": args.participants,
        "items_per_participant": len(next(iter(order.values()))),
        "server_threads": args.threads,
        "server_kills": kills,
        "acknowledged": len(log),
        "stored": len(rows),
        "acknowledged_not_stored": acknowledged_missing,
        "misattributed": misattributed + wrong_image,
        "lost_posts": sum(r["lost_posts"] for r in results),
        "stale_sent": sum(r["stale_sent"] for r in results),
        "stale_stored_nothing": sum(r["stale_stored_nothing"] for r in results),
        "errors": sum(len(r["errors"]) for r in results),
        "completed": sum("code" in r for r in results),
        "excluded": analysis["participants"]["excluded"],
        "careless": len(careless),
        "answer_p50_ms": 1000 * percentile(answers, 0.5),
        "answer_p95_ms": 1000 * percentile(answers, 0.95),
        "page_p50_ms": 1000 * percentile(pages, 0.5),
        "page_p95_ms": 1000 * percentile(pages, 0.95),
        "wall_seconds": round(wall, 1),
        "answers_per_second": round(len(log) / wall, 1),
        "load_average": [round(x, 2) for x in load],
        "cores": os.cpu_count(),
        "tell_check": made.stdout.split("tell check: ")[-1].split("\n")[0],
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
            f"({row['items_per_participant']} items incl. the repeats and the instructed "
            "item) and sending one "
            f"stale form again; the server (`survey/serve.py`, waitress, {row['server_threads']} "
            "threads) killed "
            f"with SIGKILL {row['server_kills']} time(s) mid-study and restarted, the participants "
            "reloading; "
            f"all on the same {row['cores']}-core machine, load average {row['load_average'][0]:.1f} "
            "before / "
            f"{row['load_average'][1]:.1f} after. Tell check of the study: {row['tell_check']}.",
            "",
            "| answers acknowledged | stored | acknowledged, not stored | misattributed "
            "| posts lost in a kill "
            "(unacknowledged) | stale forms storing nothing | other errors | finished | "
            "excluded (careless) | "
            "answer p50 / p95 (ms) | page p50 / p95 (ms) | answers/s | wall (s) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
            f"| {row['acknowledged']} | {row['stored']} | {row['acknowledged_not_stored']} | "
            f"{row['misattributed']} | {row['lost_posts']} | "
            f"{row['stale_stored_nothing']}/{row['stale_sent']} | {row['errors']} | {row['completed']} | "
            f"{row['excluded']} ({row['careless']}) | "
            f"{row['answer_p50_ms']:.0f} / {row['answer_p95_ms']:.0f} | {row['page_p50_ms']:.0f} / "
            f"{row['page_p95_ms']:.0f} | {row['answers_per_second']} | {row['wall_seconds']} |",
            "",
            "Page latencies include the participants' waits through the restart; a post cut by the kill "
            "was never acknowledged (counted as lost) and is answered again after the reload.",
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
        default=f"{runs}/can/seed100,{runs}/can_baseline/seed100",
        help="comma list of run directories the study is built from",
    )
    parser.add_argument("--labels", default="CAN,baseline", help="their names in the results")
    parser.add_argument("--participants", type=int, default=100, help="simulated participants at once")
    parser.add_argument(
        "--kill_at",
        type=int,
        nargs="*",
        default=[1000],
        help="kill -9 the server (and restart it) when this many answers were acknowledged",
    )
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
