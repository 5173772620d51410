"""The study's statistics: the attention check, bootstrapped 95 % intervals (resampling
participants, as HYPE resamples evaluators), Krippendorff's alpha for ordinal answers, and the
analysis that analyze.py writes out."""

import numpy as np

LIKERT = ("q1", "q2", "q3", "q4", "q5")
NAMES = {
    "q1": "Q1 liking",
    "q2": "Q2 novelty of shape",
    "q3": "Q3 novelty of texture",
    "q4": "Q4 complexity of shape",
    "q5": "Q5 complexity of texture",
}
REPEAT_TOLERANCE = 1.5  # mean |difference| over Q1-Q5 allowed between the two showings


def attention_failures(manifest, answers):
    """Participants whose two answers to the repeated image disagree: Q6 differs, or Q1-Q5 differ
    by more than REPEAT_TOLERANCE on average. Participants without both answers are not judged."""
    repeat = manifest["attention_repeat"]
    pairs = {}
    for a in answers:
        if a["image_id"] == repeat:
            pairs.setdefault(a["pid"], []).append(a)
    failed = set()
    for pid, shown in pairs.items():
        if len(shown) < 2:
            continue
        first, second = shown[0], shown[1]
        drift = np.mean([abs(first[q] - second[q]) for q in LIKERT])
        if first["q6"] != second["q6"] or drift > REPEAT_TOLERANCE:
            failed.add(pid)
    return failed


def bootstrap_ci(groups, statistic, rng, resamples=2000, level=0.95):
    """Percentile interval of statistic(list of groups) over resamples of the groups (participants)
    with replacement; groups is a list of per-participant value lists. Returns (low, high)."""
    groups = [g for g in groups if len(g)]
    if not groups:
        return (float("nan"), float("nan"))
    values = []
    for _ in range(resamples):
        pick = rng.integers(0, len(groups), len(groups))
        values.append(statistic([groups[i] for i in pick]))
    tail = (1 - level) / 2
    return float(np.quantile(values, tail)), float(np.quantile(values, 1 - tail))


def pooled_mean(groups):
    flat = [v for g in groups for v in g]
    return float(np.mean(flat)) if flat else float("nan")


def krippendorff_alpha_ordinal(units):
    """Krippendorff's alpha, ordinal metric. units: one list of values per unit (rater order does not
    matter; missing values left out). Units with fewer than two values are not pairable and are
    dropped. Returns nan when there is no variation to compare against."""
    units = [list(u) for u in units if len(u) >= 2]
    if not units:
        return float("nan")
    values = sorted({v for u in units for v in u})
    index = {v: i for i, v in enumerate(values)}
    k = len(values)
    o = np.zeros((k, k))
    for u in units:
        m = len(u)
        for i, a in enumerate(u):
            for j, b in enumerate(u):
                if i != j:
                    o[index[a], index[b]] += 1.0 / (m - 1)
    n_c = o.sum(1)
    n = n_c.sum()
    delta = np.zeros((k, k))
    for c in range(k):
        for d in range(c, k):
            between = n_c[c : d + 1].sum() - (n_c[c] + n_c[d]) / 2
            delta[c, d] = delta[d, c] = between**2
    expected = (np.outer(n_c, n_c) * delta).sum()
    if expected == 0:
        return float("nan")
    return float(1 - (n - 1) * (o * delta).sum() / expected)


def analyze(manifest, participants, answers, seed=0, resamples=2000):
    """results: participant counts, per source the mean of Q1-Q5 and the rate judged "designer"
    with bootstrapped 95 % intervals and answer distributions, and alpha per question."""
    rng = np.random.default_rng(seed)
    total_items = len(manifest["images"]) + 1
    counts = {}
    for a in answers:
        counts[a["pid"]] = counts.get(a["pid"], 0) + 1
    finished = {p for p, c in counts.items() if c >= total_items}
    failed = attention_failures(manifest, answers) & finished
    kept = finished - failed
    source_of = {e["id"]: e["source"] for e in manifest["images"]}
    repeat = manifest["attention_repeat"]
    # The repeated image counts once per participant (its first showing).
    seen, rows = set(), []
    for a in sorted(answers, key=lambda a: (a["pid"], a["item"])):
        if a["pid"] not in kept or (a["pid"], a["image_id"]) in seen:
            continue
        seen.add((a["pid"], a["image_id"]))
        rows.append(dict(a, source=source_of.get(a["image_id"], "?")))
    results = {
        "participants": {
            "started": len(participants),
            "finished": len(finished),
            "failed_attention_check": len(failed),
            "included": len(kept),
            "unfinished": len(participants) - len(finished),
        },
        "attention_check": f"the image {repeat[:6]}… shown twice; fail: Q6 differs or Q1-Q5 differ by "
        "more than "
        f"{REPEAT_TOLERANCE} on average",
        "sources": {},
        "alpha_ordinal": {},
        "bootstrap": f"{resamples} resamples of participants, percentile 95 % intervals, seed {seed}",
    }
    for source in manifest["sources"]:
        mine = [r for r in rows if r["source"] == source]
        by_pid = {}
        for r in mine:
            by_pid.setdefault(r["pid"], []).append(r)
        entry = {"answers": len(mine), "questions": {}}
        for q in LIKERT:
            groups = [[r[q] for r in g] for g in by_pid.values()]
            mean = pooled_mean(groups)
            low, high = bootstrap_ci(groups, pooled_mean, rng, resamples)
            dist = [sum(r[q] == v for r in mine) for v in range(1, 6)]
            entry["questions"][q] = {"mean": mean, "ci95": [low, high], "distribution": dist}
        groups = [[1.0 if r["q6"] == "designer" else 0.0 for r in g] for g in by_pid.values()]
        low, high = bootstrap_ci(groups, pooled_mean, rng, resamples)
        entry["designer_rate"] = {"rate": pooled_mean(groups), "ci95": [low, high]}
        results["sources"][source] = entry
    for q in LIKERT + ("q6",):
        units = {}
        for r in rows:
            value = r[q] if q != "q6" else (1 if r["q6"] == "designer" else 2)
            units.setdefault(r["image_id"], []).append(value)
        results["alpha_ordinal"][q] = krippendorff_alpha_ordinal(units.values())
    return results


