"""The cluster description a run reads (TF_CONFIG or Slurm's variables) and the logical-CPU split:
well-formed values give the task, anything else one clear line (never a traceback inside
TensorFlow's start-up)."""

import json

import pytest

from common import distribute, tf_env
from common.classes import UsageError

TWO = {"worker": ["127.0.0.1:2222", "127.0.0.1:2223"]}


@pytest.mark.parametrize(
    "config, expected",
    [
        ({"cluster": TWO, "task": {"type": "worker", "index": 0}}, (0, 2, True)),
        ({"cluster": TWO, "task": {"type": "worker", "index": 1}}, (1, 2, False)),
        (
            {"cluster": dict(TWO, chief=["127.0.0.1:2221"]), "task": {"type": "chief", "index": 0}},
            (0, 3, True),
        ),
    ],
)
def test_a_well_formed_tf_config_names_this_task(monkeypatch, config, expected):
    monkeypatch.setenv("TF_CONFIG", json.dumps(config))
    assert distribute.cluster() == expected


@pytest.mark.parametrize(
    "config, message",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "needs a 'cluster' object"),
        (json.dumps({"cluster": ["a:1"], "task": {}}), "needs a 'cluster' object"),
        (json.dumps({"cluster": {"worker": "127.0.0.1:2222"}}), "cluster.worker must be a non-empty list"),
        (json.dumps({"cluster": {"worker": []}}), "cluster.worker must be a non-empty list"),
        (json.dumps({"cluster": {"worker": ["no-port"]}}), "'host:port' strings"),
        (json.dumps({"cluster": TWO, "task": "worker"}), "task must be an object"),
        (json.dumps({"cluster": TWO, "task": {"index": "1"}}), "task.index '1' is not a whole number"),
        (json.dumps({"cluster": TWO, "task": {"index": 1.5}}), "is not a whole number"),
        (json.dumps({"cluster": TWO, "task": {"index": 2}}), "task.index 2, but cluster.worker lists 2"),
        (json.dumps({"cluster": TWO, "task": {"type": "ps", "index": 0}}), "chief and worker tasks only"),
    ],
)
def test_a_malformed_tf_config_is_one_line(monkeypatch, config, message):
    monkeypatch.setenv("TF_CONFIG", config)
    with pytest.raises(UsageError, match=message):
        distribute.cluster()


def test_slurm_variables_are_checked(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.setenv("SLURM_PROCID", "1")
    monkeypatch.setenv("SLURM_NTASKS", "4")
    assert distribute.cluster() == (1, 4, False)
    monkeypatch.setenv("SLURM_PROCID", "4")
    with pytest.raises(UsageError, match="outside the job's 4 task"):
        distribute.cluster()
    monkeypatch.setenv("SLURM_NTASKS", "many")
    with pytest.raises(UsageError, match="whole numbers"):
        distribute.cluster()


@pytest.mark.parametrize(
    "count, message", [("x", "not a number"), ("0", "between 1 and 64"), ("100000", "between 1")]
)
def test_an_absurd_cpu_split_is_refused(count, message):
    class NoGPU:  # split_cpu asks TensorFlow only for its GPUs before it refuses
        class config:
            @staticmethod
            def list_physical_devices(kind):
                return []

    with pytest.raises(SystemExit, match=message):
        tf_env.split_cpu(NoGPU, count)
