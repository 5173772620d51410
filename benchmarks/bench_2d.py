"""Benchmark of the 2-d experiments: speed of the default commands and a quality table over seeds.

    python -m benchmarks.bench_2d --seeds 10          # the full table (~25 min on 2 cores)
    python -m benchmarks.bench_2d --seeds 2 --niters 501   # a quick look

Every run is a subprocess, exactly as a user runs the script, into a fresh directory under
--work_dir. Writes benchmarks/results/bench_2d.json and the Markdown table BENCHMARKS.md.
Benchmarks are not tests: nothing here asserts a number.
"""

import argparse
import concurrent.futures
import json
import os
import shutil

from benchmarks import bench_common
from common import files

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOY_DIR = os.path.join(ROOT, "2D-codes")

STYLE_CONFIGS = [  # (row name, extra flags, removals measured)
    ("normal GAN", [], ("none", "mixture 1")),
    ("style GAN, DesIGN loss (λ = 0.5)", ["--label"], ("none", "mixture 1")),
    ("style GAN, report's loss (λ = 0.5)", ["--label", "--creativity_loss", "report"], ("none", "mixture 1")),
    ("normal GAN, `--settings report`", ["--settings", "report"], ("mixture 1",)),
    ("style GAN, `--settings report` (report's loss)", ["--settings", "report", "--label"], ("mixture 1",)),
]
MISSING = {"none": [], "mixture 1": ["--missing_mixt", "1"]}


def run_script(script, args, out_dir):
    """Runs one command; returns (wall seconds, peak RSS of the child in MB, metrics)."""
    return bench_common.run_script(TOY_DIR, script, args, out_dir)


