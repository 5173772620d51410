"""Command-line layer shared by STYLEGAN.py and CGAN.py: the toy flags, their validation, and
running/reporting one experiment. Called only from those scripts' `main`."""

import dataclasses
import os

from absl import flags

from common import files, outputs, plotting, resources, rundir, toy_data
from common import flags as common_flags
from common.classes import parse_class_list, validate_classes

# Flags that do not change what is trained: a rerun with another value resumes the same run.
NOT_TRAINING = {"out_dir", "fig_name", "notebook", "niters", "compare", "strategy", "jit", "settings"}

# --settings report: what the report's own code (its 2D-codes/STYLEGAN.py) did where our defaults
# differ. Its --nlayers 4 meant 3 hidden layers (the 4th layer is the output), ours counts hidden
# layers. A flag given on the command line wins over the preset.
REPORT_SETTINGS = {
    "pack": 1,
    "lr_decay": False,
    "lrg": 3e-3,
    "lrd": 9e-3,
    "nlayers": 3,
    "activation": "relu",
    "shared_noise": True,
    "creativity_loss": "report",
}


def define_toy_flags(default_niters):
    flags.DEFINE_string(
        "dataset", "8Gaussians", f"Toy data set: {', '.join(toy_data.TOY_DATASETS)} (any case)."
    )
    flags.DEFINE_float("scale", 2.0, "Radius factor of the 8 Gaussians (before the division by 1.414).")
    flags.DEFINE_list("missing_mixt", [], "Mixtures (classes) removed from training, e.g. 1 or 1,4.")
    flags.DEFINE_integer("niters", default_niters, "Training iterations (one D and one G update each).")
    flags.DEFINE_integer("z_dim", 2, "Dimension of the generator's Gaussian noise.")
    flags.DEFINE_integer(
        "pack",
        None,
        "PacGAN packing: D judges this many samples at once (a remedy for mode "
        "collapse); --batch_size must be a multiple of it. Default 2, and 1 with a class head "
        "(STYLEGAN --label), whose predictions must be per sample.",
    )
    flags.DEFINE_enum(
        "activation",
        "leaky_relu",
        ["leaky_relu", "relu"],
        "Hidden activation of G and D: leaky_relu (0.2, GAN hacks) or relu (the report's code).",
    )
    flags.DEFINE_boolean(
        "shared_noise",
        False,
        "Feed the D update's noise batch to the G update too, as the "
        "report's code did (default: G draws its own).",
    )
    common_flags.define_settings_flag(
        {"report": REPORT_SETTINGS},
        "report: train as the report's own code did "
        "(--pack 1 --nolr_decay --lrg 3e-3 --lrd 9e-3, 3 hidden layers = its --nlayers 4, relu, "
        "--shared_noise, and for STYLEGAN --creativity_loss report); flags given explicitly win.",
    )
    flags.DEFINE_boolean(
        "lr_decay",
        True,
        "Cosine-decay both learning rates to 0 over --niters (lets G "
        "settle on sharp modes; see README). --nolr_decay: constant rates as in the original.",
    )
    flags.DEFINE_float(
        "r1_gamma",
        0.0,
        "R1 penalty weight on D's gradient at real points (0: off). With "
        "--r1_gamma 1 the 8 modes come out evenly weighted (mode KL 0.001-0.002 vs 0.004-0.09 "
        "without, 3 seeds) at no gain in HQ fraction; see README.",
    )
    flags.DEFINE_boolean("jit", True, "Compile the training step with XLA (faster on CPU and GPU).")


def apply_settings(FLAGS, class_head=False):
    """Resolves --settings (a preset of other flags; explicit flags win) and --pack's default."""
    common_flags.apply_settings(FLAGS, {"report": REPORT_SETTINGS})
    if FLAGS.pack is None:
        FLAGS.pack = 1 if class_head else 2
    common_flags.require(
        not (class_head and FLAGS.pack > 1),
        f"--pack {FLAGS.pack}: the class head of --label judges one sample at a time (its "
        "creativity loss must not depend on a partner); use --pack 1 with --label",
    )


def run_settings(FLAGS, experiment, name_parts=()):
    """Validates the shared flags; returns num_classes and the ToyRunSpec keyword arguments."""
    dataset = toy_data.canonical_name(FLAGS.dataset)
    num_classes = toy_data.toy_spec(dataset).num_classes
    missing = validate_classes(parse_class_list(FLAGS.missing_mixt), num_classes)
    common_flags.check_positive("batch_size", FLAGS.batch_size)
    common_flags.check_positive("niters", FLAGS.niters)
    common_flags.check_positive("z_dim", FLAGS.z_dim)
    common_flags.check_positive("pack", FLAGS.pack)
    common_flags.require(
        FLAGS.batch_size % FLAGS.pack == 0,
        f"--batch_size ({FLAGS.batch_size}) must be a multiple of --pack ({FLAGS.pack})",
    )
    common_flags.require(FLAGS.r1_gamma >= 0, f"--r1_gamma must be >= 0 (got {FLAGS.r1_gamma})")
    common_flags.require(FLAGS.scale > 0, f"--scale must be positive (got {FLAGS.scale})")
    require_toy_fits(FLAGS, num_classes)
    config = training_config(FLAGS)
    parts = (
        [dataset, *name_parts]
        + (["missing" + "-".join(map(str, missing))] if missing else [])
        + [f"seed{FLAGS.seed}"]
    )
    out_dir = FLAGS.out_dir or outputs.default_out_dir(experiment, FLAGS.fig_name, parts, config)
    spec = dict(
        out_dir=out_dir,
        dataset=dataset,
        scale=FLAGS.scale,
        missing=missing,
        seed=FLAGS.seed,
        niters=FLAGS.niters,
        batch_size=FLAGS.batch_size,
        strategy=FLAGS.strategy,
        jit_compile=FLAGS.jit,
    )
    return {"num_classes": num_classes, "spec": spec}