def markdown(results):
    p = results["participants"]
    lines = [
        "# Study results",
        "",
        *([f"**{results['note']}**", ""] if results.get("note") else []),
        f"Participants: {p['started']} started, {p['finished']} finished, "
        f"{p['failed_attention_check']} failed the attention check (excluded), {p['included']} included. "
        f"Attention check: {results['attention_check']}. "
        f"Intervals: {results['bootstrap']}.",
        "",
        "| source | answers | judged made by a designer | " + " | ".join(NAMES[q] for q in LIKERT) + " |",
        "|---|---|---|" + "---|" * len(LIKERT),
    ]

    def cell(mean, ci):
        return "—" if mean != mean else f"{mean:.2f} [{ci[0]:.2f}, {ci[1]:.2f}]"

    for source, e in results["sources"].items():
        rate = e["designer_rate"]
        lines.append(
            f"| {source} | {e['answers']} | {cell(rate['rate'], rate['ci95'])} | "
            + " | ".join(cell(e["questions"][q]["mean"], e["questions"][q]["ci95"]) for q in LIKERT)
            + " |"
        )
    lines += [
        "",
        "Agreement between participants (Krippendorff's alpha, ordinal; 1 = perfect, 0 = chance): "
        + ", ".join(
            f"{NAMES.get(q, 'Q6 designer/computer')} {a:.2f}" if a == a else f"{q} —"
            for q, a in results["alpha_ordinal"].items()
        )
        + ".",
        "",
        "The real images' designer rate is the reference: a source whose images are judged 'designer' as "
        "often as real ones fools the participants (HYPE's measure).",
    ]
    return "\n".join(lines) + "\n"


def figure(results, path):
    from matplotlib.figure import Figure

    from common import files

    sources = list(results["sources"])
    fig = Figure(figsize=(12, 7.5))
    grid = fig.add_gridspec(2, 5, height_ratios=[1.2, 1])
    ax = fig.add_subplot(grid[0, :3])
    width = 0.8 / max(len(sources), 1)
    for s, source in enumerate(sources):
        qs = results["sources"][source]["questions"]
        means = [qs[q]["mean"] for q in LIKERT]
        err = np.array(
            [[qs[q]["mean"] - qs[q]["ci95"][0], qs[q]["ci95"][1] - qs[q]["mean"]] for q in LIKERT]
        ).T
        ax.bar(np.arange(5) + s * width, means, width, yerr=np.nan_to_num(err), capsize=3, label=source)
    ax.set_xticks(
        np.arange(5) + width * (len(sources) - 1) / 2,
        [NAMES[q].replace(" ", "\n", 1) for q in LIKERT],
        fontsize=8,
    )
    ax.set_ylim(1, 5)
    ax.set_ylabel("mean answer (1-5), 95 % CI")
    ax.legend(fontsize=8)
    ax.set_title("Q1-Q5 by source")
    ax = fig.add_subplot(grid[0, 3:])
    rates = [results["sources"][s]["designer_rate"] for s in sources]
    err = np.array([[r["rate"] - r["ci95"][0], r["ci95"][1] - r["rate"]] for r in rates]).T
    ax.bar(range(len(sources)), [r["rate"] for r in rates], yerr=np.nan_to_num(err), capsize=4, color="C2")
    if "real" in results["sources"]:
        ax.axhline(
            results["sources"]["real"]["designer_rate"]["rate"], color="k", ls="--", lw=1, label="real images"
        )
        ax.legend(fontsize=8)
    ax.set_xticks(range(len(sources)), sources, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_title("Q6: judged made by a designer (95 % CI)")
    for i, q in enumerate(LIKERT):
        ax = fig.add_subplot(grid[1, i])
        for source in sources:
            dist = np.array(results["sources"][source]["questions"][q]["distribution"], float)
            ax.plot(range(1, 6), dist / max(dist.sum(), 1), marker="o", label=source)
        ax.set_title(NAMES[q], fontsize=8)
        ax.set_xticks(range(1, 6))
        ax.set_ylim(0, 1)
    p = results["participants"]
    fig.suptitle(
        (f"{results['note']}\n" if results.get("note") else "")
        + f"{p['included']} participants included ({p['failed_attention_check']} failed the attention check, "
        f"{p['unfinished']} unfinished)",
        fontsize=10,
    )
    fig.tight_layout()
    files.save_figure(fig, path)
