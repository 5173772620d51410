"""Scripts of one checkout run with another checkout's package code when `pip install -e .` was
made there: said in one line, and the job engine and benchmarks put their own checkout first."""

import os
import subprocess
import sys

from common import flags
from reporting import engine
from tests.conftest import ROOT


def test_a_script_of_another_checkout_says_whose_code_it_runs(tmp_path):
    other = tmp_path / "clone"
    (other / "common").mkdir(parents=True)
    (other / "common" / "flags.py").write_text("")
    (other / "vae").mkdir()
    script = other / "vae" / "s.py"
    script.write_text("from common import flags\n\ndef main(argv):\n    print('ran')\n\nflags.run(main)\n")
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0 and proc.stdout.split() == ["ran"], proc.stderr
    assert f"not of this checkout {other}" in proc.stderr and f"PYTHONPATH={other}" in proc.stderr
    assert flags.other_checkout(os.path.join(ROOT, "vae", "VAE.py")) is None  # its own: no word


def test_the_engine_runs_a_job_with_its_own_checkout_first():
    env = engine.this_checkout({"PYTHONPATH": "/elsewhere"})
    assert env["PYTHONPATH"].split(os.pathsep) == [engine.ROOT, "/elsewhere"]
    assert engine.this_checkout({})["PYTHONPATH"] == engine.ROOT
