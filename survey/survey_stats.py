"""The study's statistics: quality control (repeated images answered alike, the instructed-response
item, straight-lining), 95 % intervals that account for both participants and images (a crossed
bootstrap: participants and images resampled independently), Krippendorff's alpha for ordinal
answers, and the analysis that analyze.py writes out."""

import numpy as np

REPEAT_TOLERANCE = 1.5 / 4  # mean |difference| over the scales allowed between two showings, of the range
STRAIGHT_SHARE = 0.8  # the same answers to every question on this share of the images: straight-lining
MIN_PARTICIPANTS = 10
CHECKS = {
    "repeats": "repeated images answered differently",
    "instructed": "instructed-response item not followed",
    "straight-lining": "straight-lining",
}  # fewer kept participants: no intervals, the analysis says so


def _scales(manifest):
    return manifest["questions"]["scales"]


def _choice(manifest):
    return manifest["questions"]["choice"]


def exclusions(manifest, participants, answers):
    """{pid: {check: detail}} of the finished participants the quality checks exclude: more than half of
    their repeated images answered differently (another choice, or the scales apart by more than
    REPEAT_TOLERANCE of their range on average), the instructed-response item not followed, or
    straight-lining (one answer vector on STRAIGHT_SHARE of the images or more)."""
    from survey import questions as questions_lib

    scales, choice = _scales(manifest), _choice(manifest)
    required, _ = questions_lib.instructed(manifest["questions"])
    total = len(manifest["images"]) + len(manifest["repeats"]) + 1
    by_pid = {}
    for a in answers:
        by_pid.setdefault(a["pid"], []).append(a)
    out = {}
    for pid, mine in by_pid.items():
        if len(mine) < total:
            continue  # unfinished: not analysed, not judged
        reasons = {}
        first = {a["image_id"]: a for a in mine if a["kind"] == "study"}
        inconsistent = 0
        repeats = [a for a in mine if a["kind"] == "repeat"]
        for a in repeats:
            b = first.get(a["image_id"])
            if b is None:
                continue
            drift = np.mean([abs(a[s["id"]] - b[s["id"]]) / (s["points"] - 1) for s in scales])
            inconsistent += a[choice["id"]] != b[choice["id"]] or drift > REPEAT_TOLERANCE
        if repeats and inconsistent > len(repeats) / 2:
            reasons["repeats"] = f"answered {inconsistent} of {len(repeats)} repeated images differently"
        for a in mine:
            if a["kind"] == "instructed" and any(str(a[q]) != v for q, v in required.items()):
                reasons["instructed"] = "did not follow the instructed-response item"
        vectors = [
            tuple(a[s["id"]] for s in scales) + (a[choice["id"]],) for a in mine if a["kind"] == "study"
        ]
        if vectors:
            _, counts = np.unique(np.array(vectors, dtype=object).astype(str), axis=0, return_counts=True)
            if counts.max() / len(vectors) >= STRAIGHT_SHARE:
                reasons["straight-lining"] = f"the same answers on {counts.max()} of {len(vectors)} images"
        if reasons:
            out[pid] = reasons
    return out


def answer_matrix(rows, value):
    """(participants, images) matrix of value(row), NaN where a participant did not answer."""
    pids = {p: n for n, p in enumerate(sorted({r["pid"] for r in rows}))}
    images = {i: n for n, i in enumerate(sorted({r["image_id"] for r in rows}))}
    m = np.full((len(pids), len(images)), np.nan)
    for r in rows:
        m[pids[r["pid"]], images[r["image_id"]]] = value(r)
    return m


def crossed_bootstrap(matrix, rng, resamples=2000, level=0.95):
    """Percentile interval of the mean of a (participants, images) matrix (NaN: not answered) when
    participants and images are resampled independently with replacement (Owen's pigeonhole
    bootstrap: it accounts for both sources of variation). Returns (low, high)."""
    m = np.asarray(matrix, np.float64)
    p, i = m.shape
    if p == 0 or i == 0 or np.all(np.isnan(m)):
        return (float("nan"), float("nan"))
    values = np.empty(resamples)
    for r in range(resamples):
        rows, cols = rng.integers(0, p, p), rng.integers(0, i, i)
        values[r] = np.nanmean(m[np.ix_(rows, cols)]) if np.any(~np.isnan(m[np.ix_(rows, cols)])) else np.nan
    values = values[~np.isnan(values)]
    tail = (1 - level) / 2
    return float(np.quantile(values, tail)), float(np.quantile(values, 1 - tail))


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


