"""Our MLP VAE beside the PyTorch example it reproduces (pytorch/examples, vae/main.py): the same
784-400-20 network, data (Fashion-MNIST, x / 255), batch (128), epochs (10) and test -ELBO (a
single-sample estimate averaged over the 10,000 test images), in one run on this machine.

    python -m benchmarks.bench_vae_torch --repeats 5        # ~25 min here
    python -m benchmarks.bench_vae_torch --torch_python /path/to/venv/bin/python

PyTorch is never a dependency of this package: without --torch_python the benchmark makes a
scratch virtual environment under runs/benchmarks/torch-venv and installs torch there (`pip install
torch==2.13.0 numpy`, the CPU wheel). The PyTorch side is benchmarks/torch_vae_reference.py.

Our side runs VAE.py as a user does, with the two settings where the example differs from Keras:
its initialisation (--init fan_in, PyTorch's uniform +-1/sqrt(fan in) for weights and biases, the
MLP's default since this comparison; --init glorot, Keras' Glorot-uniform weights and zero biases,
the default before) and its Adam epsilon
(1e-8 on a loss summed over the batch: about 1e-8 / 128 on our loss, the batch's mean:
--adam_epsilon 7.8125e-11). Repetitions are interleaved (each repetition runs every variant, in
turn, with its own seed), so a slower or busier minute of the machine falls on all of them;
differences to the PyTorch example are paired by repetition, with 95 % t intervals.

Time per epoch: ours is train_seconds / epochs from metrics.json (the first epoch's tracing and
compilation included, the evaluation after training not); the example's is its training loop's
time per epoch (its test pass after each epoch not included)."""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

from benchmarks import bench_common
from common import files

VAE_DIR = os.path.join(bench_common.ROOT, "vae")
REFERENCE = os.path.join(bench_common.ROOT, "benchmarks", "torch_vae_reference.py")
TORCH = "torch==2.13.0"
COMMON = [
    "--dataset", "fashion-mnist", "--arch", "mlp", "--encoding-vector-size", "20",
    "--batch_size", "128", "--nojudge", "--num_samples", "200", "--grid_size", "8",
]  # fmt: skip
OURS = {
    "ours, --init glorot": ["--init", "glorot"],
    "ours, --init fan_in (the default)": [],
    "ours, --init glorot --adam_epsilon 7.8125e-11": ["--init", "glorot", "--adam_epsilon", "7.8125e-11"],
    "ours, --init fan_in --adam_epsilon 7.8125e-11": ["--adam_epsilon", "7.8125e-11"],
}
PYTORCH = "pytorch/examples vae (PyTorch 2.13 CPU)"
KERAS = "ours, --init glorot"  # Keras' initialisation: our default until this comparison


def torch_python(given, scratch):
    """A Python with PyTorch: `given`, or a scratch virtual environment made once."""
    if given:
        return given
    venv = os.path.join(scratch, "torch-venv")
    python = os.path.join(venv, "bin", "python")
    probe = (
        subprocess.run([python, "-c", "import torch"], capture_output=True)
        if os.path.exists(python)
        else None
    )
    if probe is None or probe.returncode != 0:
        print(f"bench_vae_torch: installing {TORCH} into the scratch environment {venv} (once)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", TORCH, "numpy"], check=True)
    return python


def data_dir(given):
    if given:
        return given
    from common.image_data import IMAGE_SETS

    folder = IMAGE_SETS["fashion-mnist"].debian_dir
    if not folder or not os.path.isdir(folder):
        raise SystemExit("bench_vae_torch: no Fashion-MNIST here: pass --data_dir (its four IDX files)")
    return folder


