"""The diffusion model's recipe for the league: which settings get furthest in a fixed number of
minutes on this machine.

    python -m benchmarks.bench_diffusion --minutes 10                   # every recipe, ~10 min each
    python -m benchmarks.bench_diffusion --recipes base,min_snr --minutes 3   # a quick look

A recipe is a set of diffusion/train.py flags. Its speed is timed first on two short runs (the
second continues the first, so the difference is steps plus one compile, and the compile drops
out); its budget in steps is then (minutes - compile) / seconds per step, and one run trains that
many steps in the league's setting (Fashion-MNIST without trousers, --remove_label 1, bfloat16)
and is graded as train.py grades every run: Fréchet judge distance on the nine present classes
(the league's quality column; 100 samples per class against the test split), the judge's accuracy
on them, and for the never-seen trousers the share the judge calls trousers. The sampler's
settings (DDIM steps, guidance) do not change training: each finished run is graded again with
them varied, at no training cost.

One seed per recipe: this is a search for the league's default, not a finding; the league
measures the chosen recipe's spread over seeds and classes. Writes bench_diffusion.{json,md}
(with --write_docs into benchmarks/results/ and BENCHMARKS.md)."""

import argparse
import os

from benchmarks import bench_common
from common import files

DIFFUSION_DIR = os.path.join(bench_common.ROOT, "diffusion")
LEAGUE_SETTING = ["--dataset", "fashion-mnist", "--remove_label", "1", "--mixed_precision"]
RECIPES = {
    "base": ([], "the defaults: U-Net 32-64-128, batch 128, Adam 2e-3, EMA 0.995"),
    "min_snr": (["--min_snr", "5"], "the defaults + Min-SNR-5 loss weighting"),
    "narrow": (
        ["--channels", "16,32,64", "--batch_size", "64"],
        "U-Net 16-32-64 at batch 64 (cheaper steps, more of them)",
    ),
    "narrow_min_snr": (
        ["--channels", "16,32,64", "--batch_size", "64", "--min_snr", "5"],
        "U-Net 16-32-64 at batch 64 (cheaper steps, more of them) + Min-SNR-5",
    ),
    "wide_min_snr": (
        ["--channels", "48,96,144", "--min_snr", "5"],
        "U-Net 48-96-144 (fewer, stronger steps) + Min-SNR-5",
    ),
}
SAMPLERS = [  # the default last: the run is left graded as train.py grades it
    ("50 DDIM steps, w 1", ["--sample_steps", "50"]),
    ("25 DDIM steps, w 0 (no guidance)", ["--guidance", "0"]),
    ("25 DDIM steps, w 2", ["--guidance", "2"]),
    ("25 DDIM steps, w 1 (default)", []),
]


def speed(name, flags, scratch, short=30, long=130):
    """(seconds per step after compiling, seconds to compile and start) of a recipe, from two runs
    from scratch of `short` and `long` steps: each pays one compile, so their difference is
    long - short steps. (Two runs of 20 and 20 + 40 steps measured narrow at 0.153 s per step; its
    long run then took 0.26: the compile's noise is larger than 20 steps.)"""
    quick = [*LEAGUE_SETTING, *flags, "--nojudge", "--per_class", "1", "--sample_steps", "1"]
    seconds = []
    for steps in (short, long):
        out = os.path.join(scratch, f"time-{name}-{steps}")
        _, _, m = bench_common.run_script(DIFFUSION_DIR, "train.py", [*quick, "--steps", str(steps)], out)
        seconds.append(m["train_seconds"])
    per_step = (seconds[1] - seconds[0]) / (long - short)
    if per_step <= 0:
        raise RuntimeError(f"{name}: {long} steps took no longer than {short}: the timing is noise")
    return per_step, max(seconds[0] - short * per_step, 0.0)


def run_speed(run_dir):
    """Seconds per training step as the run recorded them (logs/timing.json)."""
    timing = files.read_json(os.path.join(run_dir, "logs", "timing.json"))
    return timing["seconds"] / max(timing["steps"], 1)


def finished_run(run_dir, minutes, steps=None):
    """(steps, estimated seconds per step, its budget's minutes or None for given steps) of a recipe
    run trained to its end for this budget (--minutes, or --steps when given) by an earlier
    invocation, or None."""
    try:
        budget = files.read_json(os.path.join(run_dir, "bench_budget.json"))
        config = files.read_json(os.path.join(run_dir, "run_config.json"))
        finished = files.read_json(os.path.join(run_dir, "metrics.json"))
        trained = config["spec"]["steps"]
    except (ValueError, KeyError, TypeError):  # garbled, or a file missing (None)
        return None
    if budget is None or finished is None:
        return None
    same = trained == steps if steps else budget.get("minutes") == minutes
    return (trained, budget.get("per_step"), budget.get("minutes")) if same else None


