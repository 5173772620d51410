"""Claiming a run directory: after the checks, under a lock, leaving nothing when refused."""

import json
import os
import stat

import pytest

from common import files, rundir
from common.classes import UsageError


def test_a_claim_writes_the_config_once_and_holds_a_lock(tmp_path):
    out = str(tmp_path / "run")
    with rundir.claim(out, {"lr": 1e-3}, log=lambda *_: None):
        assert json.load(open(os.path.join(out, "run_config.json"))) == {"lr": 1e-3}
        assert open(os.path.join(out, ".lock")).read() == str(os.getpid())
        with pytest.raises(UsageError, match=rf"in use by another run \(process {os.getpid()}\)"):
            with rundir.claim(out, {"lr": 1e-3}):
                pass
    with rundir.claim(out, {"lr": 1e-3}):  # released when the first claim ended
        pass


def test_other_settings_are_refused_and_the_run_kept(tmp_path):
    out = str(tmp_path / "run")
    with rundir.claim(out, {"lr": 1e-3}):
        files.write_json(os.path.join(out, "metrics.json"), {"score": 1})
    with pytest.raises(UsageError, match="holds a run with other settings .lr: 0.001 -> 0.01"):
        with rundir.claim(out, {"lr": 1e-2}):
            pass
    assert files.read_json(os.path.join(out, "metrics.json")) == {"score": 1}


def test_a_refusal_inside_the_claim_leaves_nothing_it_created(tmp_path):
    out = tmp_path / "new"
    with pytest.raises(UsageError):
        with rundir.claim(str(out), {"batch": 10**6}):
            raise UsageError("--batch_size 1000000 is larger than the 3600 training examples")
    assert not out.exists()
    existing = tmp_path / "old"
    with rundir.claim(str(existing), {"batch": 8}):
        pass
    with pytest.raises(UsageError):
        with rundir.claim(str(existing), {"batch": 8}):
            raise UsageError("refused")
    assert (existing / "run_config.json").exists()  # an earlier run is never removed


def test_a_divergence_is_recorded_without_results(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "samples.npz").write_bytes(b"old")
    (out / "figure.png").write_bytes(b"old")
    with pytest.raises(rundir.Diverged):
        with rundir.claim(str(out), {"lr": 10.0}):
            raise rundir.Diverged("loss 'd_loss' became nan at step 3", 3)
    values = files.read_json(str(out / "metrics.json"))
    assert values["diverged"] is True and values["diverged_at_step"] == 3 and values["flags.lr"] == 10.0
    assert "nan at step 3" in values["error"]
    assert not (out / "samples.npz").exists() and not (out / "figure.png").exists()


def test_stale_temporaries_are_removed_and_finished_files_kept(tmp_path):
    out = tmp_path / "run"
    (out / "checkpoints" / "ckpt-5_temp").mkdir(parents=True)
    (out / ".metrics.json12ab.tmp").write_text("half")
    (out / "metrics.json").write_text("{}")
    logged = []
    with rundir.claim(str(out), {}, log=logged.append):
        pass
    assert not (out / ".metrics.json12ab.tmp").exists() and not (out / "checkpoints" / "ckpt-5_temp").exists()
    assert (out / "metrics.json").exists() and "removed 2 temporary file(s)" in logged[0]


@pytest.mark.parametrize("where", ["file", "under_file"])
def test_an_out_dir_that_is_or_lies_under_a_file_is_one_line(tmp_path, where):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    out = a_file if where == "file" else a_file / "run"
    with pytest.raises(UsageError, match="is a file"):
        with rundir.claim(str(out), {}):
            pass


def test_a_damaged_run_config_is_named(tmp_path):
    (tmp_path / "run_config.json").write_text("{garbage")
    with pytest.raises(UsageError, match="run_config.json is damaged"):
        with rundir.claim(str(tmp_path), {}):
            pass


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_out_dir_is_one_line(tmp_path):
    tmp_path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(UsageError, match="not writable"):
            with rundir.claim(str(tmp_path / "run"), {}):
                pass
    finally:
        tmp_path.chmod(stat.S_IRWXU)


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        files.write_json(str(tmp_path / "m.json"), {})
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "m.json").st_mode) == 0o644


def test_an_out_dir_longer_than_the_file_system_allows_is_one_short_line(tmp_path):
    with pytest.raises(UsageError, match="a name in it is 300 bytes long; the file system allows") as error:
        with rundir.claim(str(tmp_path / ("a" * 300)), {}):
            pass
    assert len(str(error.value)) < 250
    deep = str(tmp_path / "/".join(["b" * 200] * 21))  # every name fits, the whole path does not
    with pytest.raises(UsageError, match="bytes long; the file system allows 4096 for a whole path"):
        with rundir.claim(deep, {}):
            pass
    assert not os.path.exists(tmp_path / ("b" * 200))  # refused before anything was created