def analyze(manifest, participants, answers, seed=0, resamples=2000, min_participants=MIN_PARTICIPANTS):
    """results: participant counts and exclusions by reason, per source the mean of every scale and
    the rate of the choice's 'real' option with 95 % intervals (crossed bootstrap; none below
    min_participants kept participants), answer distributions, and alpha per question."""
    rng = np.random.default_rng(seed)
    scales, choice = _scales(manifest), _choice(manifest)
    total = len(manifest["images"]) + len(manifest["repeats"]) + 1
    counts = {}
    for a in answers:
        counts[a["pid"]] = counts.get(a["pid"], 0) + 1
    finished = {p for p, c in counts.items() if c >= total}
    excluded = exclusions(manifest, participants, answers)
    kept = sorted(finished - set(excluded))
    by_reason = {check: sum(check in r for r in excluded.values()) for check in CHECKS}
    source_of = {e["id"]: e["source"] for e in manifest["images"]}
    rows = [
        dict(a, source=source_of.get(a["image_id"], "?"))
        for a in answers
        if a["pid"] in set(kept) and a["kind"] == "study"  # first showings only
    ]
    enough = len(kept) >= min_participants
    results = {
        "participants": {
            "started": len(participants),
            "finished": len(finished),
            "excluded": len(excluded),
            "excluded_by_reason": by_reason,
            "included": len(kept),
            "unfinished": len(participants) - len(finished),
        },
        "enough": enough,
        "min_participants": min_participants,
        "quality_checks": (
            f"{len(manifest['repeats'])} image(s) shown twice (excluded when more than half are answered "
            f"differently: another choice, or the scales apart by more than {REPEAT_TOLERANCE:.0%} of "
            "their range on average), one instructed-response item, straight-lining (the same answers on "
            f"{STRAIGHT_SHARE:.0%} of the images or more)"
        ),
        "questions": manifest["questions"],
        "sources": {},
        "alpha_ordinal": {},
        "intervals": (
            f"{resamples} crossed bootstrap resamples (participants and images resampled independently), "
            f"percentile 95 % intervals, seed {seed}"
            if enough
            else f"none: {len(kept)} participant(s) kept, fewer than {min_participants}"
        ),
        "tells": manifest.get("tells", {}).get("tells", []),
    }
    for source in manifest["sources"]:
        mine = [r for r in rows if r["source"] == source]
        images = sorted({r["image_id"] for r in mine})

        def summary(value, mine=mine):
            m = answer_matrix(mine, value)
            mean = float(np.nanmean(m)) if m.size and np.any(~np.isnan(m)) else float("nan")
            ci = list(crossed_bootstrap(m, rng, resamples)) if enough else None
            return mean, ci

        entry = {"answers": len(mine), "images": len(images), "questions": {}}
        for s in scales:
            mean, ci = summary(lambda r, q=s["id"]: r[q])
            dist = [sum(r[s["id"]] == v for r in mine) for v in range(1, s["points"] + 1)]
            entry["questions"][s["id"]] = {"mean": mean, "ci95": ci, "distribution": dist}
        rate, ci = summary(lambda r: float(r[choice["id"]] == choice["real"]))
        entry["real_rate"] = {"rate": rate, "ci95": ci}
        results["sources"][source] = entry
    for q in [s["id"] for s in scales] + [choice["id"]]:
        units = {}
        for r in rows:
            value = r[q] if q != choice["id"] else choice["options"].index(r[q]) + 1
            units.setdefault(r["image_id"], []).append(value)
        results["alpha_ordinal"][q] = krippendorff_alpha_ordinal(units.values())
    return results


def _name(results, q):
    spec = results["questions"]
    text = next((s["text"] for s in spec["scales"] if s["id"] == q), spec["choice"]["text"])
    return f"{q.upper()} {text[:40]}"


