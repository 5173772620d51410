"""The benchmarks' measuring tools: a command's peak RSS is its own."""

import sys

from benchmarks import bench_common, bench_report_time, bench_roofline

ALLOCATE = "import numpy as np; a = np.ones({mb} * 2**20 // 8); print(a.sum())"


def test_peak_rss_is_each_commands_own_not_the_largest_child_so_far():
    big, _, big_rss = bench_common.run_measured([sys.executable, "-c", ALLOCATE.format(mb=300)])
    small, _, small_rss = bench_common.run_measured([sys.executable, "-c", ALLOCATE.format(mb=20)])
    assert big.returncode == 0 and small.returncode == 0
    assert 300 <= big_rss < 420
    # getrusage(RUSAGE_CHILDREN) would still say >= 300 here: the largest child so far.
    assert 20 <= small_rss < 120


def test_peak_rss_does_not_include_the_parents_size():
    # This test process is big (pytest, numpy, maybe TensorFlow); the launcher's child is not.
    proc, _, rss = bench_common.run_measured([sys.executable, "-c", "print(1)"])
    assert proc.returncode == 0 and rss < 60


def test_a_failing_command_keeps_its_exit_status():
    proc, _, _ = bench_common.run_measured([sys.executable, "-c", "import sys; sys.exit(3)"])
    assert proc.returncode == 3


def test_profile_events_are_sorted_by_what_the_op_does():
    kind = bench_roofline.op_kind
    assert (
        kind("gradient_tape/d/conv2d/Conv2DBackpropFilter:_MklNativeConv2DBackpropFilterWithBias")
        == "convolution"
    )
    assert kind("generator/dense/MatMul:_MklMatMul") == "matmul"
    assert kind("adam/Sub_3:Sub") == "optimizer"  # Keras's Adam, op by op
    assert kind("StatefulPartitionedCall/ResourceApplyAdam:ResourceApplyAdam") == "optimizer"
    assert kind("discriminator/leaky_re_lu/LeakyRelu:LeakyRelu") == "other elementwise / data movement"


def _roofline_result(before):
    peaks = {"matmul_2048": 250.0, "matmul_4096": 300.0, "conv_5x5": 300.0}
    peaks.update({"matmul_2048_bf16": 1200.0, "conv_5x5_bf16": 1800.0})
    row = {"gflop_per_step": 3.0, "seconds_per_step": 0.02, "gflops": 150.0, "peak_rss_mb": 900.0}
    rows = [
        {"name": "VAE mlp 784-400-20", "xla": True, "batch": 128, **row},
        {"name": "CAN 64x64 batch 200 bfloat16", "xla": False, "batch": 200, **row},
    ]
    result = {"peaks": peaks, "rows": rows, "cores": 2, "load": [1.0, 1.5], "tensorflow_rss_mb": 705.0}
    result["vae_runs"] = {"mlp": {"after": {"seconds_per_epoch": 2.0, "peak_rss_mb": 1000.0}}}
    if before:
        slower = [dict(r, seconds_per_step=0.03, xla=False) for r in rows]
        rows.append({"name": "FIGR dcgan 32x32 meta-batch 8", "xla": False, "batch": 4, **row})  # after only
        result["before"] = {"rev": "abc", "commit": "abc1234", "rows": slower}
        result["vae_runs"]["mlp"]["before"] = {"seconds_per_epoch": 3.0, "peak_rss_mb": 1200.0}
    return result


def test_roofline_table_with_and_without_a_before_revision():
    alone = bench_roofline.markdown(_roofline_result(before=False))
    assert (
        "| VAE mlp 784-400-20 | the PyTorch example's | 128 | on | 3 | 0.0200 | 150.0 | 50 | 50 | 900 |"
        in alone
    )
    # bfloat16 rows are measured against the bfloat16 peaks
    assert "| 150.0 | 12 | 8 | 900 |" in alone
    paired = bench_roofline.markdown(_roofline_result(before=True))
    assert "commit abc1234" in paired
    assert "| off → on | 3 | 0.0300 | 0.0200 | 1.50× |" in paired
    assert "| mlp | 3.00 | 2.00 | 1.50× | 1200 | 1000 |" in paired
    # a row the before tree could not run keeps the table's columns, its before cells empty
    figr = next(line for line in paired.splitlines() if line.startswith("| FIGR"))
    header = next(line for line in paired.splitlines() if line.startswith("| experiment"))
    assert figr.count("|") == header.count("|") and "| — → off | 3 | — | 0.0200 | — |" in figr


def test_every_roofline_configuration_builds_from_this_tree():
    """bench_roofline names each experiment's modules and spec fields itself: a rename in an
    experiment must not leave its rows failing only when the benchmark runs."""
    from tests.conftest import ROOT

    first = {}  # one configuration per experiment folder (the modules and fields it reads)
    for name, (folder, _, _) in bench_roofline.CONFIGS.items():
        first.setdefault(folder, name)
    for name in [*first.values(), "FIGR dcgan 32x32 meta-batch 8", "diffusion U-Net 16-32-64"]:
        model, batch, xla, inner = bench_roofline.build(name, ROOT)
        assert isinstance(xla, bool) and model is not None, name
        assert inner == (10 if name.startswith("FIGR") else 0), name
    assert bench_roofline.default_xla(ROOT, "2D-codes", "ToySpec") is True


def test_the_report_time_benchmark_cuts_every_report_runs_training_and_nothing_else():
    from reporting import runs as report_runs

    for spec in report_runs.run_specs(False):
        flag, value = bench_report_time.SHORT[spec.folder]  # every experiment of the report has one
        args = bench_report_time.short_args(spec)
        assert args[args.index(flag) + 1] == value and args.count(flag) == 1, spec.run_id
        others = [a for i, a in enumerate(args) if a != flag and (i == 0 or args[i - 1] != flag)]
        original = [a for i, a in enumerate(spec.args) if a != flag and (i == 0 or spec.args[i - 1] != flag)]
        assert others == original, spec.run_id  # the evaluation's settings are the report's
