"""One command reproduces the report: runs the experiments behind every finding of the report
(seed 001, sections 2.2-2.6), its poster (000) and Ahn, Lee and Huang's CAN implementation (004)
over confirmatory seeds, with the positive controls and the report's figure settings, then writes
a results page. For each finding: the sentence it tests, quoted with its source (or the label
"our reading" / "our experiment"), what we measure, on which representation, the frozen criterion,
our numbers with 95 % intervals, a verdict of four (reproduced, not reproduced, inconclusive, not
testable here) decided by them, the controls, our figure and — with --reference_figures — the
report's beside it. The judges are validated on the page.

    python -m reporting            # make report: about 2.5 hours on 2 CPU cores
    python -m reporting --quick    # make report QUICK=1: toy settings, a few minutes

Writes <out>/index.html (self-contained: styles inline, figures in <out>/figures/),
<out>/findings.json and <out>/FINDINGS.md; the runs go to <out>/runs/ as jobs of
reporting/engine.py (--engine local|slurm, --parallel N). A finished run is never run again, so
rerunning the command resumes an interrupted report and rebuilds the page in seconds. Exit status
0 when every run succeeded, 1 when some failed (the page says which).
"""

import argparse
import html
import json
import os
import platform
import re
import shutil
import sys
import time

from common import files
from reporting import engine, grading, stats
from reporting import findings as rf
from reporting import runs as report_runs

ROOT = engine.ROOT
VERDICT_CLASS = {
    stats.REPRODUCED: "yes",
    stats.INCONCLUSIVE: "partly",
    stats.NOT_REPRODUCED: "no",
    stats.NOT_TESTABLE: "untestable",
}
# The judges' validation: per data set, the classes findings ask about.
JUDGED_CLASSES = {"fashion-mnist": (1, 3, 7), "mnist": (3, 9)}


# The README's figures (docs/figures/): made from the report's runs (the first seed that succeeded),
# so every figure the README shows comes from a command on the report page.
DOCS_FIGURES = {
    "stylegan_comparison.png": ("toy_compare", "comparison.png"),
    "cgan_snapshots.png": ("cgan", "snapshots.png"),
    "infogan_mnist_remove3.png": ("infogan", "code_grid.png"),
    "infogan_mnist_remove3_sweep.png": ("infogan", "continuous_sweep.png"),
    "vae_latent.png": ("vae_trousers_removed", "latent.png"),
    "vae_trousers_removed.png": ("vae_trousers_removed", "manifold.png"),
    "vae_sneakers_removed.png": ("vae_sneakers_removed", "manifold.png"),
    "vae_one_shot_trousers.png": ("vae_one_shot_trousers", "few_shot.png"),
    "vae_four_shot_9.png": ("vae_four_shot_9", "few_shot.png"),
    "vae_four_shot_9_manifold.png": ("vae_four_shot_9", "manifold.png"),
    "figr_mnist_few_shot.png": ("figr", "few_shot.png"),
    "figr_mnist_progression.png": ("figr", "progression.png"),
    "figr_mnist_adaptation.png": ("figr", "adaptation.png"),
    "can_samples.png": ("can", "samples.png"),
    "can_progression.png": ("can", "progression.png"),
    "baseline_samples.png": ("can_baseline", "samples.png"),
    "baseline_progression.png": ("can_baseline", "progression.png"),
}
README_BEGIN = "<!-- report:begin (written by python -m reporting from report/findings.json; do not edit) -->"
README_END = "<!-- report:end -->"


def first_ok_file(data, runs_root, run_id, name):
    """(path, seed) of `name` in the first seed of run_id that succeeded and has it, else None."""
    for seed, (record, _) in sorted(data.get(run_id, {}).items()):
        path = os.path.join(runs_root, run_id, f"seed{seed}", name)
        if record["status"] == "ok" and os.path.exists(path):
            return path, seed
    return None


