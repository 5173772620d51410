"""A roofline for the experiments, before and after a change: this machine's attainable float32
peak (a large matmul and a large convolution through TensorFlow) beside each experiment's training
step at its default and at its paper setting — FLOPs per step, seconds per step, achieved
GFLOP/s, the fraction of the measured peaks, the process's peak RSS — and, with --before REV, the
same steps of the code at git revision REV measured in the same run (one configuration after the
other, alternating), plus whole VAE runs of both trees (seconds per epoch, peak RSS).

    python -m benchmarks.bench_roofline                  # make bench-roofline (~10 min on 2 cores)
    python -m benchmarks.bench_roofline --before 509aca0 # before/after columns (~20 min)

FLOPs per step are counted by TensorFlow's profiler (tf.compat.v1 profiler, float_operation) on
the graph of one `update` of the model, as the harness runs it: every MatMul, Conv2D and their
gradients, plus the elementwise ops (1 FLOP per element). The profiler does not enter FIGR's
inner tf.while_loop: one inner step is counted on its own graph and multiplied by the inner
steps (plus the meta step outside the loop). Seconds per step come from the
harness's compiled loop after a warm-up (compilation excluded), with XLA as each tree's entry
script sets it by default. Each configuration runs in its own process; its peak RSS is that
process's high-water mark (VmHWM). The per-op profile (where a step's time goes) runs without
XLA, whose compiled clusters hide the ops. Writes benchmarks/results/bench_roofline.{json,md} and
BENCHMARKS.md. A benchmark, not a test: nothing here asserts.
"""

import argparse
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

# Measuring children run this file directly with another tree's code on PYTHONPATH: only the
# parent imports the benchmarks package (inside main()).
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The package each experiment folder is imported as (2D-codes keeps the report's folder name).
PACKAGES = {
    "2D-codes": "toy2d",
    "vae": "vae",
    "infogan": "infogan",
    "figr": "figr",
    "can": "can",
    "diffusion": "diffusion",
}

# name: (experiment folder, setting, batch)
CONFIGS = {
    "2-d GAN": ("2D-codes", "default (pack 2)", 400),
    "VAE mlp 784-400-20": ("vae", "the PyTorch example's", 128),
    "VAE conv latent 20": ("vae", "default", 128),
    "InfoGAN quarter width": ("infogan", "default beyond 6,000 steps", 64),
    "InfoGAN full width": ("infogan", "paper (Chen et al.)", 64),
    "FIGR dcgan 32x32": ("figr", "default (R1 10; 4 shots, 10 inner steps)", 4),
    # Reptile's batched form: 8 tasks' inner loops as one (grouped convolutions, batched matmuls)
    "FIGR dcgan 32x32 meta-batch 8": ("figr", "`--meta_batch 8` (8 tasks of 4 shots per step)", 4),
    "CAN 32x32 batch 64": ("can", "make report's", 64),
    "CAN 64x64 batch 200": ("can", "paper (Ahn et al.)", 200),
    # --mixed_precision on a CPU: bfloat16 compute (oneDNN uses AMX tiles where the CPU has them)
    "InfoGAN full width bfloat16": ("infogan", "paper, `--mixed_precision --nojit`", 64),
    "CAN 64x64 batch 200 bfloat16": ("can", "paper, `--mixed_precision`", 200),
    "diffusion U-Net 32-64-128": ("diffusion", "default (XLA)", 128),
    "diffusion U-Net 32-64-128 bfloat16": ("diffusion", "`--mixed_precision` (oneDNN, no XLA)", 128),
    "diffusion U-Net 16-32-64": ("diffusion", "the league's widths (XLA)", 64),
    "diffusion U-Net 16-32-64 bfloat16": ("diffusion", "the league's recipe, `--mixed_precision`", 64),
}
MIXED = " bfloat16"
PROFILED = ("InfoGAN full width", "CAN 64x64 batch 200")
# Whole runs of VAE.py (data, training, evaluation): its per-epoch speed and memory targets.
VAE_RUNS = {
    "mlp": ["--dataset", "fashion-mnist", "--arch", "mlp", "--epochs", "3", "--nojudge"],
    "conv": ["--dataset", "fashion-mnist", "--arch", "conv", "--epochs", "3", "--nojudge"],
}


def packaged(root, folder):
    """Whether the tree at `root` has its experiments as packages (since issue 24) rather than
    folders of scripts that import each other by bare name."""
    return os.path.exists(os.path.join(root, folder, "__init__.py"))


def tree_path(root, folder):
    """PYTHONPATH for a child measuring `folder` of the tree at `root`."""
    return os.pathsep.join([root] if packaged(root, folder) else [root, os.path.join(root, folder)])


def experiment_module(root, folder, name):
    """Module `name` of an experiment folder of the tree at `root`, whichever layout it has. A
    package is loaded from that tree's files even where this tree's is installed."""
    if not packaged(root, folder):
        return importlib.import_module(name)  # the folder is on PYTHONPATH (tree_path)
    package = PACKAGES[folder]
    if package not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            package,
            os.path.join(root, folder, "__init__.py"),
            submodule_search_locations=[os.path.join(root, folder)],
        )
        sys.modules[package] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[package])
    return importlib.import_module(f"{package}.{name}")


