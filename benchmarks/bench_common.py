"""What every benchmark shares: run an entry script as a user does, and assemble BENCHMARKS.md
from the Markdown section each benchmark writes under benchmarks/results/."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from reporting.engine import this_checkout  # this checkout first on PYTHONPATH
from reporting.numbers import fmt, spread  # noqa: F401  (the benchmarks' table cells)
from tests.helpers import free_ports

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
FIGURES = os.path.join(ROOT, "docs", "figures")
SCRATCH = os.path.join(ROOT, "runs", "benchmarks")  # tables and JSON without --write_docs
# --write_docs: the benchmark writes benchmarks/results/, BENCHMARKS.md and the figures the
# documents show (the make targets pass it); without it nothing tracked by git is touched.
WRITE_DOCS = False
SECTIONS = [
    ("before_after.md", "Before and after the fidelity fixes (issue 18)"),
    ("bench_2d.md", "2-d experiments (`benchmarks/bench_2d.py`, `make bench`)"),
    ("bench_vae.md", "VAE (`benchmarks/bench_vae.py`, `make bench-vae`)"),
    (
        "bench_vae_torch.md",
        "The MLP VAE beside the PyTorch example (`benchmarks/bench_vae_torch.py`, `make bench-vae-torch`)",
    ),
    ("bench_infogan.md", "InfoGAN, GAN, CGAN, ACGAN (`benchmarks/bench_infogan.py`, `make bench-infogan`)"),
    ("bench_figr.md", "FIGR (`benchmarks/bench_figr.py`, `make bench-figr`)"),
    ("bench_can.md", "CAN (`benchmarks/bench_can.py`, `make bench-can`)"),
    ("bench_diffusion.md", "Diffusion recipes (`benchmarks/bench_diffusion.py`, `make bench-diffusion`)"),
    ("bench_roofline.md", "Roofline (`benchmarks/bench_roofline.py`, `make bench-roofline`)"),
    (
        "bench_report_time.md",
        "The report's time outside training (`benchmarks/bench_report_time.py`, `make bench-report-time`)",
    ),
    ("bench_survey.md", "Survey server under load (`benchmarks/bench_survey.py`, `make bench-survey`)"),
    ("bench_faults.md", "When things go wrong (`benchmarks/bench_faults.py`, `make bench-faults`)"),
]

# Peak RSS of one command alone. getrusage(RUSAGE_CHILDREN) is the largest of every child so far,
# not this one's; and Linux carries a process's peak across fork and exec, so a child forked from a
# process holding TensorFlow would report at least that process's size. A bare Python launcher
# (~10 MB) forks the command, waits for it and writes its ru_maxrss to a file.
_LAUNCHER = """import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) % 256)
"""


def run_measured(command, cwd=None, env=None, timeout=None):
    """Runs `command` (a list) through the launcher; returns (CompletedProcess with text output,
    wall seconds, peak RSS of that command's process in MB, or None if it was not measured)."""
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = os.path.join(tmp, "rss")
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, rss_file, *command],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        wall = time.perf_counter() - start
        try:
            with open(rss_file) as f:
                rss = int(f.read()) / 1024
        except (OSError, ValueError):
            rss = None
    return proc, wall, rss


def rss_cell(row):
    """A speed row's peak RSS for a table (rows measured before per-process RSS called it
    peak_rss_mb_children: the largest child so far)."""
    return row.get("peak_rss_mb", row.get("peak_rss_mb_children"))


