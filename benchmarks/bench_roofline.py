"""A roofline for the experiments: this machine's attainable float32 peak, measured in the same
run (a large matmul and a large convolution through TensorFlow), beside each experiment's training
step at its default and at its paper setting — FLOPs per step, seconds per step, achieved GFLOP/s,
the fraction of the measured peaks, and the process's peak RSS.

    python benchmarks/bench_roofline.py          # make bench-roofline (~10 min on 2 cores)

FLOPs per step are counted by TensorFlow's profiler (tf.compat.v1 profiler, float_operation) on
the graph of one `update` of the model, as the harness runs it: every MatMul, Conv2D and their
gradients, plus the elementwise ops (1 FLOP per element). FIGR is left out: its inner loop is a
tf.while_loop, whose body the profiler counts once instead of once per inner step. Seconds per
step come from the harness's compiled loop after a warm-up (compilation excluded), with each
experiment's script default for XLA. Each configuration runs in its own process (peak RSS is that
process's). Writes benchmarks/results/bench_roofline.{json,md} and BENCHMARKS.md. A benchmark,
not a test: nothing here asserts.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import bench_common  # next to this script

ROOT = bench_common.ROOT

# name: (experiment folder, setting, batch, XLA as the script's default, builder of (model, batch))
CONFIGS = {
    "2-d GAN": ("2D-codes", "default (pack 2)", 400, True),
    "VAE mlp 784-400-20": ("vae", "the PyTorch example's", 128, False),
    "VAE conv latent 20": ("vae", "default", 128, False),
    "InfoGAN quarter width": ("infogan", "default beyond 6,000 steps", 64, True),
    "InfoGAN full width": ("infogan", "paper (Chen et al.)", 64, True),
    "CAN 32x32 batch 64": ("can", "make report's", 64, False),
    "CAN 64x64 batch 200": ("can", "paper (seed 004)", 200, False),
}


def build(name):
    """(model, one batch as numpy arrays) of a configuration."""
    import numpy as np

    rng = np.random.default_rng(0)
    folder, _, batch, _ = CONFIGS[name]
    sys.path[:0] = [ROOT, os.path.join(ROOT, folder)]
    if folder == "2D-codes":
        from toy_models import ToyGAN, ToyGANConfig

        points = rng.normal(size=(batch, 2)).astype(np.float32)
        return ToyGAN(ToyGANConfig(pack=2, decay_steps=3000)), (
            points,
            rng.integers(0, 8, batch).astype(np.int32),
        )
    if folder == "vae":
        from vae_models import VAE, VAEConfig

        config = VAEConfig(input_shape=(28, 28, 1), latent_dim=20, arch="mlp" if "mlp" in name else "conv")
        return VAE(config), rng.uniform(size=(batch, 28, 28, 1)).astype(np.float32)
    if folder == "infogan":
        from gan_models import GANConfig, ImageGAN
        from infogan_run import WIDTHS

        g_width, d_width = WIDTHS["full" if "full" in name else "quarter"]
        model = ImageGAN(GANConfig(g_width=g_width, d_width=d_width))
        images = rng.uniform(size=(batch, 28, 28, 1)).astype(np.float32)
        return model, (images, rng.integers(0, 10, batch).astype(np.int32))
    from can_models import CAN, CANConfig

    size = 64 if "64x64" in name else 32
    images = rng.uniform(size=(batch, size, size, 3)).astype(np.float32)
    return CAN(CANConfig(image_size=size)), (images, rng.integers(0, 7, batch).astype(np.int32))


def profile_flops(tf, model, batch):
    from tensorflow.python.profiler import model_analyzer, option_builder

    spec = tf.nest.map_structure(lambda a: tf.TensorSpec(a.shape, tf.as_dtype(a.dtype)), batch)
    graph = (
        tf.function(lambda b, s: model.update(b, s))
        .get_concrete_function(spec, tf.TensorSpec((2,), tf.int64))
        .graph
    )
    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return model_analyzer.profile(graph, options=options).total_float_ops


def tensorflow_floor():
    """Peak RSS (MB) of a process that imports TensorFlow and runs one op: every row's floor."""
    code = (
        "import resource, tensorflow as tf; tf.reduce_sum(tf.ones((8, 8))).numpy(); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return float(proc.stdout.strip().splitlines()[-1])


def one(name, steps):
    """Measures one configuration in this process; prints its row as JSON."""
    import dataclasses

    sys.path.insert(0, ROOT)
    from common import harness, tf_env

    tf = tf_env.import_tensorflow()
    tf_env.quiet_grappler(tf)
    _, _, batch_size, jit = CONFIGS[name]
    model, batch = build(name)
    flops = profile_flops(tf, model, batch)
    data = tf.data.Dataset.from_tensors(batch).repeat()
    with tempfile.TemporaryDirectory() as out:
        train = harness.TrainConfig(
            out_dir=out, steps=2, log_every=10**6, checkpoint_every=10**6, progress=False, jit_compile=jit
        )
        trainer = harness.Trainer(lambda: model, data, train)
        trainer.run()  # compiles
        trainer.config = dataclasses.replace(train, steps=2 + steps)
        result = trainer.run()
    seconds = 1.0 / result.steps_per_second
    print(
        json.dumps(
            {
                "name": name,
                "gflop_per_step": flops / 1e9,
                "seconds_per_step": seconds,
                "gflops": flops / 1e9 / seconds,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "xla": jit,
                "batch": batch_size,
            }
        )
    )


def peaks(repeats=5):
    """GFLOP/s of float32 matmuls (2048², 4096²) and of a 5x5 convolution (64x64x64 -> 128, batch
    32) through TensorFlow, best of `repeats` after a warm-up."""
    sys.path.insert(0, ROOT)
    from common import tf_env

    tf = tf_env.import_tensorflow()
    out = {}
    for n in (2048, 4096):
        a = tf.random.normal((n, n))
        f = tf.function(lambda x: tf.linalg.matmul(x, x))
        f(a).numpy()
        best = min(_timed(lambda f=f, a=a: f(a).numpy()) for _ in range(repeats))
        out[f"matmul_{n}"] = 2 * n**3 / best / 1e9
    x = tf.random.normal((32, 64, 64, 64))
    w = tf.random.normal((5, 5, 64, 128))
    conv = tf.function(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"))
    conv(x, w).numpy()
    best = min(_timed(lambda: conv(x, w).numpy()) for _ in range(repeats))
    out["conv_5x5"] = 2 * 32 * 64 * 64 * 64 * 128 * 25 / best / 1e9
    return out


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def markdown(result):
    p = result["peaks"]
    matmul, conv = max(p["matmul_2048"], p["matmul_4096"]), p["conv_5x5"]
    lines = [
        f"Measured in the same run: float32 matmul {p['matmul_2048']:.0f} GFLOP/s (2048²) and "
        f"{p['matmul_4096']:.0f} GFLOP/s (4096²), 5×5 convolution {conv:.0f} GFLOP/s (batch 32, "
        f"64×64×64 → 128); {result['cores']} cores, load average {result['load'][0]:.1f} before / "
        f"{result['load'][1]:.1f} after. A process that imports TensorFlow and runs one op peaks at "
        f"{result.get('tensorflow_rss_mb', float('nan')):.0f} MB RSS (the floor of every row). FLOPs per "
        "step: TensorFlow's profiler on one `update` graph (FIGR left out: its inner while-loop is "
        "counted once). Fractions are of the matmul peak and of the convolution peak.",
        "",
        "| experiment | setting | batch | XLA | GFLOP / step | s / step | GFLOP/s | % matmul peak | "
        "% conv peak | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        _, setting, _, _ = CONFIGS[r["name"]]
        lines.append(
            f"| {r['name']} | {setting} | {r['batch']} | {'on' if r['xla'] else 'off'} | "
            f"{r['gflop_per_step']:.3g} | {r['seconds_per_step']:.4f} | {r['gflops']:.1f} | "
            f"{100 * r['gflops'] / matmul:.0f} | {100 * r['gflops'] / conv:.0f} | {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per configuration")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma list of configuration names")
    args = parser.parse_args()
    if args.one:
        one(args.one, args.steps)
        return
    load = [os.getloadavg()[0]]
    result = {"peaks": peaks(), "rows": [], "cores": os.cpu_count(), "tensorflow_rss_mb": tensorflow_floor()}
    for name in args.configs.split(","):
        proc = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--one", name, "--steps", str(args.steps)],
            capture_output=True,
            text=True,
            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
        )
        if proc.returncode != 0:
            print(f"{name}: failed: {proc.stderr[-1500:]}", file=sys.stderr)
            continue
        result["rows"].append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(result["rows"][-1], flush=True)
    load.append(os.getloadavg()[0])
    result["load"] = load
    sys.path.insert(0, ROOT)
    from common import io

    io.write_json(os.path.join(bench_common.RESULTS, "bench_roofline.json"), result)
    bench_common.publish("bench_roofline.md", markdown(result))


if __name__ == "__main__":
    main()
