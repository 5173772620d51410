"""One spec per run: a frozen dataclass whose fields are the entry script's flags.

Each field is declared once, with `option(...)`: its default, its help (the flag's `--help` text),
whether it belongs to the run's identity, how the flag's text becomes the value and the check the
value must pass. Everything else is derived from that one declaration:

  * `define_flags(cls)` defines the absl flags (named after the field, or `flag=` for the report's
    hyphenated names, with the field's name as an alias);
  * `from_flags(cls)` applies a `--settings` preset to the flags the command line did not give,
    parses and checks every value and returns the frozen spec (`check()` holds the checks across
    fields, `resolve()` the defaults that depend on other fields);
  * `record(spec)` is what run_config.json and metrics.json's `flags.*` keys say;
  * `identity(spec)` is the part that defines the run. A rerun whose identity differs is refused as
    "other settings"; every other field (how long to train, how the result is evaluated, on which
    devices, with or without XLA, where it writes) may change between reruns.

As stylegan2-ada's training options: one validated object, serialised whole as the run's config
and handed to the library, which reads no flags.
"""

import dataclasses
import hashlib
import json
import math
import os
import sys
import types
import typing

from common.classes import UsageError, parse_class_list

# Kept here (not imported from common.distribute) so that checking flags does not import TensorFlow.
STRATEGIES = ("default", "mirrored", "multi_worker")
RECORD_FORMAT = 2  # run_config.json: {"format": 2, "experiment": ..., "identity": {...}, "spec": {...}}


_UNSET = object()


def option(
    default,
    help,
    *,
    identity=True,
    flag=None,
    choices=None,
    parse=None,
    check=None,
    existing=False,
    absent=_UNSET,
):
    """A field that is also a flag.

    help: the flag's help text. identity: False for what may change between reruns of one run.
    flag: the flag's name when it is not the field's (the field's name is then an alias).
    choices: the allowed values (an enum flag). parse(value, flag_name) -> the field's value from
    the flag's (a string for tuples: "1,4"); it raises UsageError naming the flag. check(value,
    flag_name) raises UsageError for a value out of bounds. existing: the flag is absl's own
    (FIGR's --log_dir): only its default and help are set. absent: the value that runs recorded
    before this field existed had, where the field's default (or what it resolves to) is another
    behaviour; without it a run that did not record the field is taken to have had the default."""
    metadata = dict(
        help=help, identity=identity, flag=flag, choices=choices, parse=parse, check=check, existing=existing
    )
    if absent is not _UNSET:
        metadata["absent"] = absent
    return dataclasses.field(default=default, metadata=metadata)


def state(default, identity=False):
    """A field that is not a flag (a callback, the progress bar's switch, a value a script sets)."""
    return dataclasses.field(default=default, metadata={"identity": identity, "state": True})


# ----------------------------------------------------------------------------- parse and check
def classes(value, name):
    """'1' or '1,4' -> (1, 4); empty -> ()."""
    return parse_class_list(value, name)


def positive_ints(value, name):
    """'16,32' -> (16, 32), every entry a positive integer."""
    if isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [v for v in str(value).split(",") if v.strip()]
    try:
        out = tuple(int(v) for v in items)
    except (TypeError, ValueError):
        out = ()
    if not out or min(out) < 1:
        raise UsageError(f"{name} must be positive integers separated by commas (got {value})")
    return out


def is_toy(value):
    """Whether a --dataset value names one of the 2-d toy sets (any case, - and _ ignored)."""
    from common import toy_data

    return str(value).lower().replace("-", "").replace("_", "") in {n.lower() for n in toy_data.TOY_DATASETS}


def dataset(experiment, toys=True):
    """A parser for --dataset: the canonical name of an image set `experiment` takes
    (image_data.IMAGE_SETS' `experiments`) or, with `toys`, of a 2-d toy set."""
    from common import image_data, toy_data

    def parse(value, name):
        if toys and is_toy(value):
            return toy_data.canonical_name(value)
        try:
            canonical = image_data.canonical_name(value)
        except UsageError as error:
            raise UsageError(f"{name}: {error}") from None
        if canonical not in image_data.sets_for(experiment):
            choices = ", ".join([*image_data.sets_for(experiment), *(toy_data.TOY_DATASETS if toys else ())])
            raise UsageError(f"{name}: {canonical} is not a data set of {experiment}; use {choices}")
        return canonical

    return parse


def lower(value, name):
    return None if value is None else str(value).strip().lower()


def positive(value, name):
    if value is not None and value < 1:
        raise UsageError(f"{name} must be a positive integer (got {value})")


def non_negative(value, name):
    if value is not None and value < 0:
        raise UsageError(f"{name} must not be negative (got {value})")