def default_xla(root, folder, spec_class):
    """Whether the entry script of `folder` in the tree at `root` compiles with XLA by default
    (its spec's --jit; None: on, bar bfloat16 on a CPU, which `one` handles)."""
    default = getattr(experiment_module(root, folder, "spec"), spec_class).__dataclass_fields__["jit"].default
    return True if default is None else bool(default)


def build(name, root):
    """(model, one batch as numpy arrays, XLA as the tree's entry script sets it by default,
    FIGR's inner steps per update or 0) of a configuration, from the library code under `root`."""
    import numpy as np

    rng = np.random.default_rng(0)
    folder, _, batch = CONFIGS[name]
    name = name.removesuffix(MIXED)
    if folder == "2D-codes":
        toy_models = experiment_module(root, folder, "toy_models")
        ToyGAN, ToyGANConfig = toy_models.ToyGAN, toy_models.ToyGANConfig

        points = rng.normal(size=(batch, 2)).astype(np.float32)
        labels = rng.integers(0, 8, batch).astype(np.int32)
        xla = default_xla(root, folder, "ToySpec")
        return ToyGAN(ToyGANConfig(pack=2, decay_steps=3000)), (points, labels), xla, 0
    if folder == "vae":
        vae_run = experiment_module(root, folder, "vae_run")
        vae_models = experiment_module(root, folder, "vae_models")
        VAE, VAEConfig = vae_models.VAE, vae_models.VAEConfig

        arch = "mlp" if "mlp" in name else "conv"
        spec = vae_run.VAERunSpec(out_dir="", arch=arch)
        xla = bool(getattr(spec, "use_xla", False))  # trees before --jit: no XLA
        config = VAEConfig(input_shape=(28, 28, 1), latent_dim=20, arch=arch)
        return VAE(config), rng.uniform(size=(batch, 28, 28, 1)).astype(np.float32), xla, 0
    if folder == "infogan":
        infogan_run = experiment_module(root, folder, "infogan_run")
        gan_models = experiment_module(root, folder, "gan_models")
        GANConfig, ImageGAN = gan_models.GANConfig, gan_models.ImageGAN

        g_width, d_width = infogan_run.WIDTHS["full" if "full" in name else "quarter"]
        model = ImageGAN(GANConfig(g_width=g_width, d_width=d_width))
        images = rng.uniform(size=(batch, 28, 28, 1)).astype(np.float32)
        xla = default_xla(root, folder, "GANRunSpec")
        return model, (images, rng.integers(0, 10, batch).astype(np.int32)), xla, 0
    if folder == "figr":
        figr_models = experiment_module(root, folder, "figr_models")
        FIGR, FIGRConfig = figr_models.FIGR, figr_models.FIGRConfig

        meta_batch = int(name.rsplit(" ", 1)[-1]) if "meta-batch" in name else 1
        config = FIGRConfig(meta_batch=meta_batch) if meta_batch > 1 else FIGRConfig()
        tasks = rng.uniform(size=(meta_batch, batch, 32, 32, 1)).astype(np.float32)
        return FIGR(config), tasks, False, config.inner_steps
    if folder == "diffusion":
        diffusion_models = experiment_module(root, folder, "diffusion_models")
        channels = (16, 32, 64) if "16-32-64" in name else (32, 64, 128)
        model = diffusion_models.Diffusion(diffusion_models.DiffusionConfig(channels=channels))
        images = rng.uniform(size=(batch, 28, 28, 1)).astype(np.float32)
        return model, (images, rng.integers(0, 10, batch).astype(np.int32)), True, 0  # XLA: its default
    can_models = experiment_module(root, folder, "can_models")
    CAN, CANConfig = can_models.CAN, can_models.CANConfig

    size = 64 if "64x64" in name else 32
    images = rng.uniform(size=(batch, size, size, 3)).astype(np.float32)
    return CAN(CANConfig(image_size=size)), (images, rng.integers(0, 7, batch).astype(np.int32)), False, 0


