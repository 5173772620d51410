"""The benchmarks' measuring tools: a command's peak RSS is its own."""

import os
import sys

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "benchmarks"))

import bench_common  # noqa: E402
import bench_roofline  # noqa: E402

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
