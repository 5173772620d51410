"""Benchmark of the CAN (Ahn et al.): seconds per training iteration at batch 200 and 64 beside the
time its convolutions alone need, and CAN against the baseline DCGAN on the same seed.

    python -m benchmarks.bench_can                    # everything (~25 min on 2 cores)
    python -m benchmarks.bench_can --parts speed      # only the timing

Speed is timed in-process on the harness's compiled loop after a warm-up (compilation excluded):
one iteration = a D step and --g_steps 2 G steps, as train.py. "Convolutions alone" runs the
same iteration's convolution and transposed-convolution layers only (forward, and backward to
their inputs and weights, at the same shapes), without the fully connected layers, activations,
pooling, losses and optimizer updates. Quality runs are subprocesses of can/train.py. Writes
benchmarks/results/bench_can.json, bench_can.md and BENCHMARKS.md; copies the README's figures
into docs/figures/. Benchmarks are not tests: nothing here asserts.
"""

import argparse
import dataclasses
import os
import tempfile
import time

from benchmarks import bench_common
from benchmarks.bench_common import fmt
from can import spec as can_spec
from common import files

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CAN_DIR = os.path.join(ROOT, "can")
QUALITY_KEYS = [*can_spec.QUALITY_KEYS, "seconds_per_iteration", "judge_test_accuracy"]