def graph_flops(tf, fn, *specs):
    from tensorflow.python.profiler import model_analyzer, option_builder

    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    graph = tf.function(fn).get_concrete_function(*specs).graph
    return model_analyzer.profile(graph, options=options).total_float_ops


def profile_flops(tf, model, batch, inner_steps):
    """FLOPs of one update. The profiler does not enter a tf.while_loop's body (FIGR's inner
    loop): there, one inner step (D's and G's loss with their gradients, R1's double backward
    included) is counted on its own graph and multiplied by the inner steps."""
    spec = tf.nest.map_structure(lambda a: tf.TensorSpec(a.shape, tf.as_dtype(a.dtype)), batch)
    seed = tf.TensorSpec((2,), tf.int64)
    flops = graph_flops(tf, model.update, spec, seed)
    if inner_steps:

        def inner_step(tasks, seed):
            # one task, or a meta-batch's tasks at once (their stacked weights, as adapt runs them)
            real, (g_weights, d_weights) = tasks * 2.0 - 1.0, model.meta_weights()
            if tasks.shape[0] == 1:
                real = real[0]
            else:
                g_weights, d_weights = (model.for_tasks(ws, tasks.shape[0]) for ws in (g_weights, d_weights))
            with tf.GradientTape() as tape:
                tape.watch(d_weights)
                d_loss = model.d_loss(d_weights, g_weights, real, seed)
            with tf.GradientTape() as tape_g:
                tape_g.watch(g_weights)
                examples = tf.shape(real)[0] if real.shape.rank == 4 else tf.shape(real)[:-3]
                g_loss = model.g_loss(g_weights, d_weights, examples, seed)
            return tape.gradient(d_loss, d_weights), tape_g.gradient(g_loss, g_weights)

        flops += inner_steps * graph_flops(tf, inner_step, spec, seed)
    return flops


def peak_rss_mb():
    """This process's RSS high-water mark (VmHWM: the memory of this program alone, unlike
    ru_maxrss, which Linux carries over from the process that forked it)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def tensorflow_floor():
    """Peak RSS (MB) of a process that imports TensorFlow and runs one op: every row's floor."""
    return _child(["--floor_only"])


def tensorflow_as_script(name, root):
    """TensorFlow of the tree at `root`, set up as the configuration's entry script sets it up:
    grappler's remapper off for CAN and FIGR (as can/train.py and figr/train.py), bfloat16 for the
    --mixed_precision rows."""
    from common import tf_env

    tf = tf_env.import_tensorflow()
    if CONFIGS[name][0] in ("can", "figr"):
        tf_env.quiet_grappler(tf)
    if name.endswith(MIXED):
        import keras

        keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    return tf


def one(name, root, steps, xla_override=None):
    """Measures one configuration in this process with the code under `root`; prints a JSON row."""
    import dataclasses

    tf = tensorflow_as_script(name, root)
    from common import harness

    model, batch, xla, inner = build(name, root)
    # XLA's CPU backend computes bfloat16 without AMX: slower than oneDNN (measured 171 vs 126 ms)
    xla = xla and not name.endswith(MIXED) if xla_override is None else xla_override
    flops = profile_flops(tf, model, batch, inner)
    data = tf.data.Dataset.from_tensors(batch).repeat()
    with tempfile.TemporaryDirectory() as out:
        train = harness.TrainConfig(
            out_dir=out, steps=2, log_every=10**6, checkpoint_every=10**6, progress=False, jit_compile=xla
        )
        trainer = harness.Trainer(lambda: model, data, train)
        trainer.run()  # compiles
        # Two timed runs (`steps` steps, then at least ~2 s); the faster counts: a shared machine
        # only ever slows a run down.
        done, timings, count = 2, [], steps
        for _ in range(2):
            done += count
            trainer.config = dataclasses.replace(train, steps=done)
            timings.append(1.0 / trainer.run().steps_per_second)
            count = max(steps, int(2.0 / timings[-1]) + 1)  # the second run lasts ~2 s or more
    seconds = min(timings)
    sampling = diffusion_sampling(tf, model, root) if CONFIGS[name][0] == "diffusion" else {}
    row = {
        "name": name,
        "gflop_per_step": flops / 1e9,
        "seconds_per_step": seconds,
        "gflops": flops / 1e9 / seconds,
        "peak_rss_mb": peak_rss_mb(),
        "xla": xla,
        "batch": CONFIGS[name][2],
        **sampling,
    }
    print(json.dumps(row))