def publish(findings, meta, data, runs_root, out_dir):
    """The full report's extras for the repository: docs/figures/ from its runs, a screenshot of
    the page, and the README's summary block (the claims' verdicts and the count of each)."""
    docs = os.path.join(ROOT, "docs", "figures")
    for target, (run_id, name) in DOCS_FIGURES.items():
        found = first_ok_file(data, runs_root, run_id, name)
        if found:
            shutil.copyfile(found[0], os.path.join(docs, target))
    from reporting import browser

    try:
        driver = browser.chromium(1200, 1000)
        try:
            driver.get("file://" + os.path.join(out_dir, "index.html"))
            driver.save_screenshot(os.path.join(docs, "report_page.png"))
        finally:
            driver.quit()
    except browser.NoBrowser as missing:
        print(f"report: no screenshot of the page ({missing})", file=sys.stderr)
    write_readme_block(os.path.join(ROOT, "README.md"), findings, meta)


def write_readme_block(readme_path, findings, meta):
    """The README's summary block (the claims' verdicts and the count of each), between its
    markers (any text after "report:begin" in the opening marker: older READMEs say
    benchmarks/report.py there)."""
    claims = [f for f in findings if f["kind"] == "claim"]
    lines = [
        README_BEGIN,
        f"**{len(claims)} claim{'' if len(claims) == 1 else 's'} of the sources: {headline(claims)}** "
        f"(`{meta['command']}` at commit "
        f"`{meta['commit']}`, criteria frozen at `{meta['criteria_commit']}`, {meta['made']}, confirmatory "
        f"seeds {meta['confirmatory']}+, {meta['wall_minutes']:.0f} min of runs on "
        f"{meta['machine']['cores']} "
        "CPU cores). Every row's quote, numbers with 95 % intervals, controls and figure: "
        "[report/FINDINGS.md](report/FINDINGS.md) and the page `report/index.html`; our readings of the "
        "report's figures and our extra experiments are there too, outside this count.",
        "",
        "| the source says | where | verdict |",
        "|---|---|---|",
    ]
    lines += [f"| “{short(f['quote'])}” | {f['source']} | {f['verdict']} |" for f in claims]
    lines.append(README_END)
    with open(readme_path, encoding="utf-8") as f:
        readme = f.read()
    begin = re.search(r"<!-- report:begin[^\n]*?-->", readme)
    if begin is None or README_END not in readme[begin.end() :]:
        raise ValueError(f"{readme_path} has no report block (its markers are missing)")
    rest = readme[begin.end() :].split(README_END, 1)[1]
    files.write_bytes(readme_path, (readme[: begin.start()] + "\n".join(lines) + rest).encode())


def short(text, limit=110):
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


def headline(findings):
    counts = {v: sum(f["verdict"] == v for f in findings) for v in stats.VERDICTS}
    return ", ".join(f"{n} {v}" for v, n in counts.items())


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def provenance(specs, data):
    """Per run id: its role, the command, seeds (ok / failed), commits, data sources, wall time, load."""
    rows = []
    for spec in specs:
        loaded = data[spec.run_id]
        sources = sorted({m.get("final", {}).get("data_source", "") for _, m in loaded.values()} - {""})
        rows.append(
            {
                "run": spec.run_id,
                "role": spec.role,
                "command": spec.printed(),
                "seeds": list(spec.seeds),
                "seeds_ok": [s for s, (r, _) in sorted(loaded.items()) if r["status"] == "ok"],
                "seeds_failed": [s for s, (r, _) in sorted(loaded.items()) if r["status"] != "ok"],
                "failures": {str(s): r["message"] for s, (r, _) in loaded.items() if r["status"] != "ok"},
                "commits": sorted({r["commit"] for r, _ in loaded.values()}),
                "data_source": sources,
                "wall_seconds": round(sum(r["wall_seconds"] for r, _ in loaded.values()), 1),
                "load_average": [r["load_average_start"] for r, _ in loaded.values()],
            }
        )
    return rows


def judge_validation(grader, log):
    """{data set: validation rows} of the judges (reporting/grading.py), on the data sets whose
    judges the findings used."""
    out = {}
    for name, classes in JUDGED_CLASSES.items():
        if name in grader._judges:  # only the data sets a finding graded
            out[name] = grader.validation(name, classes)
            log(f"report: judges of {name} validated")
    return out


