"""Benchmark of the VAE (report sections 2.5-2.6): seconds per epoch, test -ELBO for
{mnist, fashion-mnist} x {conv, mlp} x latent {2, 20} at equal epochs, and the report's four
findings with the judge's numbers.

    python -m benchmarks.bench_vae                 # everything (~40 min on 2 cores)
    python -m benchmarks.bench_vae --parts speed   # only the timing

Every run is a subprocess of vae/VAE.py, exactly as a user runs it, into a fresh directory under
--work_dir. Writes benchmarks/results/bench_vae.json, benchmarks/results/bench_vae.md and
BENCHMARKS.md. Benchmarks are not tests: nothing here asserts a number.
"""

import argparse
import os

from benchmarks import bench_common
from reporting.runs import VAE_COMMANDS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VAE_DIR = os.path.join(ROOT, "vae")


# The report's VAE findings and its own four-shot-dress command (the report page runs them too).
FINDINGS = VAE_COMMANDS
FINDING_KEYS = [
    "test_neg_elbo",
    "test_neg_elbo_removed",
    "prior_removed_class_hits",
    "grid_removed_class_hits",
    "prior_classifier_score",
    "prior_frechet_judge_distance",
    "prior_nn_distance",
    "prior_nn_distance_heldout_real",
    "shots_judge_accuracy",
    "shots_nn_distance",
    "shots_real_nn_distance_min",
    "shots_real_nn_distance_mean",
    "shots_copy_fraction",
    "shots_diversity",
    "shots_real_diversity",
    "shots_feature_copy_fraction",
    "shots_feature_diversity",
    "shots_feature_real_diversity",
    "shots_mean_judge_accuracy",
    "shots_mean_copy_fraction",
    "shots_mean_diversity",
]


def vae(args, out_dir):
    return bench_common.run_script(VAE_DIR, "VAE.py", args, out_dir)


def speed(work_dir, epochs):
    rows = []
    for arch in ("conv", "mlp"):
        args = ["--dataset", "fashion-mnist", "--arch", arch, "--epochs", str(epochs), "--nojudge"]
        wall, rss, m = vae(args, os.path.join(work_dir, "speed", arch))
        rows.append(
            {
                "command": "python VAE.py " + " ".join(args),
                "arch": arch,
                "epochs": epochs,
                "seconds_per_epoch": m["seconds_per_epoch"],
                "steps_per_second": m["steps_per_second"],
                "images_per_second": m["steps_per_second"] * m["flags.batch_size"],
                "wall_seconds": wall,
                "peak_rss_mb": round(rss),
            }
        )
        print(rows[-1], flush=True)
    return rows


def elbo_table(work_dir, epochs, small_data_epochs):
    """Every data set at `epochs`; MNIST also at `small_data_epochs` when it comes from the 5,000
    digits (4,000 training images: 10 epochs are only 310 steps)."""
    rows = []
    runs = [("mnist", epochs), ("fashion-mnist", epochs)]
    if small_data_epochs:
        runs.insert(1, ("mnist", small_data_epochs))
    for dataset, epochs in runs:
        if dataset == "mnist" and epochs == small_data_epochs and rows and rows[0]["train_examples"] > 5000:
            continue  # full MNIST here: no small-data rows needed
        for arch in ("conv", "mlp"):
            for latent in (2, 20):
                args = [
                    "--dataset",
                    dataset,
                    "--arch",
                    arch,
                    "--encoding-vector-size",
                    str(latent),
                    "--epochs",
                    str(epochs),
                    "--nojudge",
                ]
                wall, _, m = vae(args, os.path.join(work_dir, "elbo", f"{dataset}-{epochs}-{arch}-{latent}"))
                rows.append(
                    {
                        "dataset": dataset,
                        "arch": arch,
                        "latent": latent,
                        "epochs": epochs,
                        "test_neg_elbo": m["test_neg_elbo"],
                        "test_reconstruction": m["test_reconstruction"],
                        "test_kl": m["test_kl"],
                        "train_examples": m["train_examples"],
                        "source": m["data_source"],
                        "seconds_per_epoch": m["seconds_per_epoch"],
                        "wall_seconds": wall,
                    }
                )
                print(rows[-1], flush=True)
    return rows


def findings(work_dir, seeds, previous):
    """Every finding's command per seed; (finding, seed) rows already measured are kept."""
    done = {(r["finding"], r.get("seed")): r for r in previous}
    rows = []
    for name, args in FINDINGS:
        for seed in seeds:
            if (name, seed) in done:
                rows.append(done[(name, seed)])
                continue
            tag = name.replace(" ", "_").replace("'", "").replace(":", "")
            out_dir = os.path.join(work_dir, "findings", f"{tag}_seed{seed}")
            m = bench_common.finished(out_dir, "test_neg_elbo")
            wall = m.get("train_seconds", 0.0) if m is not None else None
            if m is None and bench_common.COLLECT_ONLY:
                continue
            if m is None:
                wall, _, m = vae([*args, "--seed", str(seed)], out_dir)
            figure = os.path.join(out_dir, "few_shot.png")
            if name.startswith("report's command") and seed == seeds[0] and os.path.exists(figure):
                bench_common.copy_figure(figure, "vae_four_shot_dress.png")
            rows.append(
                {
                    "finding": name,
                    "seed": seed,
                    "command": "python3 VAE.py " + " ".join(args),
                    "wall_seconds": wall,
                    "source": m["data_source"],
                    "judge_test_accuracy": m.get("judge_test_accuracy"),
                    **{k: m[k] for k in FINDING_KEYS if k in m},
                }
            )
            print(
                {
                    k: rows[-1].get(k)
                    for k in ("finding", "seed", "prior_removed_class_hits", "shots_judge_accuracy")
                },
                flush=True,
            )
    return rows