def above_zero(value, name):
    if not value > 0:
        raise UsageError(f"{name} must be positive (got {value})")


def below(high):
    """[0, high): e.g. Adam's beta1."""

    def check(value, name):
        if not 0 <= value < high:
            raise UsageError(f"{name} must be in [0, {high}) (got {value})")

    return check


def multiple_of(step, at_least):
    def check(value, name):
        if value < at_least or value % step:
            raise UsageError(f"{name} must be a positive multiple of {step} (got {value})")

    return check


def seed_check(value, name):
    if not 0 <= value < 2**31:
        raise UsageError(f"{name} must be in [0, 2^31) (got {value})")


def existing_directory(value, name):
    if value is not None and not os.path.isdir(value):
        raise UsageError(f"{name} {value} is not a directory")


def require(condition, message):
    if not condition:
        raise UsageError(message)


# -------------------------------------------------------------- fields several scripts share
def seed_option(default=0):
    return option(
        default, "Random seed: the same seed and flags give the same numbers on the CPU.", check=seed_check
    )


def batch_size_option(default):
    return option(default, "Global batch size (split across devices).", check=positive)


def data_dir_option(about):
    return option(None, about, check=existing_directory)


def idx_data_dir_option():
    from common.image_data import DATA_DIR_ENV

    return data_dir_option(
        "Directory with the four IDX files (train/t10k images/labels, .gz or not) instead of the "
        f"default sources; also ${DATA_DIR_ENV}."
    )


def download_option():
    return option(
        True,
        "Fetch the real MNIST / Fashion-MNIST once into the cache when the network answers "
        "(--nodownload or CREATIVE_GANS_NODOWNLOAD=1: never; offline, the smaller fallback is used "
        "and said).",
        identity=False,
    )


def _precision(value, name):
    """--mixed_precision; older records wrote the policy's name ("mixed_bfloat16") when it was on."""
    return value if isinstance(value, bool) else str(value).startswith("mixed")


def mixed_precision_option():
    return option(
        False,
        "Half-precision compute on float32 weights: mixed_float16 with dynamic loss scaling on GPUs, "
        "mixed_bfloat16 on CPUs; losses stay in float32.",
        parse=_precision,
    )


def judge_option(about="Grade generations with the judge classifier (trained once per data set and cached)."):
    return option(True, about + " --nojudge skips it.", identity=False)


# ------------------------------------------------------------------------------- the spec
@dataclasses.dataclass(frozen=True)
class Spec:
    """The machinery every spec shares; subclasses declare their fields with option()."""

    experiment: typing.ClassVar[str] = "run"  # runs/<experiment>/ and run_config.json
    PRESETS: typing.ClassVar[dict] = {}  # --settings name -> {field: value}; flags given win

    # A flag only where the class has PRESETS; the presets' values, not this name, are the identity.
    settings: str = option("default", "A named set of other flags' values.", identity=False)
    progress: bool = state(True)  # the progress bar (benchmarks and tests turn it off)
    log: object = state(print)  # where the run's lines go

    # ---------------------------------------------------------------------- per experiment
    def check(self):
        """Checks across fields; raises UsageError. Runs after every field's own check."""

    def resolve(self):
        """Defaults that depend on other fields (returns the spec with them filled in)."""
        return self

    def name_parts(self):
        """The words of the default run directory's name (before the identity's hash)."""
        return []

    @classmethod
    def legacy_values(cls, previous):
        """{field: value} of an older release's run_config.json (a flat {flag name: value} of the
        settings it compared); fields it did not record take their defaults (a flag added since)."""
        values = {}
        for field in flag_fields(cls):
            for key in (field.name, flag_name(field)):
                if key in previous:
                    values[field.name] = previous[key]
                    break
            else:
                if "absent" in field.metadata:
                    values[field.name] = field.metadata["absent"]
        return values

    def runs_root(self):
        """Where default run directories go."""
        return os.path.join("runs", self.experiment)

    @classmethod
    def make(cls, **values):
        """A spec from keyword arguments, parsed and checked as the flags would be (the library's
        way to build one, e.g. in a notebook): VAERunSpec.make(dataset="mnist", remove_label="9")."""
        flags_ = {f.name for f in flag_fields(cls)}
        return build(
            cls,
            {k: v for k, v in values.items() if k in flags_},
            **{k: v for k, v in values.items() if k not in flags_},
        )

    # ------------------------------------------------------------------------------ derived
    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def default_out_dir(self):
        """runs/<experiment>/<fig_name>, or <parts>-<hash of the identity>: the same command maps
        to the same directory. A directory an older release made for the same identity (another
        hash) is used instead, so runs made before a change of the hash still resume."""
        root = self.runs_root()
        if getattr(self, "fig_name", None):
            return os.path.join(root, self.fig_name)
        mine = identity(self)
        digest = hashlib.sha1(json.dumps(mine, sort_keys=True, default=str).encode()).hexdigest()[:6]
        prefix = "-".join(str(p) for p in self.name_parts())
        path = os.path.join(root, f"{prefix}-{digest}" if prefix else digest)
        if not os.path.exists(path) and os.path.isdir(root):
            for name in sorted(os.listdir(root)):
                candidate = os.path.join(root, name)
                if name.rsplit("-", 1)[0] == prefix and os.path.isfile(os.path.join(candidate, CONFIG_FILE)):
                    try:
                        previous = read_record(os.path.join(candidate, CONFIG_FILE))
                    except (OSError, ValueError):
                        continue
                    if not differences(type(self), previous, self):
                        return candidate
        return path

    @property
    def resolved_out_dir(self):
        """--out_dir, or the default directory of this spec."""
        return self.out_dir or self.default_out_dir()