def run_torch(python, data, epochs, seed):
    proc = subprocess.run(
        [python, REFERENCE, "--data_dir", data, "--epochs", str(epochs), "--seed", str(seed)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"torch_vae_reference failed:\n{proc.stderr[-2000:]}")
    epochs_ = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return {
        "test_neg_elbo": epochs_[-1]["test_loss"],
        "seconds_per_epoch": float(np.mean([e["seconds"] for e in epochs_])),
        "curve": [e["test_loss"] for e in epochs_],
    }


def run_ours(flags, data, epochs, seed, scratch, name):
    out = os.path.join(
        scratch, "vae_torch", name.replace(" ", "_").replace(",", "").strip("-"), f"seed{seed}"
    )
    args = [*COMMON, *flags, "--data_dir", data, "--epochs", str(epochs), "--seed", str(seed)]
    wall, rss, m = bench_common.run_script(VAE_DIR, "VAE.py", args, out)
    return {
        "test_neg_elbo": m["test_neg_elbo"],
        "seconds_per_epoch": m["train_seconds"] / epochs,
        "peak_rss_mb": rss,
    }


def paired(runs, other):
    """The mean test -ELBO difference of `runs` minus `other`, paired by repetition, with its 95 %
    t interval (reporting.stats, as the report's intervals)."""
    from reporting.stats import mean_interval

    d = mean_interval([a["test_neg_elbo"] - b["test_neg_elbo"] for a, b in zip(runs, other)])
    return f"{d.estimate:+.2f} [{d.low:+.2f}, {d.high:+.2f}]"


def markdown(result):
    rows = result["rows"]
    names = [PYTORCH, *OURS]
    lines = [
        f"Fashion-MNIST, 784-400-20, batch 128, {result['epochs']} epochs; up to {result['repeats']} "
        "interleaved repetitions (the n column; repetition r: seed r ours, r + 1 the example's); "
        f"load average {result['load_before']:.1f} before, {result['load_after']:.1f} after; 2 cores. "
        "Test -ELBO in nats per image (lower is better); differences to the PyTorch example paired "
        "by repetition, 95 % t intervals.",
        "",
        "| model | n | test -ELBO (mean, min-max) | minus the example's [95 %] | minus ours at Keras' "
        "defaults [95 %] | s / epoch (mean, min-max) | time / the example's | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    reference = rows[PYTORCH]
    for name in names:
        runs = rows.get(name)
        if not runs:
            continue
        elbo = [r["test_neg_elbo"] for r in runs]
        secs = [r["seconds_per_epoch"] for r in runs]
        base = rows.get(KERAS) or []
        own = "—" if name in (PYTORCH, KERAS) or not base else paired(runs, base)
        if name == PYTORCH:
            delta, ratio = "—", "1"
        else:
            delta = paired(runs, reference)
            ratios = [a["seconds_per_epoch"] / b["seconds_per_epoch"] for a, b in zip(runs, reference)]
            ratio = f"{np.mean(ratios):.2f}"
        rss = [r["peak_rss_mb"] for r in runs if r.get("peak_rss_mb")]
        lines.append(
            f"| {name} | {len(runs)} | {np.mean(elbo):.2f} ({min(elbo):.2f}-{max(elbo):.2f}) | "
            f"{delta} | {own} | "
            f"{np.mean(secs):.2f} ({min(secs):.2f}-{max(secs):.2f}) | {ratio} | "
            f"{f'{np.mean(rss):.0f}' if rss else '—'} |"
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats", type=int, default=5, help="interleaved repetitions (seeds) of every variant"
    )
    parser.add_argument(
        "--epochs", type=int, default=10, help="epochs of every run (the example's default: 10)"
    )
    parser.add_argument(
        "--torch_python", default=None, help="a Python with PyTorch (default: a scratch venv)"
    )
    parser.add_argument("--data_dir", default=None, help="Fashion-MNIST's IDX files (default: Debian's)")
    parser.add_argument(
        "--out", default=None, help="the JSON (default: runs/benchmarks/bench_vae_torch.json)"
    )
    parser.add_argument(
        "--variants",
        default=";".join(OURS),
        help="which of our variants run (names as in the table, separated by ';'; the example always runs); "
        "more --repeats of some of them keep the others' repetitions",
    )
    args = bench_common.parse_args(parser, "bench_vae_torch")
    scratch = bench_common.SCRATCH
    python = torch_python(args.torch_python, scratch)
    data = data_dir(args.data_dir)
    result = files.read_json(args.out, {}) or {}
    if result.get("epochs") != args.epochs:
        result = {}
    rows = result.setdefault("rows", {})
    result.update(epochs=args.epochs, load_before=result.get("load_before", os.getloadavg()[0]))
    chosen = [name.strip() for name in args.variants.split(";") if name.strip()]
    unknown = [name for name in chosen if name not in OURS]
    if unknown:
        raise SystemExit(
            f"bench_vae_torch: unknown variant(s) {', '.join(unknown)}; choose from {'; '.join(OURS)}"
        )
    for rep in range(args.repeats):
        for name in [PYTORCH, *chosen]:
            done = rows.setdefault(name, [])
            if len(done) > rep:  # an interrupted benchmark keeps what it measured
                continue
            if name == PYTORCH:
                done.append(run_torch(python, data, args.epochs, rep + 1))
            else:
                done.append(run_ours(OURS[name], data, args.epochs, rep, scratch, name))
            print(f"repetition {rep + 1}/{args.repeats}: {name}: test -ELBO {done[-1]['test_neg_elbo']:.2f}, "
                  f"{done[-1]['seconds_per_epoch']:.2f} s/epoch", flush=True)  # fmt: skip
            files.write_json(args.out, result)
    result.update(repeats=max(len(runs) for runs in rows.values()), load_after=os.getloadavg()[0])
    files.write_json(args.out, result)
    bench_common.publish("bench_vae_torch.md", markdown(result))


if __name__ == "__main__":
    main()
