"""common/spec.py: one declaration per flag gives the flag, its check, the record and the run's
identity; older records are read; presets apply where no flag was given."""

import dataclasses
import json
import re

import pytest
from absl import flags

from common import rundir
from common import spec as o
from common.classes import UsageError


@dataclasses.dataclass(frozen=True)
class TinySpec(o.RunSpec):
    experiment = "tiny"
    PRESETS = {"paper": {"width": 64, "lr": 0.5}}

    width: int = o.option(8, "Units.", check=o.positive)
    lr: float = o.option(0.1, "Rate.", check=o.above_zero)
    remove_label: tuple = o.option((), "Classes removed.", flag="remove-label", parse=o.classes)
    steps: int = o.option(10, "Steps; a rerun with more continues.", identity=False, check=o.positive)
    jit: bool = o.option(True, "XLA.", identity=False)
    hidden: int | None = o.option(None, "Hidden units (default: 4 x width).", check=o.positive)

    def check(self):
        o.require(self.width <= 1000, "--width is too large")

    def resolve(self):
        return self.replace(hidden=self.hidden or 4 * self.width)

    def name_parts(self):
        return ["tiny", f"w{self.width}"]


def parse(*argv, cls=None):
    cls = cls or TinySpec
    values = flags.FlagValues()
    o.define_flags(cls, values, module_name="tiny.py")
    values(["tiny.py", *argv])
    return o.from_flags(cls, values)