def speed(work_dir, repeats):
    rows = []
    for script, args in [
        ("STYLEGAN.py", ["--missing_mixt", "1"]),
        ("STYLEGAN.py", ["--missing_mixt", "1", "--label"]),
        ("CGAN.py", ["--missing_mixt", "4"]),
    ]:
        walls, sps = [], []
        for r in range(repeats):
            wall, rss, m = run_script(script, args, os.path.join(work_dir, "speed", f"{script}-{r}"))
            walls.append(wall)
            sps.append(m["steps_per_second"])
        rows.append(
            {
                "command": f"python {script} {' '.join(args)}",
                "niters": m["steps"],
                "wall_seconds_median": sorted(walls)[len(walls) // 2],
                "wall_seconds_all": walls,
                "steps_per_second": max(sps),
                "samples_per_second": max(sps) * m["flags.batch_size"],
                "peak_rss_mb": round(rss),
            }
        )
        print(
            f"speed: {rows[-1]['command']}: {rows[-1]['wall_seconds_median']:.1f} s wall, "
            f"{rows[-1]['steps_per_second']:.0f} steps/s",
            flush=True,
        )
    return rows


def workers(work_dir, repeats, niters=1000):
    """STYLEGAN.py on one process against two multi_worker processes on this machine, same
    command (--nojit: TensorFlow has no XLA collectives on CPUs), alternated, best of `repeats`."""
    args = ["--missing_mixt", "1", "--niters", str(niters), "--nojit"]
    one, two, load = [], [], [os.getloadavg()[0]]
    for r in range(repeats):
        one.append(run_script("STYLEGAN.py", args, os.path.join(work_dir, "workers", f"one-{r}"))[2])
        out = os.path.join(work_dir, "workers", f"two-{r}")
        shutil.rmtree(out, ignore_errors=True)
        bench_common.run_workers(TOY_DIR, "STYLEGAN.py", args, out)
        with open(os.path.join(out, "metrics.json")) as f:
            two.append(json.load(f))
    load.append(os.getloadavg()[0])
    row = {
        "command": f"python STYLEGAN.py {' '.join(args)}",
        "one_process_steps_per_second": max(m["steps_per_second"] for m in one),
        "two_workers_steps_per_second": max(m["steps_per_second"] for m in two),
        "replicas": two[0]["replicas"],
        "workers": two[0]["workers"],
        "load_average": load,
    }
    print(f"workers: {row}", flush=True)
    return row


def quality(work_dir, seeds, niters, parallel):
    jobs = []
    for name, flags, removals in STYLE_CONFIGS:
        for missing_name in removals:
            for seed in range(seeds):
                args = [*flags, *MISSING[missing_name], "--seed", str(seed), "--niters", str(niters)]
                out = os.path.join(work_dir, "quality", f"{len(jobs):03d}")
                jobs.append(((name, missing_name), "STYLEGAN.py", args, out))
    for seed in range(seeds):
        args = ["--missing_mixt", "4", "--seed", str(seed), "--niters", str(niters)]
        jobs.append(
            (("CGAN", "mixture 4"), "CGAN.py", args, os.path.join(work_dir, "quality", f"{len(jobs):03d}"))
        )
    results = {}
    with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
        futures = {pool.submit(run_script, script, args, out): key for key, script, args, out in jobs}
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            results.setdefault(futures[future], []).append(future.result()[2])
            print(f"quality: {done}/{len(jobs)} runs", flush=True)
    return results


def mean(values):
    return sum(values) / len(values)


def std(values):
    m = mean(values)
    return (sum((v - m) ** 2 for v in values) / (len(values) - 1)) ** 0.5 if len(values) > 1 else 0.0


def summarise(results):
    rows = []
    for (name, missing), runs in results.items():
        runs = sorted(runs, key=lambda r: r["flags.seed"])
        row = {
            "model": name,
            "removed": missing,
            "seeds": len(runs),
            "modes_present": runs[0]["modes_present"],
            "modes_captured_mean": mean([r["modes_captured"] for r in runs]),
            "modes_captured_std": std([r["modes_captured"] for r in runs]),
            "modes_captured_all": [r["modes_captured"] for r in runs],
            "hq_fraction_std": std([r["hq_fraction"] for r in runs]),
            "seeds_with_all_modes": sum(r["modes_captured"] == r["modes_present"] for r in runs),
            "hq_fraction_mean": mean([r["hq_fraction"] for r in runs]),
            "missing_mode_hits_mean": mean([r["missing_mode_hits"] for r in runs]),
            "missing_mode_hits_max": max(r["missing_mode_hits"] for r in runs),
            "mode_kl_mean": mean([r["mode_kl"] for r in runs]),
            "nn_distance_mean": mean([r["nn_distance"] for r in runs]),
            "nn_distance_heldout_real_mean": mean([r["nn_distance_heldout_real"] for r in runs]),
        }
        if "present_labels_on_own_mode" in runs[0]:
            row["present_labels_on_own_mode_mean"] = mean([r["present_labels_on_own_mode"] for r in runs])
            row["removed_label_on_own_mode_mean"] = mean([r["label_4_on_own_mode"] for r in runs])
            row["removed_label_off_modes_mean"] = mean([r["removed_label_4_off_modes"] for r in runs])
        rows.append(row)
    order = [name for name, _, _ in STYLE_CONFIGS] + ["CGAN"]
    return sorted(rows, key=lambda r: (order.index(r["model"]), r["removed"]))


def markdown(speed_rows, quality_rows, niters, workers_row=None):
    lines = [
        "## Speed (2 CPU cores, TensorFlow start-up included)",
        "",
        "| command | iterations | wall time (s, median) | steps/s | samples/s | peak RSS (MB) |",
        "|---|---|---|---|---|---|",
    ]
    for r in speed_rows:
        lines.append(
            f"| `{r['command']}` | {r['niters']} | {r['wall_seconds_median']:.1f} | "
            f"{r['steps_per_second']:.0f} | {r['samples_per_second']:.0f} | {bench_common.rss_cell(r)} |"
        )
    seeds = quality_rows[0]["seeds"] if quality_rows else 0
    lines += [
        "",
        f"## Quality over {seeds} seeds ({niters} iterations, 2,500 samples per run)",
        "",
        "| model | removed | modes captured (mean ± sd) | per seed | seeds with all modes | HQ fraction "
        "(mean ± sd) | "
        "missing-mode hits (mean / max) | mode KL | NN distance (gen / held-out real) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in quality_rows:
        lines.append(
            f"| {r['model']} | {r['removed']} | {r['modes_captured_mean']:.2f} ± "
            f"{r['modes_captured_std']:.2f} / "
            f"{r['modes_present']} | {' '.join(map(str, r['modes_captured_all']))} | "
            f"{r['seeds_with_all_modes']}/{r['seeds']} | {r['hq_fraction_mean']:.3f} ± "
            f"{r['hq_fraction_std']:.3f} | "
            f"{r['missing_mode_hits_mean']:.4f} / {r['missing_mode_hits_max']:.4f} | {r['mode_kl_mean']:.3f} "
            "| "
            f"{r['nn_distance_mean']:.4f} / {r['nn_distance_heldout_real_mean']:.4f} |"
        )
    if workers_row:
        w = workers_row
        lines += [
            "",
            "## One process against two multi_worker processes on this machine",
            "",
            "| command | one process (steps/s) | two workers (steps/s) | ratio |",
            "|---|---|---|---|",
            f"| `{w['command']}` | {w['one_process_steps_per_second']:.0f} | "
            f"{w['two_workers_steps_per_second']:.0f} | "
            f"{w['two_workers_steps_per_second'] / w['one_process_steps_per_second']:.2f} |",
            "",
            f"Load average {w['load_average'][0]:.1f} before, {w['load_average'][1]:.1f} after (2 cores). "
            "The two workers share the machine's two cores and exchange gradients over localhost at "
            "every step of a tiny model: multi_worker is for several machines, not for one.",
        ]
    cgan = [r for r in quality_rows if "present_labels_on_own_mode_mean" in r]
    if cgan:
        lines += [
            "",
            "CGAN, label 4 removed: fraction of each label's samples on its own mode",
            "",
            "| present labels | removed label on its own mode | removed label off every mode |",
            "|---|---|---|",
        ]
        for r in cgan:
            lines.append(
                f"| {r['present_labels_on_own_mode_mean']:.3f} | {r['removed_label_on_own_mode_mean']:.4f} | "
                f"{r['removed_label_off_modes_mean']:.3f} |"
            )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--parts",
        default="speed,quality",
        help="comma list of speed, quality, workers (parts not run keep their last numbers; the "
        "README's 2-d figures come from `make report`)",
    )
    parser.add_argument("--seeds", type=int, default=10, help="seeds per configuration in the quality table")
    parser.add_argument("--niters", type=int, default=3001, help="iterations of every quality run")
    parser.add_argument("--speed_repeats", type=int, default=3, help="timed runs of each default command")
    parser.add_argument(
        "--parallel", type=int, default=2, help="quality runs at once (timing runs are alone)"
    )
    parser.add_argument("--work_dir", default=os.path.join(ROOT, "runs", "bench_2d"), help="scratch output")
    parser.add_argument("--out", default=None, help="the JSON of results (default: see --write_docs)")
    args = bench_common.parse_args(parser, "bench_2d")
    parts = set(args.parts.split(","))
    previous = files.read_json(args.out, {})
    speed_rows = speed(args.work_dir, args.speed_repeats) if "speed" in parts else previous.get("speed", [])
    if "quality" in parts:
        quality_rows = summarise(quality(args.work_dir, args.seeds, args.niters, args.parallel))
    else:
        quality_rows = previous.get("quality", [])
    workers_row = (
        workers(args.work_dir, args.speed_repeats) if "workers" in parts else previous.get("workers")
    )
    files.write_json(
        args.out,
        {"speed": speed_rows, "quality": quality_rows, "niters": args.niters, "workers": workers_row},
    )
    bench_common.publish("bench_2d.md", markdown(speed_rows, quality_rows, args.niters, workers_row))


if __name__ == "__main__":
    main()