def markdown(results):
    p = results["participants"]
    spec = results["questions"]
    scales = [s["id"] for s in spec["scales"]]
    reasons = ", ".join(f"{n} {CHECKS[r]}" for r, n in p["excluded_by_reason"].items() if n)
    lines = [
        "# Study results",
        "",
        *([f"**{results['note']}**", ""] if results.get("note") else []),
        *(
            [
                "**The study was built with tells (accepted knowingly): "
                + "; ".join(results["tells"])
                + ".**",
                "",
            ]
            if results.get("tells")
            else []
        ),
        f"Participants: {p['started']} started, {p['finished']} finished, {p['excluded']} excluded"
        + (f" ({reasons})" if reasons else "")
        + f", {p['included']} included. Quality checks: {results['quality_checks']}. "
        f"Intervals: {results['intervals']}.",
        "",
    ]
    if not results["enough"]:
        lines += [
            f"**Too few participants for intervals** ({p['included']} kept, at least "
            f"{results['min_participants']} needed): the means below describe these people only.",
            "",
        ]
    lines += [
        f"| source | answers | judged “{spec['choice']['real']}” | "
        + " | ".join(_name(results, q) for q in scales)
        + " |",
        "|---|---|---|" + "---|" * len(scales),
    ]

    def cell(mean, ci):
        if mean != mean:
            return "—"
        return f"{mean:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")

    for source, e in results["sources"].items():
        rate = e["real_rate"]
        lines.append(
            f"| {source} | {e['answers']} | {cell(rate['rate'], rate['ci95'])} | "
            + " | ".join(cell(e["questions"][q]["mean"], e["questions"][q]["ci95"]) for q in scales)
            + " |"
        )
    lines += [
        "",
        "Agreement between participants (Krippendorff's alpha, ordinal; 1 = perfect, 0 = chance): "
        + ", ".join(
            f"{q.upper()} {a:.2f}" if a == a else f"{q.upper()} —"
            for q, a in results["alpha_ordinal"].items()
        )
        + ".",
        "",
        f"The real images' rate of “{spec['choice']['real']}” is the reference: a source judged so as "
        "often as real images fools the participants (HYPE's measure).",
    ]
    return "\n".join(lines) + "\n"


def figure(results, path):
    from matplotlib.figure import Figure

    from common import files

    sources = list(results["sources"])
    spec = results["questions"]
    scales = [s["id"] for s in spec["scales"]]
    fig = Figure(figsize=(12, 7.5))
    grid = fig.add_gridspec(2, max(len(scales), 2), height_ratios=[1.2, 1])
    half = max(len(scales), 2) // 2 + 1
    ax = fig.add_subplot(grid[0, :half])
    width = 0.8 / max(len(sources), 1)

    def errors(entries):
        return np.array(
            [[e[0] - e[1][0], e[1][1] - e[0]] if e[1] else [0.0, 0.0] for e in entries], np.float64
        ).T

    for s, source in enumerate(sources):
        qs = results["sources"][source]["questions"]
        means = [qs[q]["mean"] for q in scales]
        err = errors([(qs[q]["mean"], qs[q]["ci95"]) for q in scales])
        ax.bar(
            np.arange(len(scales)) + s * width, means, width, yerr=np.nan_to_num(err), capsize=3, label=source
        )
    ax.set_xticks(
        np.arange(len(scales)) + width * (len(sources) - 1) / 2, [q.upper() for q in scales], fontsize=8
    )
    ax.set_ylim(1, max(s["points"] for s in spec["scales"]))
    ax.set_ylabel("mean answer" + (", 95 % CI" if results["enough"] else " (too few participants for CIs)"))
    ax.legend(fontsize=8)
    ax.set_title("the scales by source")
    ax = fig.add_subplot(grid[0, half:])
    rates = [results["sources"][s]["real_rate"] for s in sources]
    err = errors([(r["rate"], r["ci95"]) for r in rates])
    ax.bar(range(len(sources)), [r["rate"] for r in rates], yerr=np.nan_to_num(err), capsize=4, color="C2")
    if "real" in results["sources"]:
        ax.axhline(
            results["sources"]["real"]["real_rate"]["rate"], color="k", ls="--", lw=1, label="real images"
        )
        ax.legend(fontsize=8)
    ax.set_xticks(range(len(sources)), sources, fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_title(f"judged “{spec['choice']['real']}”")
    for i, s in enumerate(spec["scales"]):
        ax = fig.add_subplot(grid[1, i])
        for source in sources:
            dist = np.array(results["sources"][source]["questions"][s["id"]]["distribution"], float)
            ax.plot(range(1, s["points"] + 1), dist / max(dist.sum(), 1), marker="o", label=source)
        ax.set_title(_name(results, s["id"])[:28], fontsize=8)
        ax.set_xticks(range(1, s["points"] + 1))
        ax.set_ylim(0, 1)
    p = results["participants"]
    fig.suptitle(
        (f"{results['note']}\n" if results.get("note") else "")
        + f"{p['included']} participants included ({p['excluded']} excluded by the quality checks, "
        f"{p['unfinished']} unfinished)",
        fontsize=10,
    )
    fig.tight_layout()
    files.save_figure(fig, path)
