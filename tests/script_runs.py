"""Running an entry script as a user does (a subprocess in its folder), shared by the script
tests: the environment (this tree first on the path, a private judge cache, no data directory
from the caller's shell), the run, and its metrics.json."""

import json
import os
import subprocess
import sys

from tests.conftest import ROOT
from tests.image_fixtures import write_tiny_idx


def script_env(cache_dir=None, **extra):
    env = dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
        **extra,
    )
    if cache_dir is not None:
        env["CREATIVE_GANS_CACHE"] = str(cache_dir)
    env.pop("CREATIVE_GANS_DATA_DIR", None)
    return env


def run_script(folder, script, env, *args, timeout=300):
    return subprocess.run(
        [sys.executable, script, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=timeout
    )


def metrics(out_dir):
    with open(os.path.join(out_dir, "metrics.json")) as f:
        return json.load(f)


def image_run_env(tmp_path_factory, name, train_per_class):
    """A module's scratch root, tiny IDX data in it, and the environment with a private judge cache."""
    root = tmp_path_factory.mktemp(name)
    data_dir = write_tiny_idx(str(root / "data"), train_per_class=train_per_class, test_per_class=10)
    return {"root": root, "data_dir": data_dir, "env": script_env(root / "cache")}