def diffusion_sampling(tf, model, root, images=250):
    """Sampling cost of a diffusion model as its run samples (the spec's default DDIM steps and
    guidance, `images` per call as diffusion_run.generate): ms per image, best of two calls after
    a warm-up, and the network evaluations per image (two per step with guidance: the class and
    'none' in one batch)."""
    import numpy as np

    fields = experiment_module(root, "diffusion", "spec").DiffusionRunSpec.__dataclass_fields__
    steps, guidance = fields["sample_steps"].default, fields["guidance"].default
    sample = tf.function(model.sample, autograph=False)
    labels = tf.constant(np.arange(images) % 10, tf.int32)
    call = lambda: sample(labels, tf.constant(steps), guidance, tf.constant([0, 1], tf.int64)).numpy()  # noqa: E731
    call()
    best = min(_timed(call) for _ in range(2))
    return {
        "sample_ms_per_image": 1000 * best / images,
        "sample_steps": steps,
        "sample_network_calls": steps * (2 if guidance else 1),
    }


# Op types of TensorFlow's CPU kernels (oneDNN's _Mkl* names included), by what they do; every op
# under an optimizer's name scope counts as the optimizer's (Keras's Adam is ~10 elementwise ops
# per variable).
OP_KINDS = (
    ("optimizer", ()),
    ("convolution", ("Conv2D", "Conv2DBackprop", "DepthwiseConv")),
    ("matmul", ("MatMul", "BatchMatMul", "Einsum")),
    ("batch norm", ("FusedBatchNorm", "Mean", "SquaredDifference", "Rsqrt")),
    ("pooling", ("Pool",)),
)
OPTIMIZER_SCOPES = ("adam", "sgd", "optimizer")


def op_kind(label):
    """The kind of a profiler event 'node/name:OpType'."""
    node, _, op_type = label.rpartition(":")
    if any(scope in node.lower() for scope in OPTIMIZER_SCOPES):
        return "optimizer"
    for kind, names in OP_KINDS:
        if any(n in op_type for n in names):
            return kind
    return "other elementwise / data movement"


def profile_ops(name, steps=3):
    """Where one step's time goes, without XLA: the TensorFlow profiler's trace of `steps` updates,
    op time summed by kind (ms per step; on 2 cores two inter-op threads run ops side by side, so
    the op times add up to more than the wall time). Prints a JSON row."""
    import collections
    import glob

    tf = tensorflow_as_script(name, ROOT)
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    model, batch, _, _ = build(name, ROOT)
    update = tf.function(model.update)
    seed = tf.constant([0, 1], tf.int64)
    for _ in range(2):
        update(batch, seed)
    logdir = tempfile.mkdtemp()
    try:
        tf.profiler.experimental.start(logdir)
        started = time.perf_counter()
        for _ in range(steps):
            losses = update(batch, seed)
        tf.nest.map_structure(lambda t: t.numpy(), losses)
        wall = (time.perf_counter() - started) / steps
        tf.profiler.experimental.stop()
        space = xplane_pb2.XSpace()
        with open(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)[0], "rb") as f:
            space.ParseFromString(f.read())
    finally:
        shutil.rmtree(logdir, ignore_errors=True)
    kinds = collections.Counter()
    for plane in space.planes:
        names = {key: meta.name for key, meta in plane.event_metadata.items()}
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                label = names.get(event.metadata_id, "")
                if label and label != "ExecutorState::Process":
                    kinds[op_kind(label)] += event.duration_ps / 1e9 / steps
    print(json.dumps({"name": name, "wall_ms": wall * 1000, "op_ms": dict(kinds)}))