def require_toy_fits(FLAGS, num_classes):
    """G and D are MLPs of --nlayers x --nhidden: refuse, before building them, what cannot fit."""
    width, layers, batch = FLAGS.nhidden, FLAGS.nlayers, FLAGS.batch_size
    parameters = resources.mlp_parameters(
        FLAGS.z_dim + num_classes, width, layers, 2
    ) + resources.mlp_parameters(2 * FLAGS.pack + num_classes, width, layers, 1 + num_classes)
    activations = 3 * batch * width * layers
    if "minibatch_discriminate" in FLAGS and FLAGS.minibatch_discriminate:
        activations += 16 * batch * batch  # every pair of the batch, per kernel
    resources.require_fits(
        resources.training_bytes(parameters, activations),
        f"--nhidden {width} x --nlayers {layers} at --batch_size {batch}",
    )


def training_config(FLAGS):
    """The values of this script's flags that change what is trained."""
    main_module = FLAGS.find_module_defining_flag("label")
    names = [f.name for f in FLAGS.get_flags_for_module(main_module)]
    names += [
        "seed",
        "batch_size",
        "dataset",
        "scale",
        "missing_mixt",
        "z_dim",
        "pack",
        "lr_decay",
        "r1_gamma",
        "activation",
        "shared_noise",
    ]
    return {name: FLAGS[name].value for name in sorted(set(names)) if name not in NOT_TRAINING}


def model_config(FLAGS, num_classes, **specific):
    """The ToyGANConfig of the flags both scripts share; `specific`: the script's own fields."""
    from toy2d.toy_models import ToyGANConfig

    return ToyGANConfig(
        nhidden=FLAGS.nhidden,
        nlayers=FLAGS.nlayers,
        z_dim=FLAGS.z_dim,
        num_classes=num_classes,
        lrg=FLAGS.lrg,
        lrd=FLAGS.lrd,
        pack=FLAGS.pack,
        r1_gamma=FLAGS.r1_gamma,
        decay_steps=FLAGS.niters if FLAGS.lr_decay else 0,
        activation=FLAGS.activation,
        shared_noise=FLAGS.shared_noise,
        adam_epsilon=1e-8 if FLAGS.settings == "report" else 1e-7,  # TF1's Adam default, as the report's code
        **specific,
    )


def run_toy(spec, FLAGS, label, colour_by_label=False):
    from toy2d.toy_runs import ToyExperiment

    config = training_config(FLAGS)
    # decay_steps follows --niters, which may grow when a finished run is extended.
    config["model"] = str(dataclasses.replace(spec.model, decay_steps=int(bool(spec.model.decay_steps))))
    from common import distribute

    # Under multi_worker another worker writes into its own temporary directory.
    spec = dataclasses.replace(spec, out_dir=distribute.output_dir(spec.out_dir, spec.strategy))
    with rundir.claim(spec.out_dir, config):
        summary = ToyExperiment(spec).run(FLAGS.flag_values_dict(), label, colour_by_label)
    m = summary["metrics"]
    print(
        f"{label}: {m['modes_captured']}/{m['modes_present']} modes, HQ fraction {m['hq_fraction']:.3f}, "
        f"missing-mode hits {m['missing_mode_hits']:.4f}, mode KL {m['mode_kl']:.3f}"
    )
    if "present_labels_on_own_mode" in m:
        print(
            f"{label}: present labels land on their own mode {m['present_labels_on_own_mode']:.3f}; "
            + "; ".join(
                f"removed label {c} on its own mode {m[f'label_{c}_on_own_mode']:.3f}, "
                f"off every mode {m[f'removed_label_{c}_off_modes']:.3f}"
                for c in spec.missing
            )
        )
    print(f"figures: {', '.join(os.path.abspath(p) for p in summary['paths'])}")
    print(f"metrics: {os.path.abspath(os.path.join(spec.out_dir, 'metrics.json'))}")
    if FLAGS.notebook:
        outputs.show_in_notebook(summary["paths"])
    return summary


def write_comparison(out_dir, summaries, notebook):
    from toy2d.toy_runs import TOY_KEYS

    fig = plotting.scatter_density_figure([s["panel"] for s in summaries], TOY_KEYS)
    path = os.path.join(out_dir, "comparison.png")
    files.save_figure(fig, path)
    print(f"comparison figure: {os.path.abspath(path)}")
    if notebook:
        outputs.show_in_notebook([path])