@dataclasses.dataclass(frozen=True)
class RunSpec(Spec):
    """A training run's spec: the fields every training script has. Subclasses add theirs and may
    redeclare these to change a default (a field keeps its first position)."""

    out_dir: str | None = option(
        None,
        "Where this run writes metrics.json, samples.npz, figures, checkpoints/ and logs/. Default: "
        "runs/<experiment>/<fig_name, or a name made from the flags>, so rerunning the same command "
        "resumes the same run.",
        identity=False,
    )
    fig_name: str | None = option(
        None, "Name of the run: names the output directory (and figures).", identity=False
    )
    seed: int = seed_option()
    strategy: str = option(
        "default",
        "tf.distribute strategy: default (one device), mirrored (all local GPUs; on a CPU-only "
        "machine CREATIVE_GANS_CPU_DEVICES=2 makes two logical devices), multi_worker (the processes "
        "listed in TF_CONFIG, or Slurm's tasks; only the chief writes --out_dir).",
        identity=False,
        choices=STRATEGIES,
    )
    notebook: bool = option(
        False,
        "Show the figures inline when running under IPython/Jupyter (they are always saved; a plain "
        "script never blocks).",
        identity=False,
    )


CONFIG_FILE = "run_config.json"


def flag_fields(cls):
    """The fields of `cls` that are flags, in declaration order (--settings where it has presets)."""
    return [
        f for f in dataclasses.fields(cls) if "help" in f.metadata and (f.name != "settings" or cls.PRESETS)
    ]


def flag_name(field):
    return field.metadata.get("flag") or field.name


def _kind(field):
    """bool, int, float, str or tuple: what the flag holds (Optional[...] unwrapped)."""
    kind = field.type
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    return typing.get_origin(kind) or kind


def define_flags(cls, flag_values=None, module_name=None):
    """Defines one absl flag per flag field of `cls` (and --settings when it has presets), as
    key flags of the main script so `--help` lists them."""
    from absl import flags

    flag_values = flags.FLAGS if flag_values is None else flag_values
    module_name = module_name or sys.argv[0]
    common = dict(flag_values=flag_values, module_name=module_name)
    for field in flag_fields(cls):
        name, meta, default = flag_name(field), field.metadata, field.default
        kind = _kind(field)
        if name == "settings":
            about = "; ".join(f"{key}: {describe_preset(values)}" for key, values in cls.PRESETS.items())
            flags.DEFINE_enum(
                name,
                default,
                ["default", *cls.PRESETS],
                f"A named set of other flags' values ({about}); flags given explicitly win.",
                **common,
            )
            continue
        if meta["existing"]:
            flag_values[name].help = meta["help"]
            flag_values.set_default(name, default)
            flag_values.register_key_flag_for_module(module_name, flag_values[name])
            continue
        if meta["choices"]:
            flags.DEFINE_enum(name, default, list(meta["choices"]), meta["help"], **common)
        elif kind is bool:
            flags.DEFINE_boolean(name, default, meta["help"], **common)
        elif kind is int:
            flags.DEFINE_integer(name, default, meta["help"], **common)
        elif kind is float:
            flags.DEFINE_float(name, default, meta["help"], **common)
        else:  # str, and tuples written as "1,4"
            text = ",".join(str(v) for v in default) if isinstance(default, tuple) else default
            flags.DEFINE_string(name, text, meta["help"], **common)
        if name != field.name:
            flags.DEFINE_alias(field.name, name, flag_values=flag_values, module_name=module_name)


def describe_preset(values):
    return " ".join(
        f"--{k} {v}" if not isinstance(v, bool) else (f"--{k}" if v else f"--no{k}")
        for k, v in values.items()
    )


