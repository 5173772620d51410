"""Where `make report`'s time goes besides training: every run of the report, once, at its full
evaluation (the same samples, episodes, figures and judge) but with its training cut to a few
steps, timed per stage by the runs themselves (metrics.json's stage_seconds, common/timing.py).
What is not training costs the same whatever the training length, so these stages times the
run's seeds are the report's time outside training; beside them, each run's wall time in the
last full report (report/findings.json) for scale.

    python -m benchmarks.bench_report_time                 # every run (~20 min here)
    python -m benchmarks.bench_report_time --runs figr,can_baseline
"""

import argparse
import json
import os
import time

from benchmarks import bench_common
from reporting import engine, wall_time
from reporting import runs as report_runs

# The flag that sets each experiment's training length, and the value that trains a few steps.
SHORT = {
    "2D-codes": ("--niters", "50"),
    "infogan": ("--epoch", "1"),
    "vae": ("--epochs", "1"),
    "figr": ("--meta_iterations", "10"),
    "can": ("--iterations", "10"),
}
FIXED = tuple(s for s in wall_time.STAGES if s not in ("compile", "train"))  # not training
WORK = os.path.join(bench_common.SCRATCH, "report_time")


def short_args(spec):
    flag, value = SHORT[spec.folder]
    args = list(spec.args)
    if flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]
    return args


def last_report_minutes():
    """{run id: wall minutes over its seeds} of the committed full report, {} without one."""
    path = os.path.join(bench_common.ROOT, "report", "findings.json")
    try:
        with open(path) as f:
            report = json.load(f)
    except (OSError, ValueError):
        return {}
    return {run["run"]: run["wall_seconds"] / 60 for run in report.get("runs", [])}


def measure(wanted):
    rows = []
    for spec in report_runs.run_specs(False):
        if wanted and spec.run_id not in wanted:
            continue
        seed = spec.seeds[0]
        out_dir = os.path.join(WORK, spec.run_id)
        command = [*short_args(spec), "--seed", str(seed)]
        load = os.getloadavg()[0]
        wall, rss, _ = bench_common.run_script(
            os.path.join(bench_common.ROOT, spec.folder),
            spec.script,
            command,
            out_dir,
            metrics_file=spec.metrics_file,
        )
        stages = engine.stage_seconds(engine.model_metrics(out_dir, spec.metrics_file))
        rows.append(
            {
                "run": spec.run_id,
                "command": f"cd {spec.folder} && python {spec.script} {' '.join(command)}",
                "seeds": len(spec.seeds),
                "wall_seconds": round(wall, 1),
                "stages": {k: round(v, 2) for k, v in stages.items()},
                "load_average": round(load, 2),
                "peak_rss_mb": rss,
            }
        )
        print(f"{spec.run_id}: {wall:.0f} s, " + ", ".join(f"{k} {v:.1f}" for k, v in sorted(stages.items())))
    return rows


def markdown(results):
    rows = results.get("runs") or []
    if not rows:
        return "No measurement yet.\n"
    before = last_report_minutes()
    meta = results.get("meta", {})
    lines = [
        f"Each run of `make report` once (seed {report_runs.CONFIRMATORY}) with its training cut to a few "
        "steps and everything else as the report runs it; seconds per stage from the run's own "
        f"metrics.json. Measured {meta.get('made', '?')} at commit {meta.get('commit', '?')}, load "
        f"{min(r['load_average'] for r in rows):.1f}-{max(r['load_average'] for r in rows):.1f} at the "
        "runs' starts, one run at a time, each judge already cached (`judge`: loading and checking it; "
        "training one happens once per data set and machine, and is not in these rows).",
        "",
        "| run | seeds | startup s | data s | judge s | evaluate s | figures s | outputs s | compile s "
        "| not training, all seeds (min) | last report's wall (min, all seeds) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    total_fixed, total_before = 0.0, 0.0
    for r in rows:
        s = r["stages"]
        fixed = sum(s.get(k, 0.0) for k in FIXED) + s.get("compile", 0.0)
        minutes = fixed * r["seeds"] / 60
        total_fixed += minutes
        total_before += before.get(r["run"], 0.0)
        cells = " | ".join(f"{s.get(k, 0.0):.1f}" for k in (*FIXED, "compile"))
        last = f"{before[r['run']]:.1f}" if r["run"] in before else "—"
        lines.append(f"| `{r['run']}` | {r['seeds']} | {cells} | {minutes:.1f} | {last} |")
    lines.append(f"| **all** | | | | | | | | | **{total_fixed:.1f}** | **{total_before:.1f}** |")
    startup = sum(r["stages"].get("startup", 0.0) * r["seeds"] for r in rows) / 60
    compiling = sum(r["stages"].get("compile", 0.0) * r["seeds"] for r in rows) / 60
    lines += [
        "",
        f"Of the {total_fixed:.0f} minutes outside training, starting the processes (Python, TensorFlow's "
        f"import, the flags) takes {startup:.0f} and compiling the training steps {compiling:.0f}; the "
        f"rest is evaluation, figures and writing the outputs. The last report's runs took "
        f"{total_before:.0f} minutes (another day's machine, so a proportion, not a difference): about "
        f"{total_fixed / total_before:.0%} of a report is outside training, the rest trains.",
        "",
        "`compile`: the training step's tracing and compilation (common/harness.py: the first chunk less "
        "its steps at the steady speed), paid once per run whatever its length. The last report's wall "
        "times were measured on another day's machine (see its page); compare within a column only.",
    ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="", help="comma-separated run ids of the report (default: all)")
    parser.add_argument("--out", default=None, help="results JSON")
    args = bench_common.parse_args(parser, "bench_report_time")
    wanted = [r for r in args.runs.split(",") if r]
    from common import files

    results = files.read_json(args.out, {}) if os.path.exists(args.out) else {}
    measured = measure(wanted)
    keep = [r for r in results.get("runs", []) if r["run"] not in {m["run"] for m in measured}]
    order = [s.run_id for s in report_runs.run_specs(False)]
    results["runs"] = sorted(
        keep + measured, key=lambda r: order.index(r["run"]) if r["run"] in order else 99
    )
    results["meta"] = {"made": time.strftime("%Y-%m-%d %H:%M"), "commit": engine.git_commit()}
    files.write_json(args.out, results)
    bench_common.publish("bench_report_time.md", markdown(results))


if __name__ == "__main__":
    main()