def select_findings(text):
    """`--findings a,b` -> the findings of those ids (in the page's order); None -> all."""
    if not text:
        return list(rf.FINDINGS)
    wanted = [t.strip() for t in text.split(",") if t.strip()]
    known = {f.finding_id for f in rf.FINDINGS}
    unknown = [t for t in wanted if t not in known]
    if unknown:
        raise ValueError(f"unknown finding(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return [f for f in rf.FINDINGS if f.finding_id in wanted]


def needed_runs(specs, chosen):
    """The run specs the chosen findings read: their runs, controls and figure runs."""
    ids = set()
    for f in chosen:
        ids.update(f.runs, f.controls, f.figure[:1])
    return [spec for spec in specs if spec.run_id in ids]


def evaluate(specs, runs_root, grade=True, log=print, chosen=None):
    chosen = list(rf.FINDINGS) if chosen is None else chosen
    data = {spec.run_id: report_runs.load(runs_root, spec) for spec in specs}
    by_id = {spec.run_id: spec for spec in specs}
    grader = grading.Grader(log=log) if grade else None
    ctx = rf.Context(data, runs_root, grader)
    for f in chosen:  # a first pass loads the judges of every data set a finding grades
        f.evaluate(ctx)
    validation = judge_validation(grader, log) if grader else {}
    ctx.validation = validation
    # Again, now with the judges' false-positive floors (a subset of the findings validates the
    # data sets its own findings grade, claims included).
    results = {f.finding_id: f.evaluate(ctx) for f in chosen}
    findings = []
    for finding in chosen:
        result = results[finding.finding_id]
        findings.append(
            {
                "id": finding.finding_id,
                "kind": finding.kind,
                "source": finding.source,
                "quote": finding.quote,
                "test": finding.test,
                "representation": finding.representation,
                "criterion": finding.criterion,
                "commands": [by_id[r].printed() for r in finding.runs if r in by_id],
                "controls": [by_id[r].printed() for r in finding.controls if r in by_id],
                "runs": list(finding.runs) + list(finding.controls),
                "verdict": result.verdict,
                "reason": result.reason,
                "numbers": [
                    {
                        "label": n.label,
                        "role": n.role,
                        "values": n.values,
                        "estimate": n.interval.estimate,
                        "low": n.interval.low,
                        "high": n.interval.high,
                        "n": n.interval.n,
                        "method": n.interval.method,
                        "p_value": n.interval.p_value,
                        "summary": n.summary(),
                    }
                    for n in result.numbers
                ],
                "figure": list(finding.figure),
                "report_figure": finding.report_figure,
                "differs": finding.differs,
            }
        )
    return findings, data, validation


def copy_figures(findings, data, runs_root, out_dir, reference_dir=None):
    """Our figure of each finding (first successful seed) into out/figures/<finding>.png; with
    reference_dir, the report's figure beside it, linked where it lies (never copied)."""
    os.makedirs(os.path.join(out_dir, "figures"), exist_ok=True)
    for finding in findings:
        finding["figure_file"] = finding["reference_file"] = None
        if finding["figure"]:
            found = first_ok_file(data, runs_root, *finding["figure"])
            if found:
                target = f"figures/{finding['id']}.png"
                shutil.copyfile(found[0], os.path.join(out_dir, target))
                finding["figure_file"], finding["figure_seed"] = target, found[1]
        if reference_dir and finding["report_figure"]:
            path = os.path.join(reference_dir, finding["report_figure"])
            if os.path.exists(path):
                finding["reference_file"] = os.path.relpath(path, out_dir)


def esc(text):
    return html.escape(str(text))


STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:0 auto;
padding:1em;color:#222;line-height:1.45}
h1{font-size:1.6em}
h2{margin-top:2em;border-bottom:2px solid #ddd}
code{background:#f3f3f3;padding:0 .2em;font-size:.9em}
blockquote{margin:.4em 0;padding:.2em .8em;border-left:4px solid #9ab;background:#f6f8fa}
table.summary{border-collapse:collapse;width:100%;font-size:.92em}
table.summary td,table.summary th{border:1px solid #ddd;padding:.3em .5em;vertical-align:top}
.finding{border:1px solid #ddd;border-radius:6px;padding:.8em 1em;margin:1.2em 0}
.verdict{display:inline-block;padding:.1em .6em;border-radius:1em;font-weight:600;font-size:.9em}
.yes{background:#d8f5d0;color:#185c0b}
.partly{background:#fff0c2;color:#6b5200}
.no{background:#fbd5d5;color:#7a1010}
.untestable{background:#e4e4e4;color:#444}
.numbers td{padding:.15em .6em;border-bottom:1px solid #eee}
.numbers td.v{font-family:ui-monospace,monospace;white-space:nowrap}
.numbers tr.control td{color:#345}
.figs{display:flex;flex-wrap:wrap;gap:1em}
.figs figure{flex:1 1 420px;margin:0}
img.fig{max-width:100%;border:1px solid #ccc;margin-top:.5em}
.muted{color:#666;font-size:.9em}
"""


def verdict_badge(verdict):
    return (
        f"<span class='verdict {VERDICT_CLASS[verdict]}' data-verdict='{esc(verdict)}'>{esc(verdict)}</span>"
    )


def render_finding(f):
    parts = [
        f"<div class='finding' id='{esc(f['id'])}' data-finding='{esc(f['id'])}' "
        f"data-kind='{esc(f['kind'])}'>"
    ]
    parts.append(f"<p><b>{esc(f['source'])}</b></p>")
    if f["quote"]:
        parts.append(f"<blockquote class='quote'>{esc(f['quote'])}</blockquote>")
    label = {"reading": "Our reading", "extra": "Our experiment", "cited": "Not a claim of our sources"}
    parts.append(f"<p>{esc(label.get(f['kind'], 'What we measure'))}: {esc(f['test'])}</p>")
    parts.append(f"<p>{verdict_badge(f['verdict'])} {esc(f['reason'])}</p>")
    parts.append(
        f"<p class='muted'>Graded on: {esc(f['representation'])}. Criterion (frozen): "
        f"{esc(f['criterion'])}.</p>"
    )
    if f["numbers"]:
        parts.append("<table class='numbers'>")
        for n in f["numbers"]:
            role = " (control)" if n["role"] == "control" else ""
            parts.append(
                f"<tr class='{esc(n['role'])}' data-low='{n['low']}' data-high='{n['high']}'>"
                f"<td>{esc(n['label'])}{role}</td><td class='v interval'>{esc(n['summary'])}</td>"
                f"<td class='muted'>{esc(n['method'])}</td></tr>"
            )
        parts.append("</table>")
    if f["commands"]:
        parts.append(
            "<p class='muted'>Commands (plus <code>--seed S</code>): "
            + "; ".join(f"<code>{esc(c)}</code>" for c in f["commands"])
            + (
                "; controls: " + "; ".join(f"<code class='control'>{esc(c)}</code>" for c in f["controls"])
                if f["controls"]
                else ""
            )
            + "</p>"
        )
    figures = []
    if f.get("figure_file"):
        figures.append(
            f"<figure><img class='fig' src='{esc(f['figure_file'])}' alt='our figure for {esc(f['id'])}' "
            f"loading='lazy'><figcaption class='muted'>Ours (seed {f['figure_seed']}).</figcaption></figure>"
        )
    if f.get("reference_file"):
        figures.append(
            f"<figure><img class='fig reference' src='{esc(f['reference_file'])}' alt='the report's "
            f"figure {esc(f['report_figure'])}' loading='lazy'><figcaption class='muted'>The report's "
            f"{esc(f['report_figure'])}.</figcaption></figure>"
        )
    if figures:
        parts.append("<div class='figs'>" + "".join(figures) + "</div>")
    if f["differs"] or (f["report_figure"] and not f.get("reference_file")):
        parts.append(
            "<p class='muted'>"
            + (f"The report's figure: {esc(f['report_figure'])}. " if f["report_figure"] else "")
            + esc(f["differs"])
            + "</p>"
        )
    parts.append("</div>")
    return "\n".join(parts)


def render_validation(validation):
    from reporting import grading

    if not validation:
        return ""
    parts = [
        "<h2 id='judges'>The judges</h2>",
        "<p>Every judged number is the mean of three classifiers (seeds 0, 1, 2; seed 0 is each run's own), "
        "trained on all classes of the data set. Below: their accuracy and per-class precision and recall on "
        "the held-out test images, and for each class a finding asks about, the share of real test images of "
        "the <i>other</i> classes they judge to be that class — as they are, blurred, binarised and noisy "
        "(the kinds of images the runs produce). A rate below that floor is the judges' noise.</p>",
    ]
    for name, rows in validation.items():
        parts.append(
            f"<h3>{esc(name)}</h3><p>Test accuracy per judge: "
            f"{esc(', '.join(f'{a:.4f}' for a in rows['accuracy']))}</p>"
        )
        parts.append(
            "<table class='summary'><tr><th>class</th><th>precision (per judge)</th><th>recall "
            "(per judge)</th></tr>"
        )
        for c in sorted(rows["precision"], key=int):
            parts.append(
                f"<tr><td>{c}</td><td>{esc(', '.join(f'{v:.3f}' for v in rows['precision'][c]))}</td>"
                f"<td>{esc(', '.join(f'{v:.3f}' for v in rows['recall'][c]))}</td></tr>"
            )
        parts.append("</table><table class='summary'><tr><th>class</th>")
        parts += [f"<th>false positives, {esc(how)}</th>" for how in grading.DEGRADATIONS]
        parts.append("<th>floor</th></tr>")
        for c, per_judge in rows["false_positives"].items():
            cells = "".join(
                f"<td>{esc(', '.join(f'{j[how]:.4f}' for j in per_judge))}</td>"
                for how in grading.DEGRADATIONS
            )
            parts.append(f"<tr><td>{c}</td>{cells}<td>{grading.floor(rows, c):.4f}</td></tr>")
        parts.append("</table>")
    return "\n".join(parts)


def render_html(findings, prov, meta, validation):
    claims = [f for f in findings if f["kind"] == "claim"]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>creative-gans: the report's findings, reproduced"
        + (" (QUICK)" if meta["quick"] else "")
        + "</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Creativity in GANs: which of the sources' claims hold?</h1>",
    ]
    if meta["quick"]:
        parts.append(
            "<p class='verdict no'>QUICK mode: toy settings and one seed that exercise the code; these "
            "numbers and verdicts mean nothing about the findings.</p>"
        )
    if meta.get("subset"):
        parts.append(
            f"<p class='verdict no' id='subset'>A partial page: {len(meta['subset'])} of the "
            f"{meta['findings_total']} findings (--findings); the others were not run or graded here.</p>"
        )
    parts.append(
        f"<p id='headline'><b>{len(claims)} claims of the sources: {esc(headline(claims))}.</b> Made by "
        f"<code>{esc(meta['command'])}</code> at commit <code>{esc(meta['commit'])}</code> "
        f"on {esc(meta['made'])}; "
        f"runs: {meta['runs_ok']} succeeded, {meta['runs_failed']} failed, {meta['wall_minutes']:.0f} "
        "minutes on "
        f"{esc(meta['machine']['cpu'])} ({meta['machine']['cores']} cores).</p>"
        "<p>Every number is an estimate with its 95 % interval (t over seeds; rates "
        "pooled over samples also "
        "by Clopper-Pearson; differences by Welch). A claim that X is absent is decided "
        "by the upper bound and "
        f"needs its positive control — the same measurement on a run where X is present finds it — or it is "
        f"inconclusive; a claim that X is present by the lower bound; a comparison by the interval of the "
        f"difference. The criteria were frozen at commit <code>{esc(meta['criteria_commit'])}</code> "
        f"(reporting/criteria.py, version {meta['criteria_version']}) before the confirmatory seeds "
        f"{meta['confirmatory']} onward were ever run; the verdicts come only from those seeds. Seeds run "
        f"before (0–4 and 1–3) were exploratory: they shaped the criteria and are not on this page.</p>"
    )
    parts.append("<table class='summary'><tr><th>the source says</th><th>where</th><th>verdict</th></tr>")
    parts += [
        f"<tr><td><a href='#{esc(f['id'])}'>“{esc(short(f['quote']))}”</a></td><td>{esc(f['source'])}</td>"
        f"<td>{verdict_badge(f['verdict'])}</td></tr>"
        for f in claims
    ]
    parts.append("</table>")
    for kind, title in rf.KINDS.items():
        mine = [f for f in findings if f["kind"] == kind]
        if mine:
            parts.append(f"<h2 id='{esc(kind)}'>{esc(title)}</h2>")
            parts += [render_finding(f) for f in mine]
    parts.append(render_validation(validation))
    parts.append(
        "<h2>The report's figure 2.4</h2><p>It shows a crisp column of 3s and all ten "
        "digits in a 10×10 grid. "
        "The report's committed InfoGAN code has 7 categorical codes, draws a 7×7 grid "
        "and reshapes to 28·28·3, "
        "which fails on one-channel MNIST: it cannot have drawn that figure, which "
        "most likely comes from the GAN "
        "collection it was based on, trained on all of MNIST. It is no evidence about "
        "3s either way; our reading "
        "of the printed command is in its own row above.</p>"
    )
    parts.append("<h2>Provenance</h2><p class='muted'>Machine: " + esc(json.dumps(meta["machine"])) + "</p>")
    parts.append(
        "<table class='summary'><tr><th>run</th><th>role</th><th>command (in the repository)</th>"
        "<th>seeds ok / failed</th><th>data</th><th>commit</th><th>wall time</th><th>load at start</th></tr>"
    )
    for p in prov:
        failed = "".join(
            f"<br><span class='muted'>seed {esc(s)}: {esc(m)}</span>" for s, m in p["failures"].items()
        )
        parts.append(
            f"<tr><td>{esc(p['run'])}</td><td>{esc(p['role'])}</td><td><code>{esc(p['command'])}</code></td>"
            f"<td>{esc(p['seeds_ok'])} / {esc(p['seeds_failed'])}{failed}</td>"
            f"<td>{esc('; '.join(p['data_source']))}</td>"
            f"<td>{esc(', '.join(p['commits']))}</td><td>{p['wall_seconds'] / 60:.1f} min</td>"
            f"<td>{esc(', '.join(f'{x:.1f}' for x in p['load_average']))}</td></tr>"
        )
    parts.append("</table></body></html>")
    return "\n".join(parts)


def render_markdown(findings, meta):
    lines = [
        "# The sources' findings, reproduced",
        "",
        f"Made by `{meta['command']}` at commit `{meta['commit']}` on {meta['made']} "
        f"({meta['machine']['cpu']}, "
        f"{meta['machine']['cores']} cores; {meta['wall_minutes']:.0f} min of runs). Criteria frozen at "
        f"`{meta['criteria_commit']}`; confirmatory seeds {meta['confirmatory']}+ only. Estimates with 95 % "
        "intervals. The page with figures and provenance: [index.html](index.html).",
        "",
    ]
    for kind, title in rf.KINDS.items():
        mine = [f for f in findings if f["kind"] == kind]
        if not mine:
            continue
        lines += [
            f"## {title}",
            "",
            "| the source says / what we test | where | verdict | our numbers | why |",
            "|---|---|---|---|---|",
        ]
        for f in mine:
            said = f"“{f['quote']}”" if f["quote"] else f["test"]
            numbers = (
                "<br>".join(
                    f"{n['label']}{' (control)' if n['role'] == 'control' else ''}: {n['summary']}"
                    for n in f["numbers"]
                )
                or "—"
            )
            lines.append(
                f"| {said} | {f['source']} | **{f['verdict']}** | {numbers} | {f['reason']} |".replace(
                    "\n", " "
                )
            )
        lines.append("")
    return "\n".join(lines)


def criteria_commit():
    """The commit that last changed reporting/criteria.py (where the criteria were frozen)."""
    import subprocess

    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%h", "--", "reporting/criteria.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return out or "uncommitted"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="toy settings (a few minutes): tests the machinery, not the findings",
    )
    parser.add_argument(
        "--out", default=None, help="output directory (default: report/, or runs/report-quick/ with --quick)"
    )
    parser.add_argument("--retry_failed", action="store_true", help="run again the runs recorded as failed")
    parser.add_argument(
        "--page_only", action="store_true", help="build the page from the runs there; start none"
    )
    parser.add_argument(
        "--engine",
        choices=engine.ENGINES,
        default="local",
        help="where the runs go: this machine, or Slurm (submitit)",
    )
    parser.add_argument(
        "--parallel", type=int, default=2, help="runs at a time (local: each on cores / parallel threads)"
    )
    parser.add_argument(
        "--findings",
        default=None,
        help="comma-separated finding ids (e.g. 2.3-cgan,2.5-no-trousers): run and show only those "
        "and the runs they read; default: every finding",
    )
    parser.add_argument("--slurm_partition", default=None, help="with --engine slurm: the partition")
    parser.add_argument(
        "--reference_figures",
        default=None,
        help="a folder with the report's figures (2.2.4.png, ...): each is shown beside "
        "ours, linked, never copied",
    )
    args = parser.parse_args()
    if args.parallel < 1:
        parser.error("--parallel must be at least 1")
    if args.reference_figures and not os.path.isdir(args.reference_figures):
        parser.error(f"--reference_figures {args.reference_figures} is not a directory")
    try:
        chosen = select_findings(args.findings)
    except ValueError as e:
        parser.error(f"--findings: {e}")
    if args.findings and args.out is None:
        parser.error("--findings builds a partial page: give it its own --out (never the whole report's)")
    out_dir = os.path.abspath(
        args.out or os.path.join(ROOT, "runs", "report-quick" if args.quick else "report")
    )
    if args.out is None and not args.quick:
        out_dir = os.path.join(ROOT, "report")
    runs_root = os.path.join(out_dir, "runs")
    os.makedirs(runs_root, exist_ok=True)
    if args.quick:
        os.environ["CREATIVE_GANS_QUICK_JUDGE"] = "1"  # the runs' judges and the page's: seconds, not minutes
    specs = needed_runs(report_runs.run_specs(args.quick), chosen)
    started = time.perf_counter()
    if not args.page_only:
        threads = 0 if args.engine != "local" else max(1, (os.cpu_count() or 2) // args.parallel)
        engine.run_jobs(
            report_runs.jobs(specs, runs_root, threads),
            engine=args.engine,
            parallel=args.parallel,
            retry_failed=args.retry_failed,
            folder=os.path.join(out_dir, "engine"),
            slurm_partition=args.slurm_partition,
            title="report",
        )
    findings, data, validation = evaluate(
        specs, runs_root, log=lambda text: print(text, file=sys.stderr), chosen=chosen
    )
    copy_figures(findings, data, runs_root, out_dir, args.reference_figures)
    prov = provenance(specs, data)
    meta = {
        "command": "make report"
        + (" QUICK=1" if args.quick else "")
        + (f" (--findings {args.findings})" if args.findings else ""),
        "subset": [f.finding_id for f in chosen] if args.findings else None,
        "findings_total": len(rf.FINDINGS),
        "quick": args.quick,
        "commit": engine.git_commit(),
        "criteria_commit": criteria_commit(),
        "criteria_version": rf.CRITERIA_VERSION,
        "confirmatory": report_runs.CONFIRMATORY,
        "made": time.strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "runs_ok": sum(len(p["seeds_ok"]) for p in prov),
        "runs_failed": sum(len(p["seeds_failed"]) for p in prov),
        "wall_minutes": sum(p["wall_seconds"] for p in prov) / 60,
        "this_invocation_seconds": round(time.perf_counter() - started, 1),
    }
    files.write_json(
        os.path.join(out_dir, "findings.json"),
        {"meta": meta, "findings": findings, "runs": prov, "judges": validation},
    )
    files.write_bytes(
        os.path.join(out_dir, "index.html"), render_html(findings, prov, meta, validation).encode()
    )
    files.write_bytes(os.path.join(out_dir, "FINDINGS.md"), render_markdown(findings, meta).encode())
    if not args.quick and args.out is None:  # the repository's own report: README block, docs/figures
        publish(findings, meta, data, runs_root, out_dir)
    claims = [f for f in findings if f["kind"] == "claim"]
    print(f"report: {os.path.join(out_dir, 'index.html')}: {len(claims)} claims: {headline(claims)}")
    if meta["runs_failed"]:
        print(f"report: {meta['runs_failed']} run(s) failed; see the page's provenance", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