def run_script(cwd, script, args, out_dir, env=None, fresh=True, metrics_file="metrics.json"):
    """Runs `python script args --out_dir out_dir` in cwd from a clean out_dir (fresh=False:
    continues the run there); returns (wall seconds, peak RSS of that process in MB,
    out_dir/metrics_file)."""
    if fresh:
        shutil.rmtree(out_dir, ignore_errors=True)
    environment = this_checkout(dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **(env or {})))
    proc, wall, rss = run_measured(
        [sys.executable, script, *args, "--out_dir", out_dir], cwd=cwd, env=environment
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{script} {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    with open(os.path.join(out_dir, metrics_file)) as f:
        return wall, rss, json.load(f)


def run_workers(cwd, script, args, out_dir, env=None, workers=2, timeout=600, python=None):
    """`python script args --strategy multi_worker --out_dir out_dir` as `workers` processes on
    127.0.0.1 (TF_CONFIG, free ports); returns (wall seconds, [(stdout, stderr)] per worker).
    `python`: the command that starts Python (default: this interpreter). Raises RuntimeError
    when a worker fails."""
    addresses = [f"127.0.0.1:{port}" for port in free_ports(workers)]
    environment = this_checkout({**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})})
    start = time.perf_counter()
    procs = []
    for index in range(workers):
        config = {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}}
        procs.append(
            subprocess.Popen(
                [
                    *(python or [sys.executable]),
                    script,
                    *args,
                    "--strategy",
                    "multi_worker",
                    "--out_dir",
                    out_dir,
                ],
                cwd=cwd,
                env=dict(environment, TF_CONFIG=json.dumps(config)),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = [p.communicate(timeout=timeout) for p in procs]
    for index, (p, (_, err)) in enumerate(zip(procs, outputs)):
        if p.returncode != 0:
            raise RuntimeError(f"worker {index}: {script} {' '.join(args)} failed:\n{err[-2000:]}")
    return time.perf_counter() - start, outputs


# BENCH_COLLECT_ONLY=1: the seed parts tabulate the runs already finished and start none (to
# publish what an interrupted benchmark has measured).
COLLECT_ONLY = os.environ.get("BENCH_COLLECT_ONLY") == "1"


def finished(out_dir, key):
    """metrics.json of a finished run in out_dir (one that has `key`), else None: a long benchmark
    interrupted and restarted reuses its finished runs instead of training them again."""
    path = os.path.join(out_dir, "metrics.json")
    try:
        with open(path) as f:
            values = json.load(f)
    except (OSError, ValueError):
        return None
    return values if key in values and not values.get("diverged") else None


def parse_args(parser, name):
    """The benchmark's arguments, with --write_docs added and --out (where the parser has one)
    defaulting to benchmarks/results/<name>.json with it and runs/benchmarks/<name>.json without."""
    global WRITE_DOCS
    parser.add_argument(
        "--write_docs",
        action="store_true",
        help="write benchmarks/results/, BENCHMARKS.md and the figures in docs/figures/ (the make "
        "targets do); without it the tables are printed and the JSON goes to runs/benchmarks/",
    )
    args = parser.parse_args()
    WRITE_DOCS = args.write_docs
    if getattr(args, "out", "") is None:
        args.out = os.path.join(RESULTS if WRITE_DOCS else SCRATCH, f"{name}.json")
    return args


def copy_figure(source, name):
    """A figure the documents show, into docs/figures/<name> (only with --write_docs)."""
    if WRITE_DOCS and os.path.exists(source):
        shutil.copyfile(source, os.path.join(FIGURES, name))


def run_parts(out_json, wanted, parts, markdown, markdown_name):
    """Runs the wanted parts ({name: function(previous rows of that part) -> its rows}) in order,
    keeping the other parts' last numbers from out_json and saving after each part (a long
    benchmark keeps what it has measured); then writes the Markdown section and BENCHMARKS.md."""
    from common import files

    results = files.read_json(out_json, {})
    for name, fn in parts.items():
        if name in wanted:
            results[name] = fn(results.get(name) or [])
            files.write_json(out_json, results)
    publish(markdown_name, markdown(results))
    return results


def publish(markdown_name, text):
    """The table printed; with --write_docs also benchmarks/results/<markdown_name> and
    BENCHMARKS.md reassembled."""
    from common import files

    if WRITE_DOCS:
        files.write_bytes(os.path.join(RESULTS, markdown_name), text.encode())
        write_benchmarks_md()
    print(text)


def write_benchmarks_md():
    """BENCHMARKS.md = every section present under benchmarks/results/, in a fixed order."""
    parts = [
        "# Benchmarks\n\nMade by the benchmark scripts in `benchmarks/` on this project's 2-core CPU "
        "machine. Definitions of the metrics: README.md.\n"
    ]
    for name, title in SECTIONS:
        path = os.path.join(RESULTS, name)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                parts.append(f"# {title}\n\n{f.read()}")
    from common import files

    files.write_bytes(os.path.join(ROOT, "BENCHMARKS.md"), "\n".join(parts).encode())