def grade(m):
    return {
        "fjd_present": m.get("frechet_judge_distance_present"),
        "judge_accuracy_present": m.get("judge_accuracy_present"),
        "trouser_rate": m.get("class_1_rate"),
        "trouser_fjd": m.get("class_1_frechet_judge_distance"),
    }


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget of each recipe")
    parser.add_argument("--recipes", default=",".join(RECIPES), help=f"comma list of {', '.join(RECIPES)}")
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="train every recipe this many steps instead of --minutes over its timed speed (equal "
        "steps: for recipes of one cost per step, e.g. a loss weighting)",
    )
    parser.add_argument("--seed", type=int, default=0, help="the runs' --seed")
    parser.add_argument("--samplers", action="store_true", help="grade the best run again under SAMPLERS")
    parser.add_argument(
        "--work_dir", default=os.path.join(bench_common.SCRATCH, "bench_diffusion"), help="runs"
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="grade again, without retraining, the recipe runs an earlier invocation trained to "
        "their end for the same --minutes in --work_dir",
    )
    parser.add_argument("--out", default=None, help="the JSON of results (default: see --write_docs)")
    args = bench_common.parse_args(parser, "bench_diffusion")
    wanted = [r.strip() for r in args.recipes.split(",") if r.strip()]
    unknown = [r for r in wanted if r not in RECIPES]
    if unknown:
        parser.error(f"--recipes: unknown {', '.join(unknown)}")
    load = os.getloadavg()[0]
    rows = []
    for name in wanted:
        flags, what = RECIPES[name]
        out = os.path.join(args.work_dir, name)
        kept = finished_run(out, args.minutes, args.steps) if args.keep else None
        if kept:  # trained for this budget by an earlier invocation: graded again, not retrained
            steps, per_step, minutes = kept
        elif args.steps:
            per_step, steps, minutes = None, args.steps, None
        else:
            per_step, compile_s = speed(name, flags, args.work_dir)
            steps, minutes = max(50, int((args.minutes * 60 - compile_s) / per_step)), args.minutes
        wall, rss, m = bench_common.run_script(
            DIFFUSION_DIR,
            "train.py",
            [*LEAGUE_SETTING, *flags, "--steps", str(steps), "--seed", str(args.seed)],
            out,
            fresh=not kept,
        )
        if kept:
            wall, rss = None, None  # this invocation only graded it
        else:
            budget = {"minutes": minutes, "per_step": per_step, "steps": steps}
            files.write_json(os.path.join(out, "bench_budget.json"), budget)
        row = {
            "recipe": name,
            "what": what,
            "flags": " ".join(flags),
            "budget_minutes": minutes,  # None: its steps were given (--steps)
            "seconds_per_step": None if per_step is None else round(per_step, 3),  # timed: sets the steps
            "seconds_per_step_run": round(run_speed(out), 3),  # what the long run itself took
            "steps": steps,
            "train_minutes": round(m["train_seconds"] / 60, 2),
            "wall_minutes": None if wall is None else round(wall / 60, 2),
            "peak_rss_mb": rss,
            "run": out,
            **grade(m),
        }
        rows.append(row)
        print(row, flush=True)
    samplers = []
    finished = [r for r in rows if r["fjd_present"] is not None]
    if args.samplers and finished:
        best = min(finished, key=lambda r: r["fjd_present"])
        for label, flags in SAMPLERS:
            base = [*LEAGUE_SETTING, *RECIPES[best["recipe"]][0], "--steps", str(best["steps"])]
            _, _, m = bench_common.run_script(
                DIFFUSION_DIR, "train.py", [*base, "--seed", str(args.seed), *flags], best["run"], fresh=False
            )
            samplers.append({"recipe": best["recipe"], "sampler": label, **grade(m)})
            print(samplers[-1], flush=True)
    results = {
        "rows": rows,
        "samplers": samplers,
        "minutes": args.minutes,
        "load": f"load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, 2 cores",
    }
    files.write_json(args.out, results)
    bench_common.publish("bench_diffusion.md", markdown(results))


def cell(value, digits=2):
    return "—" if value is None else f"{value:.{digits}f}"


def budget_text(row):
    minutes = row.get("budget_minutes")
    return f"{minutes:g} min over the timed speed" if minutes else "given (--steps)"


def markdown(results):
    lines = [
        "A recipe's steps are either its budget in minutes over its speed timed on two short runs "
        "(the train-minutes column says what the run then took), or given with --steps (equal to "
        "another's: an equal-steps comparison). Fashion-MNIST without trousers, bfloat16, seed 0, "
        "graded on 100 samples per class; one seed each (a search, not a finding). "
        f"{results['load']}.",
        "",
        "| recipe | steps set by | s/step timed | s/step in the run | steps | train min "
        "| FJD present ↓ | judge accuracy present | trousers (never seen) called trousers |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["rows"]:
        lines.append(
            f"| {r['recipe']}: {r['what']} | {budget_text(r)} | {cell(r['seconds_per_step'], 3)} | "
            f"{r['seconds_per_step_run']:.3f} | {r['steps']:,} | "
            f"{r['train_minutes']:.1f} | {cell(r['fjd_present'], 1)} | {cell(r['judge_accuracy_present'])} | "
            f"{cell(r['trouser_rate'], 3)} |"
        )
    if results["samplers"]:
        lines += [
            "",
            "The best run graded again with other sampler settings (no training):",
            "",
            "| sampler | FJD present ↓ | judge accuracy present |",
            "|---|---|---|",
        ]
        for s in results["samplers"]:
            lines.append(
                f"| {s['sampler']} | {cell(s['fjd_present'], 1)} | {cell(s['judge_accuracy_present'])} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