def test_flags_parse_check_resolve_and_record():
    spec = parse("--width", "16", "--remove_label", "3,1")  # the field's name is an alias
    assert spec.width == 16 and spec.remove_label == (1, 3) and spec.hidden == 64
    record = o.record(spec)
    assert record["remove_label"] == [1, 3] and record["steps"] == 10 and "log" not in record
    assert set(o.identity(spec)) == {"seed", "width", "lr", "remove_label", "hidden"}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--width", "0"], "--width must be a positive integer"),
        (["--lr", "nan"], "--lr must be a finite number"),
        (["--remove-label", "x"], "--remove-label: 'x' is not a class index"),
        (["--width", "2000"], "--width is too large"),
        (["--seed", "-1"], "--seed must be in [0, 2^31)"),
    ],
)
def test_bad_values_are_usage_errors_naming_the_flag(argv, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        parse(*argv)


def test_a_preset_sets_the_flags_not_given():
    spec = parse("--settings", "paper", "--lr", "0.2")
    assert spec.width == 64 and spec.lr == 0.2 and spec.settings == "paper"
    assert "settings" not in o.identity(spec)  # the values it set are the identity


def test_identity_ignores_what_may_change_between_reruns(tmp_path):
    first = parse("--steps", "10", "--out_dir", str(tmp_path / "run"))
    longer = parse("--steps", "20", "--nojit", "--strategy", "mirrored", "--out_dir", str(tmp_path / "run"))
    other = parse("--width", "9", "--out_dir", str(tmp_path / "run"))
    assert not o.differences(TinySpec, o.run_config(first), longer)
    assert o.differences(TinySpec, o.run_config(first), other) == [("hidden", 32, 36), ("width", 8, 9)]
    with rundir.claim(first.out_dir, first):
        pass
    with rundir.claim(longer.out_dir, longer):  # resumes; the record follows the latest spec
        pass
    assert json.loads((tmp_path / "run" / "run_config.json").read_text())["spec"]["steps"] == 20
    with pytest.raises(UsageError, match=r"other settings \(hidden: 32 -> 36, width: 8 -> 9\)"):
        with rundir.claim(other.out_dir, other):
            pass


def test_an_option_added_later_at_its_default_continues_older_runs():
    """A run recorded before a field existed had the field's default behaviour."""
    record = o.run_config(parse())
    del record["identity"]["lr"]  # as if --lr came in a later release
    assert not o.differences(TinySpec, record, parse())
    assert o.differences(TinySpec, record, parse("--lr", "0.2")) == [("lr", None, 0.2)]


@dataclasses.dataclass(frozen=True)
class ChangedDefaultSpec(TinySpec):
    """An option added with a new behaviour as its default (for some settings): runs recorded
    before it had the old one, which `absent` names."""

    init: str | None = o.option(
        None, "Initialisation (default: fan_in for width 8, glorot otherwise).", absent="glorot"
    )

    def resolve(self):
        spec = super().resolve()
        return spec.replace(init=spec.init or ("fan_in" if spec.width == 8 else "glorot"))


def changed(*argv):
    return parse(*argv, cls=ChangedDefaultSpec)


def test_an_option_whose_default_changed_behaviour_refuses_older_runs_of_the_old_one():
    record = o.run_config(changed())
    del record["identity"]["init"]  # recorded before --init existed: it had glorot
    # Width 8 now starts with fan_in: not the older run; said, and --init glorot continues it.
    assert o.differences(ChangedDefaultSpec, record, changed()) == [("init", "glorot", "fan_in")]
    assert not o.differences(ChangedDefaultSpec, record, changed("--init", "glorot"))
    wide = o.run_config(changed("--width", "16"))
    del wide["identity"]["init"]
    assert not o.differences(ChangedDefaultSpec, wide, changed("--width", "16"))  # unchanged there
    flat = {"width": 8, "lr": 0.1, "remove-label": "", "hidden": None}  # the oldest records: flags
    assert o.differences(ChangedDefaultSpec, flat, changed()) == [("init", "glorot", "fan_in")]
    assert not o.differences(ChangedDefaultSpec, flat, changed("--init", "glorot"))


def test_an_older_flat_record_is_read_as_flags():
    """Older releases wrote {flag name: value as typed} of the settings they compared."""
    spec = parse("--remove-label", "1")
    old = {"width": 8, "lr": 0.1, "remove-label": "1", "hidden": None, "seed": 0, "strategy": "default"}
    assert not o.differences(TinySpec, old, spec)  # hidden None resolves to 32, strategy is not identity
    assert o.differences(TinySpec, {**old, "remove-label": "2"}, spec) == [("remove_label", [2], [1])]
    assert o.differences(TinySpec, {**old, "width": "many"}, spec)[0][0] == "run_config.json"


def test_another_programs_output_is_refused(tmp_path):
    @dataclasses.dataclass(frozen=True)
    class OtherSpec(TinySpec):
        experiment = "other"

    other = OtherSpec(out_dir=str(tmp_path / "run"))
    with rundir.claim(other.out_dir, other):
        pass
    mine = TinySpec(out_dir=str(tmp_path / "run"))
    with pytest.raises(UsageError, match="holds the output of other, not of tiny"):
        with rundir.claim(mine.out_dir, mine):
            pass


def test_the_default_directory_is_stable_and_finds_an_older_runs_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = parse()
    path = spec.default_out_dir()
    assert path.startswith("runs/tiny/tiny-w8-") and path == parse("--steps", "99").default_out_dir()
    assert path != parse("--width", "9").default_out_dir()
    # A folder an older release named with another hash, holding the same identity, is reused.
    older = tmp_path / "runs" / "tiny" / "tiny-w8-abcdef"
    older.mkdir(parents=True)
    (older / "run_config.json").write_text(json.dumps({"width": 8, "lr": 0.1, "seed": 0}))
    assert parse().default_out_dir() == "runs/tiny/tiny-w8-abcdef"


def test_vae_runs_made_before_init_keep_keras_initialisation():
    """The MLP VAE now starts as PyTorch's example does (--init fan_in); an MLP run recorded before
    --init existed had Keras' Glorot weights: refused as other settings, continued with --init
    glorot. Conv runs (the report's and the league's) are unchanged and continue."""
    from vae.spec import VAERunSpec

    def before_init(spec):
        record = o.run_config(spec)
        del record["identity"]["init"], record["identity"]["adam_epsilon"]
        return record

    mlp = VAERunSpec.make(dataset="fashion-mnist", arch="mlp")
    assert mlp.init == "fan_in"
    assert o.differences(VAERunSpec, before_init(mlp), mlp) == [("init", "glorot", "fan_in")]
    kept = VAERunSpec.make(dataset="fashion-mnist", arch="mlp", init="glorot")
    assert not o.differences(VAERunSpec, before_init(kept), kept)
    conv = VAERunSpec.make(dataset="fashion-mnist", remove_label="1")
    assert conv.arch == "conv" and conv.init == "glorot"
    assert not o.differences(VAERunSpec, before_init(conv), conv)