def _finite(value, name):
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(f"{name} must be a finite number (got {value})")


def _typed(kind, value, name):
    """A record's value as the field's type (absl already typed a flag's); UsageError if it is not."""
    if value is None or kind not in (bool, int, float) or type(value) is kind:
        return value
    if kind is float and type(value) is int:
        return float(value)
    if kind is int and type(value) is float and value.is_integer():
        return int(value)
    if kind is not bool and isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            pass
    raise UsageError(
        f"{name} must be {'true or false' if kind is bool else f'a number ({kind.__name__})'} (got {value!r})"
    )


def _convert(field, value):
    """The field's value from a flag's (or a record's) value: parsed, then checked."""
    name = f"--{flag_name(field)}"
    meta = field.metadata
    if meta.get("parse") is None:
        value = _typed(_kind(field), value, name)
    _finite(value, name)
    if meta.get("parse") is not None:
        value = meta["parse"](value, name)
    elif _kind(field) is tuple:
        value = tuple(value) if value is not None else ()
    if meta.get("check") is not None:
        meta["check"](value, name)
    return value


def build(cls, values, **state_values):
    """Spec from {field name: raw value} (missing fields take their defaults), every value
    parsed and checked, then check() and resolve()."""
    kwargs = {}
    for field in flag_fields(cls):
        raw = values.get(field.name, field.default)
        kwargs[field.name] = _convert(field, raw)
    if kwargs.get("settings", "default") not in ("default", *cls.PRESETS):
        raise UsageError(f"--settings must be one of default, {', '.join(cls.PRESETS)}")
    spec = cls(**kwargs, **state_values)
    spec.check()
    return spec.resolve()


def from_flags(cls, flag_values=None, **state_values):
    """The spec of the parsed command line: --settings applied to the flags not given."""
    from absl import flags

    flag_values = flags.FLAGS if flag_values is None else flag_values
    given = {field.name: flag_values[flag_name(field)].value for field in flag_fields(cls)}
    if cls.PRESETS:
        preset = cls.PRESETS.get(given["settings"], {})
        for name, value in preset.items():
            field = next(f for f in flag_fields(cls) if f.name == name)
            if not flag_values[flag_name(field)].present:
                given[name] = value
    return build(cls, given, **state_values)


def _plain(value):
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def record(spec):
    """Every flag field's value, JSON-able (tuples as lists): run_config.json's `spec` and
    metrics.json's `flags.*`."""
    return {f.name: _plain(getattr(spec, f.name)) for f in flag_fields(type(spec))}


def identity(spec):
    """The fields that define the run (a rerun must have the same), JSON-able."""
    return {
        f.name: _plain(getattr(spec, f.name))
        for f in dataclasses.fields(spec)
        if f.metadata.get("identity", True) and not f.metadata.get("state")
    }


def run_config(spec):
    """What run_config.json holds for a run of `spec`."""
    return {
        "format": RECORD_FORMAT,
        "experiment": spec.experiment,
        "identity": identity(spec),
        "spec": record(spec),
    }


def read_record(path):
    with open(path) as f:
        return json.load(f)


def _legacy_identity(cls, previous):
    """The identity an older release's run_config.json (a flat {flag name: value} of the settings
    it compared) stands for: its values read as flags, the fields it did not record at their
    defaults (a flag added since)."""
    return identity(build(cls, cls.legacy_values(previous)))


def differences(cls, previous, spec):
    """[(field, recorded value, this command's value)] where a run directory's run_config.json
    and `spec` disagree on the run's identity; [] when this command continues that run."""
    mine = identity(spec)
    if isinstance(previous, dict) and previous.get("format") == RECORD_FORMAT:
        if previous.get("experiment") != spec.experiment:
            return [("experiment", previous.get("experiment"), spec.experiment)]
        theirs = previous.get("identity", {})
    else:
        try:
            theirs = _legacy_identity(cls, previous if isinstance(previous, dict) else {})
        except UsageError as error:
            return [("run_config.json", f"an older record this release cannot read ({error})", "")]
    # A field added to the spec after the run was made, left at its default, is what the run had:
    # the release before it behaved as the default does (a new option never changes the old way).
    # A field declared with `absent` says what such runs had instead (the default changed with it).
    defaults = {
        f.name: _plain(f.default) for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING
    }
    theirs = dict(theirs)
    for f in dataclasses.fields(cls):
        if "absent" in f.metadata and f.name in mine:
            theirs.setdefault(f.name, _plain(f.metadata["absent"]))
    return [
        (k, theirs.get(k), mine.get(k))
        for k in sorted(set(theirs) | set(mine))
        if theirs.get(k) != mine.get(k) and not (k not in theirs and k in defaults and mine[k] == defaults[k])
    ]
