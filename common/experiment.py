"""The experiment protocol: data -> train -> evaluate -> figures -> outputs, the same for every
model family, and the one way an entry script runs an experiment.

An experiment is a class built from its run's spec (a `common.spec.RunSpec` subclass, which is
also the entry script's flags) that implements the steps; `run()` strings them together and
writes the output contract (metrics.json, samples.npz, figures):

    class MyExperiment(Experiment):
        summary_keys = (...)                # metrics printed at the end of a run
        def __init__(self, spec):           # load the data: bad files fail here, before the run
            super().__init__(spec)          #   directory is claimed
        def describe(self):                 # the line printed when the run starts
        def train(self):                    # -> (model, common.harness.TrainResult)
        def evaluate(self, model, result):  # -> (metrics dict, evals: dict of arrays)
        def figures(self, model, values, evals, history):  # -> {file name: matplotlib Figure}
        def samples(self, evals):           # -> (samples, labels or None) for samples.npz

An entry script is then flags -> spec -> `run_experiment(spec, "package.module:Class")`: TensorFlow
is imported only after every flag was checked, the run directory is claimed for the spec (a rerun
resumes, other settings are refused), the experiment runs and its headline numbers are printed.
ARCHITECTURE.md's recipe "Add a model family" walks through one.
"""

import dataclasses
import importlib
import os

from common import outputs, rundir, tf_env, timing
from common import spec as spec_lib


@dataclasses.dataclass
class RunSummary:
    metrics: dict
    paths: list  # the figures written
    result: object  # the harness's TrainResult
    extra: dict = dataclasses.field(default_factory=dict)  # what an experiment hands its script


class Experiment:
    summary_keys = ()

    def __init__(self, spec):
        self.spec = spec
        # The run's stage clock (common.timing; run_experiment hands over its own, holding the
        # start-up and data seconds): an experiment times what it does beyond the protocol's
        # steps with it, e.g. `with self.stages("judge"): ...`.
        self.stages = timing.Stages()

    @property
    def log(self):
        return self.spec.log

    # ------------------------------------------------------------------------ the protocol
    def describe(self):
        return type(self).__name__

    def validate(self):
        """Checks that need the loaded data (a class index beyond its classes); UsageError."""

    def train(self):
        raise NotImplementedError

    def evaluate(self, model, result):
        raise NotImplementedError

    def figures(self, model, values, evals, history):
        return {}

    def samples(self, evals):
        raise NotImplementedError

    def write_extra(self, evals):
        """Outputs beyond the contract (a file of latent codes); written before metrics.json."""

    def run(self):
        stages = self.stages
        with stages("train"):
            model, result = self.train()
        compiling = result.compile_seconds()
        if compiling is not None:
            stages.move("train", "compile", compiling)
        with stages("evaluate"):
            values, evals = self.evaluate(model, result)
        with stages("figures"):
            figures = self.figures(model, values, evals, result.history)
        with stages("outputs"):
            self.write_extra(evals)
            samples, labels = self.samples(evals)
            paths = outputs.write_run_outputs(
                self.spec.out_dir,
                samples,
                values,
                spec_lib.record(self.spec),
                labels=labels,
                figures=figures,
                more_metrics=stages.numbers,
            )
        return RunSummary(values, paths, result)


def load_class(path):
    """The class at "package.module:Class", imported only when asked (it imports TensorFlow); a
    class is returned as it is."""
    if not isinstance(path, str):
        return path
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def prepare(spec, quiet_grappler=False):
    """TensorFlow for a run of `spec`: imported quietly, grappler's remapper off where an
    experiment asks, the precision policy set before any model is built. Returns the spec with
    the directory this process writes (another multi_worker worker writes its own)."""
    tf = tf_env.import_tensorflow()
    if quiet_grappler:
        tf_env.quiet_grappler(tf)
    from common import distribute

    if getattr(spec, "mixed_precision", False):
        distribute.set_precision(True)
    return spec.replace(out_dir=distribute.output_dir(spec.resolved_out_dir, spec.strategy))


def run_experiment(spec, experiment, quiet_grappler=False, startup_seconds=None):
    """Runs `experiment` (its class, or "package.module:Class" so that an entry script imports
    TensorFlow only once its flags are checked) for `spec`: prepare TensorFlow, build the
    experiment (loading its data may refuse the command before anything is written), claim the
    run directory (a finished run is re-evaluated, an interrupted one resumes), run, print the
    headline numbers. What every entry script does, and the library's way to run one.
    startup_seconds: what the run's start-up cost before this call (default: the process's age;
    0 for a second run in one process). metrics.json says where the time went (common.timing)."""
    stages = timing.Stages()
    # start-up: the interpreter's start and the flags up to this call, then TensorFlow's import
    # and the experiment's modules
    stages.add("startup", (timing.process_seconds() or 0.0) if startup_seconds is None else startup_seconds)
    rundir.check_path(spec.resolved_out_dir)  # a file or an unwritable folder: refused before TensorFlow
    with stages("startup"):
        spec = prepare(spec, quiet_grappler)
        cls = load_class(experiment)
    with stages("data"):
        instance = cls(spec)
    instance.stages = stages
    instance.validate()
    if getattr(spec, "judge", False):
        from common import judge

        judge.check_cache_writable()  # found now, not after the training it would waste
    with rundir.claim(spec.out_dir, spec):
        spec.log(f"{instance.describe()} -> {os.path.abspath(spec.out_dir)}")
        summary = instance.run()
    outputs.report_run(
        summary.metrics, summary.paths, spec.out_dir, keys=instance.summary_keys, notebook=spec.notebook
    )
    return summary