def peaks(repeats=5):
    """GFLOP/s of float32 matmuls (2048², 4096²) and of a 5x5 convolution (64x64x64 -> 128, batch
    32) through TensorFlow, best of `repeats` after a warm-up; the same matmul (2048²) and
    convolution in bfloat16. Prints them as JSON."""
    from common import tf_env

    tf = tf_env.import_tensorflow()
    out = {}
    for dtype, suffix, sizes in ((tf.float32, "", (2048, 4096)), (tf.bfloat16, "_bf16", (2048,))):
        for n in sizes:
            a = tf.cast(tf.random.normal((n, n)), dtype)
            f = tf.function(lambda x: tf.linalg.matmul(x, x))
            f(a).numpy()
            best = min(_timed(lambda f=f, a=a: f(a).numpy()) for _ in range(repeats))
            out[f"matmul_{n}{suffix}"] = 2 * n**3 / best / 1e9
        x = tf.cast(tf.random.normal((32, 64, 64, 64)), dtype)
        w = tf.cast(tf.random.normal((5, 5, 64, 128)), dtype)
        conv = tf.function(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"))
        conv(x, w).numpy()
        best = min(_timed(lambda conv=conv, x=x, w=w: conv(x, w).numpy()) for _ in range(repeats))
        out[f"conv_5x5{suffix}"] = 2 * 32 * 64 * 64 * 64 * 128 * 25 / best / 1e9
    print(json.dumps(out))


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _child(args, root=ROOT, folder="vae"):
    """Runs this file with `args` in a fresh process on the code of the tree at `root`; returns
    its last stdout line as JSON."""
    command = [sys.executable, os.path.abspath(__file__), *args]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=tree_path(root, folder))
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {proc.stderr[-1500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def vae_run(root, arch, work):
    """A whole VAE.py run of the tree at `root`: seconds per epoch and the process's peak RSS."""
    from benchmarks import bench_common

    out_dir = os.path.join(work, f"vae-{arch}")
    env = {"PYTHONPATH": tree_path(root, "vae")}
    _, rss, metrics = bench_common.run_script(
        os.path.join(root, "vae"), "VAE.py", VAE_RUNS[arch], out_dir, env
    )
    shutil.rmtree(out_dir, ignore_errors=True)
    return {"seconds_per_epoch": metrics["seconds_per_epoch"], "peak_rss_mb": rss}


def before_tree(rev):
    """A detached git worktree of `rev` in a temporary folder (removed by the caller)."""
    path = tempfile.mkdtemp(prefix="roofline-before-")
    os.rmdir(path)
    subprocess.run(
        ["git", "-C", ROOT, "worktree", "add", "--detach", path, rev], check=True, capture_output=True
    )
    commit = subprocess.run(
        ["git", "-C", path, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return path, commit.stdout.strip()


def same_code(rev):
    """{experiment folder: True when it and common/ are the same at `rev` as in this tree}: there
    a before/after ratio measures this machine's run-to-run spread, not a change."""
    out = {}
    for folder in sorted({f for f, _, _ in CONFIGS.values()}):
        diff = subprocess.run(["git", "-C", ROOT, "diff", "--quiet", rev, "--", folder, "common"])
        out[folder] = diff.returncode == 0
    return out


def markdown(result):
    p = result["peaks"]
    matmul, conv = max(p["matmul_2048"], p["matmul_4096"]), p["conv_5x5"]
    before = result.get("before")
    lines = [
        f"Measured in one run: float32 matmul {p['matmul_2048']:.0f} GFLOP/s (2048²) and "
        f"{p['matmul_4096']:.0f} GFLOP/s (4096²), 5×5 convolution {conv:.0f} GFLOP/s (batch 32, "
        f"64×64×64 → 128); in bfloat16 {p['matmul_2048_bf16']:.0f} (2048² matmul) and "
        f"{p['conv_5x5_bf16']:.0f} GFLOP/s (the convolution); {result['cores']} cores, load average "
        f"{result['load'][0]:.1f} before / "
        f"{result['load'][1]:.1f} after. A process that imports TensorFlow and runs one op peaks at "
        f"{result['tensorflow_rss_mb']:.0f} MB RSS (the floor of every row). FLOPs per step: "
        "TensorFlow's profiler on one `update` graph (FIGR: one inner step's graph × 10, plus the meta "
        "step). "
        "Fractions are of the larger matmul peak and of the convolution peak (of the bfloat16 "
        "peaks for the bfloat16 rows). XLA: as each entry script's default."
        + (
            f" Before = commit {before['commit']}, measured in the same run, each configuration "
            'right after the other; "same code": the experiment\'s folder and common/ are identical in '
            "both trees, so that ratio is the machine's run-to-run spread."
            if before
            else ""
        ),
        "",
    ]
    head = (
        "| experiment | setting | batch | XLA | GFLOP / step | s / step | GFLOP/s | % matmul peak | "
        "% conv peak | peak RSS (MB) |"
    )
    if before:
        head = (
            "| experiment | setting | batch | XLA before → after | GFLOP / step | s / step before | "
            "s / step after | speed-up | GFLOP/s | % matmul peak | % conv peak | "
            "peak RSS before → after (MB) |"
        )
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    old = {r["name"]: r for r in (before or {}).get("rows", [])}
    for r in result["rows"]:
        _, setting, _ = CONFIGS[r["name"]]
        xla = "on" if r["xla"] else "off"
        mm, cv = (p["matmul_2048_bf16"], p["conv_5x5_bf16"]) if r["name"].endswith(MIXED) else (matmul, conv)
        tail = f"{r['gflops']:.1f} | {100 * r['gflops'] / mm:.0f} | {100 * r['gflops'] / cv:.0f} | "
        if before and r["name"] in old:
            b = old[r["name"]]
            lines.append(
                f"| {r['name']} | {setting} | {r['batch']} | {'on' if b['xla'] else 'off'} → {xla} | "
                f"{r['gflop_per_step']:.3g} | {b['seconds_per_step']:.4f} | {r['seconds_per_step']:.4f} | "
                f"{b['seconds_per_step'] / r['seconds_per_step']:.2f}×"
                f"{' (same code)' if before.get('same_code', {}).get(CONFIGS[r['name']][0]) else ''} | {tail}"
                f"{b['peak_rss_mb']:.0f} → {r['peak_rss_mb']:.0f} |"
            )
        elif before:  # a configuration the before tree cannot run (a new option): after only
            lines.append(
                f"| {r['name']} | {setting} | {r['batch']} | — → {xla} | {r['gflop_per_step']:.3g} | — | "
                f"{r['seconds_per_step']:.4f} | — | {tail}— → {r['peak_rss_mb']:.0f} |"
            )
        else:
            lines.append(
                f"| {r['name']} | {setting} | {r['batch']} | {xla} | {r['gflop_per_step']:.3g} | "
                f"{r['seconds_per_step']:.4f} | {tail}{r['peak_rss_mb']:.0f} |"
            )
    sampled = [r for r in result["rows"] if "sample_ms_per_image" in r]
    if sampled:
        lines += [
            "",
            "Sampling cost of the diffusion rows as their runs sample (DDIM, the default steps and "
            "guidance weight; classifier-free guidance evaluates the network twice per step, the "
            "class and 'none' in one batch; 250 images per call):",
            "",
            "| experiment | DDIM steps | network evaluations / image | ms / image |",
            "|---|---|---|---|",
        ]
        for r in sampled:
            lines.append(
                f"| {r['name']} | {r['sample_steps']} | {r['sample_network_calls']} | "
                f"{r['sample_ms_per_image']:.1f} |"
            )
    if result.get("vae_runs"):
        lines += [
            "",
            "Whole VAE runs (`python VAE.py " + " ".join(VAE_RUNS["mlp"]) + "`, and `--arch conv`): "
            "seconds per epoch over the run (the first epoch's tracing and compilation included) "
            "and the process's peak RSS (training, evaluation and figures).",
            "",
            "| arch | s / epoch before | s / epoch after | speed-up | peak RSS before (MB) | "
            "peak RSS after (MB) |",
            "|---|---|---|---|---|---|",
        ]
        for arch, runs in result["vae_runs"].items():
            b, a = runs.get("before"), runs["after"]
            if b:
                lines.append(
                    f"| {arch} | {b['seconds_per_epoch']:.2f} | {a['seconds_per_epoch']:.2f} | "
                    f"{b['seconds_per_epoch'] / a['seconds_per_epoch']:.2f}× | {b['peak_rss_mb']:.0f} | "
                    f"{a['peak_rss_mb']:.0f} |"
                )
            else:
                lines.append(f"| {arch} | | {a['seconds_per_epoch']:.2f} | | | {a['peak_rss_mb']:.0f} |")
    if result.get("profiles"):
        kinds = [k for k, _ in OP_KINDS] + ["other elementwise / data movement"]
        lines += [
            "",
            "Where a step's time goes (TensorFlow's profiler, without XLA, ms of op time per step "
            "summed by kind; two inter-op threads run ops side by side on the 2 cores, so the sum "
            "exceeds the wall time):",
            "",
            "| experiment | wall ms / step | " + " | ".join(kinds) + " |",
            "|---|---|" + "---|" * len(kinds),
        ]
        for prof in result["profiles"]:
            cells = " | ".join(f"{prof['op_ms'].get(k, 0.0):.0f}" for k in kinds)
            lines.append(f"| {prof['name']} | {prof['wall_ms']:.0f} | {cells} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--root", default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--xla", choices=("on", "off"), help=argparse.SUPPRESS)  # with --one: override
    parser.add_argument("--profile_one", help=argparse.SUPPRESS)
    parser.add_argument("--peaks_only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--floor_only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per configuration")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma list of configuration names")
    parser.add_argument(
        "--before",
        metavar="REV",
        help="also measure the code at this git revision (a temporary worktree), in the same run",
    )
    parser.add_argument("--noprofile", action="store_true", help="skip the per-op profiles")
    parser.add_argument("--novae_runs", action="store_true", help="skip the whole VAE runs")
    parser.add_argument(
        "--write_docs",
        action="store_true",
        help="write benchmarks/results/ and BENCHMARKS.md (the make target does)",
    )
    args = parser.parse_args()  # measuring children import nothing of this tree's benchmarks
    if args.one:
        one(args.one, args.root, args.steps, None if args.xla is None else args.xla == "on")
        return
    if args.profile_one:
        profile_ops(args.profile_one)
        return
    if args.peaks_only:
        peaks()
        return
    if args.floor_only:  # the peak RSS of TensorFlow itself and one op: every row's floor
        import tensorflow as tf

        tf.reduce_sum(tf.ones((8, 8))).numpy()
        print(peak_rss_mb())
        return
    from benchmarks import bench_common

    bench_common.WRITE_DOCS = args.write_docs
    names = args.configs.split(",")
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        raise SystemExit(f"unknown configuration {unknown[0]!r}; known: {', '.join(CONFIGS)}")
    # TensorFlow runs only in children: this process stays small, so no child inherits its size.
    load = [os.getloadavg()[0]]
    result = {"peaks": _child(["--peaks_only"]), "rows": [], "cores": os.cpu_count()}
    result["tensorflow_rss_mb"] = tensorflow_floor()
    tree = None
    if args.before:
        tree, commit = before_tree(args.before)
        result["before"] = {"rev": args.before, "commit": commit, "rows": [], "same_code": same_code(commit)}
    try:
        for name in names:
            for side, root in (("before", tree), ("after", ROOT)):
                if root is None:
                    continue
                try:
                    row = _child(
                        ["--one", name, "--root", root, "--steps", str(args.steps)], root, CONFIGS[name][0]
                    )
                except RuntimeError as error:
                    print(f"{name} ({side}): failed: {error}", file=sys.stderr)
                    continue
                (result["before"]["rows"] if side == "before" else result["rows"]).append(row)
                print(side, row, flush=True)
        if not args.novae_runs:
            result["vae_runs"] = {}
            with tempfile.TemporaryDirectory() as work:
                for arch in VAE_RUNS:
                    runs = {}
                    if tree:
                        runs["before"] = vae_run(tree, arch, work)
                    runs["after"] = vae_run(ROOT, arch, work)
                    result["vae_runs"][arch] = runs
                    print("VAE", arch, runs, flush=True)
        if not args.noprofile:
            result["profiles"] = [_child(["--profile_one", name]) for name in PROFILED if name in names]
    finally:
        if tree:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", tree], capture_output=True)
    load.append(os.getloadavg()[0])
    result["load"] = load
    from common import files

    folder = bench_common.RESULTS if bench_common.WRITE_DOCS else bench_common.SCRATCH
    files.write_json(os.path.join(folder, "bench_roofline.json"), result)
    bench_common.publish("bench_roofline.md", markdown(result))


if __name__ == "__main__":
    main()