def conv_only_step(config, batch):
    """A tf.function doing the iteration's convolution work only: D's three convolutions on 2B
    images (real and fake) with weight and input gradients, then per G step G's three transposed
    convolutions and D's convolutions on B images, backward to G's weights."""
    import keras
    import tensorflow as tf

    s, k, (c1, c2, c3) = config.image_size, config.kernel, config.d_channels
    d_convs = [keras.layers.Conv2D(c, k, padding="same") for c in (c1, c2, c3)]
    g_convs = [keras.layers.Conv2DTranspose(c, k, strides=2, padding="same") for c in (c2, c1, 3)]

    def d_forward(x):
        for i, conv in enumerate(
            d_convs
        ):  # a strided slice for the 2x2 pool: the shapes D's convolutions see
            x = conv(x)
            x = x[:, ::2, ::2] if i < 2 else x
        return tf.reduce_sum(x)

    def g_forward(z):
        for conv in g_convs:
            z = conv(z)
        return z

    base = tf.random.normal((batch, s // 8, s // 8, c3))
    images = tf.random.normal((2 * batch, s, s, 3))
    d_forward(images), g_forward(base)  # build

    @tf.function(autograph=False)
    def step():
        with tf.GradientTape() as tape:
            out = d_forward(images)
        total = tf.add_n(
            [
                tf.reduce_sum(g)
                for g in tape.gradient(out, [v for c in d_convs for v in c.trainable_variables])
            ]
        )
        for _ in range(config.g_steps):
            with tf.GradientTape() as tape:
                out = d_forward(g_forward(base))
            total += tf.add_n(
                [
                    tf.reduce_sum(g)
                    for g in tape.gradient(out, [v for c in g_convs for v in c.trainable_variables])
                ]
            )
        return total

    return step


def time_fn(fn, repeats):
    fn()
    started = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - started) / repeats


def speed(previous, args):
    from common import tf_env

    tf = tf_env.import_tensorflow()
    tf_env.quiet_grappler(tf)  # as train.py
    import numpy as np

    from can.can_models import CAN, CANConfig
    from common import harness

    rows = []
    for batch in (200, 64):
        for jit in (False, True):
            config = CANConfig()
            images = np.random.default_rng(0).uniform(size=(batch, 64, 64, 3)).astype(np.float32)
            data = tf.data.Dataset.from_tensors((images, np.zeros(batch, np.int32))).repeat()
            with tempfile.TemporaryDirectory() as out:
                train = harness.TrainConfig(
                    out_dir=out,
                    steps=2,
                    log_every=10_000,
                    checkpoint_every=10_000,
                    progress=False,
                    jit_compile=jit,
                )
                trainer = harness.Trainer(lambda config=config: CAN(config), data, train)
                trainer.run()  # compiles
                trainer.config = dataclasses.replace(train, steps=2 + args.speed_iterations)
                result = trainer.run()
            seconds = 1.0 / result.steps_per_second
            conv = time_fn(conv_only_step(config, batch), args.speed_iterations)
            rows.append(
                {
                    "batch": batch,
                    "jit": jit,
                    "seconds_per_iteration": seconds,
                    "images_per_second": batch / seconds,
                    "conv_only_seconds": conv,
                    "ratio_to_conv_only": seconds / conv,
                }
            )
            print(rows[-1], flush=True)
    return rows


def quality(previous, args):
    """CAN and the baseline DCGAN on the same seed, the stand-in (or --data_dir), --iterations each."""
    rows = []
    base = ["--genres", "7", "--iterations", str(args.iterations), "--batch_size", str(args.batch_size)]
    if args.data_dir:
        base += ["--data_dir", args.data_dir]
    remedies = ["--minibatch_discrimination", "--g_steps", "1"]  # Ahn et al.'s remedies for its collapse
    runs = [
        ("can", "CAN (binary style loss)", []),
        ("can_softmax", "CAN (softmax style loss)", ["--style_loss", "softmax"]),
        ("baseline", "baseline DCGAN", ["--baseline"]),
        ("can_remedies", "CAN + minibatch discr., g_steps 1", remedies),
        ("baseline_remedies", "baseline + minibatch discr., g_steps 1", ["--baseline"] + remedies),
    ]
    for tag, name, extra in runs:
        out_dir = os.path.join(args.work_dir, tag)
        wall, rss, values = bench_common.run_script(CAN_DIR, "train.py", base + extra, out_dir)
        rows.append(
            {
                "model": name,
                "minutes": wall / 60,
                "peak_rss_mb": rss,
                "iterations": values.get("iterations"),
                "data_source": values.get("data_source"),
                **{k: values.get(k) for k in QUALITY_KEYS},
            }
        )
        print(rows[-1], flush=True)
    return rows


SEED_MODELS = [("can", "CAN (binary style loss)", []), ("baseline", "baseline DCGAN", ["--baseline"])]
SEED_KEYS = [
    ("style_entropy_judge", "style entropy, independent classifier", 3),
    ("style_entropy_dc", "style entropy, own D_c", 3),
    ("realness", "realness", 3),
    ("diversity_ratio", "diversity / real", 3),
    ("nn_distance", "nn distance", 2),
]


def seeds(previous, args):
    """CAN and the baseline over --seeds, each run extended through --checkpoints iterations (a
    rerun with more --iterations continues the run), so every seed gives a curve."""
    done = {(r["tag"], r["seed"], r["iterations"]): r for r in previous}
    rows = []
    seed_list = [int(s) for s in args.seeds.split(",")]
    counts = [int(n) for n in args.checkpoints.split(",")]
    # Every seed reaches a count before any goes further: a benchmark stopped early still has
    # every seed at the counts it finished.
    for i, iterations in enumerate(counts):
        for tag, name, extra in SEED_MODELS:
            for seed in seed_list:
                if (tag, seed, iterations) in done:
                    rows.append(done[(tag, seed, iterations)])
                    continue
                out_dir = os.path.join(args.work_dir, "seeds", f"{tag}_seed{seed}")
                command = [
                    "--genres",
                    "7",
                    "--iterations",
                    str(iterations),
                    "--batch_size",
                    str(args.batch_size),
                    "--image_size",
                    str(args.seed_image_size),
                    "--seed",
                    str(seed),
                    "--sample_every",
                    "100",
                    *extra,
                ]
                # Each count's metrics are kept beside the run (metrics_at_<count>.json): the run
                # itself moves on to the next count.
                snapshot = os.path.join(out_dir, f"metrics_at_{iterations}.json")
                values = bench_common.finished(out_dir, "style_entropy_judge")
                if values is None or values.get("iterations") != iterations:
                    values = files.read_json(snapshot) if os.path.exists(snapshot) else None
                if values is not None:
                    wall = 0.0  # finished by an interrupted run of this benchmark
                elif bench_common.COLLECT_ONLY:
                    continue
                else:
                    wall, _, values = bench_common.run_script(
                        CAN_DIR, "train.py", command, out_dir, fresh=i == 0
                    )
                    files.write_json(snapshot, values)
                rows.append(
                    {
                        "tag": tag,
                        "model": name,
                        "seed": seed,
                        "iterations": iterations,
                        "minutes": wall / 60,
                        "command": "python train.py " + " ".join(command),
                        "data_source": values.get("data_source"),
                        **{k: values.get(k) for k in QUALITY_KEYS},
                    }
                )
                print(
                    {
                        k: rows[-1][k]
                        for k in ("model", "seed", "iterations", "style_entropy_judge", "diversity_ratio")
                    },
                    flush=True,
                )
    return rows  # the README's CAN figures come from `make report`


def seeds_markdown(rows):
    last = max(r["iterations"] for r in rows)
    first = rows[0]
    batch = first["command"].split("--batch_size ")[1].split()[0]
    size = first["command"].split("--image_size ")[1].split()[0]
    lines = [
        "",
        f"## CAN against the baseline over seeds ({first['data_source']}; batch {batch}, {size}x{size})",
        "",
        "Mean ± sample standard deviation over seeds at each point of training. Real held-out images: "
        f"independent classifier's style entropy {fmt(first['style_entropy_judge_real'])}, CAN's D_c "
        f"{fmt(first['style_entropy_dc_real'])}, "
        f"realness {fmt(first['realness_heldout_real'])}; maximum style entropy "
        f"{fmt(first['style_entropy_max'])} (log K).",
        "",
        "| model | iterations | " + " | ".join(k[1] for k in SEED_KEYS) + " |",
        "|---|---|" + "---|" * len(SEED_KEYS),
    ]
    for tag, name, _ in SEED_MODELS:
        for iterations in sorted({r["iterations"] for r in rows}):
            mine = [r for r in rows if r["tag"] == tag and r["iterations"] == iterations]
            if mine:
                lines.append(
                    f"| {name} | {iterations} | "
                    + " | ".join(bench_common.spread([r[k] for r in mine], d) for k, _, d in SEED_KEYS)
                    + " |"
                )
    per_seed = "; ".join(
        f"{r['model']} at {r['iterations']}, seed {r['seed']}: {fmt(r['style_entropy_judge'])} / "
        f"{fmt(r['diversity_ratio'])}"
        for r in sorted(rows, key=lambda r: (r["tag"], r["iterations"], r["seed"]))
    )
    lines += [
        "",
        f"Per run (style entropy under the independent classifier / diversity ratio): {per_seed}.",
        "",
        "Commands (in `can/`): "
        + "; ".join(
            sorted(
                {
                    f"`{r['command'].replace(' --seed ' + str(r['seed']), ' --seed S')}`"
                    for r in rows
                    if r["iterations"] == last
                }
            )
        ),
    ]
    return lines


def markdown(results):
    lines = []
    if results.get("speed"):
        lines += [
            "## Speed (2 CPU cores, 64x64, one D step + 2 G steps per iteration, compilation excluded)",
            "",
            "| batch | XLA | s / iteration | images / s | convolutions alone (s) | ratio |",
            "|---|---|---|---|---|---|",
        ]
        for r in results["speed"]:
            lines.append(
                f"| {r['batch']} | {'yes' if r['jit'] else 'no'} | {r['seconds_per_iteration']:.2f} | "
                f"{r['images_per_second']:.0f} | {r['conv_only_seconds']:.2f} | "
                f"{r['ratio_to_conv_only']:.2f} |"
            )
    if results.get("quality"):
        q = results["quality"]
        lines += [
            "",
            f"## CAN against the baseline, same seed ({fmt(q[0]['iterations'])} iterations; "
            f"{q[0]['data_source']})",
            "",
            f"Style entropy: at most {fmt(q[0]['style_entropy_max'])} (log K). Real held-out images: CAN's "
            "D_c "
            f"{fmt(q[0]['style_entropy_dc_real'])}, independent classifier "
            f"{fmt(q[0]['style_entropy_judge_real'])}; "
            f"diversity {fmt(q[0]['diversity_real'], 2)}.",
            "",
            "| model | style entropy, own D_c | style entropy, independent classifier | realness (real) | "
            "nn distance (real) | diversity | diversity / real |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in q:  # timing is the speed table's: these runs may share the machine
            lines.append(
                f"| {r['model']} | {fmt(r['style_entropy_dc'])} | {fmt(r['style_entropy_judge'])} | "
                f"{fmt(r['realness'])} ({fmt(r['realness_heldout_real'])}) | {fmt(r['nn_distance'], 2)} "
                f"({fmt(r['nn_distance_heldout_real'], 2)}) | {fmt(r['diversity'], 2)} | "
                f"{fmt(r['diversity_ratio'])} |"
            )
    if results.get("seeds"):
        lines += seeds_markdown(results["seeds"])
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--parts",
        default="speed,seeds",
        help="comma list of speed, quality (one seed, with the remedies and the softmax loss), seeds",
    )
    parser.add_argument("--speed_iterations", type=int, default=5, help="timed iterations per configuration")
    parser.add_argument("--iterations", type=int, default=300, help="training iterations of each quality run")
    parser.add_argument(
        "--batch_size", type=int, default=64, help="batch of the quality runs (train.py's default is 200)"
    )
    parser.add_argument("--seeds", default="0,1,2", help="seeds of the seeds part")
    parser.add_argument(
        "--checkpoints", default="500,1000,2000", help="iterations at which the seeds part grades each run"
    )
    parser.add_argument(
        "--seed_image_size",
        type=int,
        default=32,
        help="image size of the seeds part (the stand-in is "
        "28x28 upsampled: 32 loses nothing and is ~4x cheaper than 64)",
    )
    parser.add_argument("--data_dir", default=None, help="a WikiArt folder (default: the stand-in)")
    parser.add_argument("--work_dir", default=os.path.join(ROOT, "runs", "bench_can"), help="scratch output")
    parser.add_argument("--out", default=None, help="the JSON of results (default: see --write_docs)")
    args = bench_common.parse_args(parser, "bench_can")
    parts = {
        "speed": lambda prev: speed(prev, args),
        "quality": lambda prev: quality(prev, args),
        "seeds": lambda prev: seeds(prev, args),
    }
    started = time.perf_counter()
    bench_common.run_parts(args.out, set(args.parts.split(",")), parts, markdown, "bench_can.md")
    print(f"bench_can: {(time.perf_counter() - started) / 60:.1f} min")


if __name__ == "__main__":
    main()