def fmt(value, digits=3):
    return "–" if value is None else f"{value:.{digits}f}"


def markdown(results):
    lines = []
    if results.get("speed"):
        lines += [
            "## Speed (Fashion-MNIST, 60,000 images, batch 128, latent 20; first epoch's tracing included)",
            "",
            "| command | s / epoch | steps/s | images/s | peak RSS (MB) |",
            "|---|---|---|---|---|",
        ]
        for r in results["speed"]:
            lines.append(
                f"| `{r['command']}` | {r['seconds_per_epoch']:.1f} | {r['steps_per_second']:.1f} | "
                f"{r['images_per_second']:.0f} | {bench_common.rss_cell(r)} |"
            )
    if results.get("elbo"):
        lines += [
            "",
            "## Test −ELBO (nats per image, lower is better), seed 1, batch 128",
            "",
            "| data (source, training images) | epochs (steps) | arch | latent 2 | latent 20 |",
            "|---|---|---|---|---|",
        ]
        groups = []
        for r in results["elbo"]:
            if (r["dataset"], r["epochs"], r["arch"]) not in groups:
                groups.append((r["dataset"], r["epochs"], r["arch"]))
        for dataset, epochs, arch in groups:
            cells = {
                r["latent"]: r
                for r in results["elbo"]
                if (r["dataset"], r["epochs"], r["arch"]) == (dataset, epochs, arch)
            }
            first = next(iter(cells.values()))
            source = first["source"].split(" (")[0]
            steps = epochs * (first["train_examples"] // 128)
            lines.append(
                f"| {dataset} ({source}, {first['train_examples']}) | {epochs} ({steps}) | {arch} | "
                f"{fmt(cells.get(2, {}).get('test_neg_elbo'), 1)} | "
                f"{fmt(cells.get(20, {}).get('test_neg_elbo'), 1)} |"
            )
    if results.get("findings"):
        rows = results["findings"]
        seeds = sorted({r.get("seed", 1) for r in rows})
        lines += [
            "",
            f"## The report's VAE findings over seeds {', '.join(map(str, seeds))} (default epochs unless "
            "the "
            "command says otherwise)",
            "",
            "Mean ± sample standard deviation over seeds. Few-shot columns grade Bernoulli samples of the "
            "decoder "
            "(like with like beside FIGR); the decoder means the figure shows are in the last column.",
            "",
            "| finding | −ELBO all / removed class | removed class in prior samples | in manifold grid | "
            "judge accuracy near shots | copies (pixels / judge features) | diversity gen / real (judge "
            "features) | "
            "decoder means: judge acc. / copies |",
            "|---|---|---|---|---|---|---|---|",
        ]
        spread = bench_common.spread
        for name, _ in FINDINGS:
            mine = [r for r in rows if r["finding"] == name]
            if not mine:
                continue

            def col(key, d=3, mine=mine):
                return spread([r.get(key) for r in mine], d)

            shots = "shots_judge_accuracy" in mine[0]
            lines.append(
                f"| {name} | {col('test_neg_elbo', 1)} / {col('test_neg_elbo_removed', 1)} | "
                f"{col('prior_removed_class_hits')} | {col('grid_removed_class_hits')} | "
                + (
                    f"{col('shots_judge_accuracy')} | {col('shots_copy_fraction')} / "
                    f"{col('shots_feature_copy_fraction')} | "
                    f"{col('shots_feature_diversity', 2)} / "
                    f"{fmt(mine[0].get('shots_feature_real_diversity'), 2)} | "
                    f"{col('shots_mean_judge_accuracy')} / {col('shots_mean_copy_fraction')} |"
                    if shots
                    else "– | – | – | – |"
                )
            )
        lines += ["", "Commands (in `vae/`, plus `--seed S`):", ""] + [
            f"- {name}: `python3 VAE.py {' '.join(args)}`" for name, args in FINDINGS
        ]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", default="speed,elbo,findings", help="comma list of speed, elbo, findings")
    parser.add_argument("--epochs", type=int, default=10, help="epochs of every -ELBO table run")
    parser.add_argument(
        "--small_data_epochs",
        type=int,
        default=60,
        help="extra MNIST rows at this many epochs when MNIST is the 5,000-digit fallback (0: none)",
    )
    parser.add_argument("--speed_epochs", type=int, default=3, help="epochs of the timed runs")
    parser.add_argument("--seeds", default="1,2,3", help="seeds of the findings part")
    parser.add_argument("--work_dir", default=os.path.join(ROOT, "runs", "bench_vae"), help="scratch output")
    parser.add_argument("--out", default=None, help="the JSON of results (default: see --write_docs)")
    args = bench_common.parse_args(parser, "bench_vae")
    bench_common.run_parts(
        args.out,
        set(args.parts.split(",")),
        {
            "speed": lambda _: speed(args.work_dir, args.speed_epochs),
            "elbo": lambda _: elbo_table(args.work_dir, args.epochs, args.small_data_epochs),
            "findings": lambda previous: findings(
                args.work_dir, [int(v) for v in args.seeds.split(",")], [r for r in previous if "seed" in r]
            ),
        },
        markdown,
        "bench_vae.md",
    )


if __name__ == "__main__":
    main()
