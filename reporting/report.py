"""One command reproduces the report: runs the experiments behind every finding of the report
(seed 001, sections 2.1-2.6), its poster (000) and the CAN paper (004) over seeds, then writes a
results page: for each finding the claim, the command, our numbers as mean ± sd over seeds, a
verdict by a stated criterion, our figure, and how it differs from the report's figure.

    python -m reporting            # make report: about 90 minutes on 2 CPU cores
    python -m reporting --quick    # make report QUICK=1: toy settings, a few minutes

Writes <out>/index.html (self-contained: styles inline, figures in <out>/figures/),
<out>/findings.json and <out>/FINDINGS.md; the runs go to <out>/runs/. A finished run is never
run again, so rerunning the command resumes an interrupted report and rebuilds the page in
seconds. Exit status 0 when every run succeeded, 1 when some failed (the page says which).
"""

import argparse
import html
import json
import os
import platform
import shutil
import sys
import time

from common import files
from reporting import findings as rf
from reporting import runs as report_runs

ROOT = report_runs.ROOT
SOURCES = [
    ("report", "The report (seed 001): “Creativity in Generative Adversarial Networks”"),
    ("poster", "Its poster (seed 000)"),
    ("CAN paper", "Implementing Creative Adversarial Networks (Ahn, Lee and Huang, UCLA; seed 004)"),
]
VERDICT_CLASS = {
    rf.REPRODUCED: "yes",
    rf.PARTLY: "partly",
    rf.NOT_REPRODUCED: "no",
    rf.NOT_TESTABLE: "untestable",
}


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
    the page, and the README's summary block."""
    docs = os.path.join(ROOT, "docs", "figures")
    for target, (run_id, name) in DOCS_FIGURES.items():
        found = first_ok_file(data, runs_root, run_id, name)
        if found:
            shutil.copyfile(found[0], os.path.join(docs, target))
    try:
        from reporting import browser

        driver = browser.chromium(1200, 1000)
        try:
            driver.get("file://" + os.path.join(out_dir, "index.html"))
            driver.save_screenshot(os.path.join(docs, "report_page.png"))
        finally:
            driver.quit()
    except browser.NoBrowser as missing:
        print(f"report: no screenshot of the page ({missing})", file=sys.stderr)
    counts = {v: sum(f["verdict"] == v for f in findings) for v in rf.VERDICTS}
    lines = [
        README_BEGIN,
        f"**{len(findings)} findings: " + ", ".join(f"{n} {v}" for v, n in counts.items()) + "** "
        f"(`{meta['command']}` at commit `{meta['commit']}`, {meta['made']}, {meta['machine']['cores']} "
        f"CPU cores, {meta['wall_minutes']:.0f} min of runs). Every row's numbers, criterion, command and "
        "figure: [report/FINDINGS.md](report/FINDINGS.md) and the page `report/index.html`.",
        "",
        "| finding | where | verdict |",
        "|---|---|---|",
    ]
    lines += [f"| {f['claim']} | {f['section']} | {f['verdict']} |" for f in findings]
    lines.append(README_END)
    readme_path = os.path.join(ROOT, "README.md")
    with open(readme_path, encoding="utf-8") as f:
        readme = f.read()
    if README_BEGIN in readme and README_END in readme:
        head, rest = readme.split(README_BEGIN, 1)
        readme = head + "\n".join(lines) + rest.split(README_END, 1)[1]
        files.write_bytes(readme_path, readme.encode())


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
    """Per run id: the command, seeds (ok / failed), commits, data sources, wall time, load."""
    rows = []
    for spec in specs:
        loaded = data[spec.run_id]
        records = [record for record, _ in loaded.values()]
        sources = sorted({m.get("final", {}).get("data_source", "") for _, m in loaded.values()} - {""})
        rows.append(
            {
                "run": spec.run_id,
                "command": spec.printed(),
                "seeds": list(spec.seeds),
                "seeds_ok": [r["seed"] for r in records if r["status"] == "ok"],
                "seeds_failed": [r["seed"] for r in records if r["status"] != "ok"],
                "failures": {str(r["seed"]): r["message"] for r in records if r["status"] != "ok"},
                "commits": sorted({r["commit"] for r in records}),
                "data_source": sources,
                "wall_seconds": round(sum(r["wall_seconds"] for r in records), 1),
                "load_average": [r["load_average_start"] for r in records],
            }
        )
    return rows


def evaluate(specs, runs_root):
    data = {spec.run_id: report_runs.load(runs_root, spec) for spec in specs}
    by_id = {spec.run_id: spec for spec in specs}
    findings = []
    for finding in rf.FINDINGS:
        result = finding.evaluate(data)
        if result.numbers and min(n.count() for n in result.numbers) < 2:
            result.reason += (
                " Some numbers come from one seed: no spread, so a criterion on the spread is weak."
            )
        findings.append(
            {
                "id": finding.finding_id,
                "source": finding.source,
                "section": finding.section,
                "claim": finding.claim,
                "criterion": finding.criterion,
                "commands": [by_id[r].printed() for r in finding.runs if r in by_id],
                "runs": list(finding.runs),
                "verdict": result.verdict,
                "reason": result.reason,
                "numbers": [
                    {
                        "label": n.label,
                        "values": n.values,
                        "summary": n.summary(),
                        "n": n.count(),
                    }
                    for n in result.numbers
                ],
                "figure": list(finding.figure),
                "report_figure": finding.report_figure,
            }
        )
    return findings, data


def copy_figures(findings, data, runs_root, out_dir):
    """Our figure of each finding (first successful seed) into out/figures/<finding>.png."""
    os.makedirs(os.path.join(out_dir, "figures"), exist_ok=True)
    for finding in findings:
        finding["figure_file"] = None
        if not finding["figure"]:
            continue
        found = first_ok_file(data, runs_root, *finding["figure"])
        if found:
            target = f"figures/{finding['id']}.png"
            shutil.copyfile(found[0], os.path.join(out_dir, target))
            finding["figure_file"], finding["figure_seed"] = target, found[1]


def esc(text):
    return html.escape(str(text))


STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:0 auto;
padding:1em;color:#222;line-height:1.45}
h1{font-size:1.6em}
h2{margin-top:2em;border-bottom:2px solid #ddd}
code{background:#f3f3f3;padding:0 .2em;font-size:.9em}
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
img.fig{max-width:100%;border:1px solid #ccc;margin-top:.5em}
.muted{color:#666;font-size:.9em}
"""


def render_html(findings, prov, meta):
    counts = {v: sum(f["verdict"] == v for f in findings) for v in rf.VERDICTS}
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>creative-gans: the report's findings, reproduced"
        + (" (QUICK)" if meta["quick"] else "")
        + "</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Creativity in GANs: which of the report's findings hold?</h1>",
    ]
    if meta["quick"]:
        parts.append(
            "<p class='verdict no'>QUICK mode: toy settings that exercise the code; these numbers and "
            "verdicts mean nothing about the findings.</p>"
        )
    parts.append(
        f"<p>Made by <code>{esc(meta['command'])}</code> at commit <code>{esc(meta['commit'])}</code> on "
        f"{esc(meta['made'])}; {len(findings)} findings: "
        + ", ".join(f"{counts[v]} {v}" for v in rf.VERDICTS)
        + f". Runs: {meta['runs_ok']} succeeded, {meta['runs_failed']} failed; "
        f"{meta['wall_minutes']:.0f} minutes of training on {esc(meta['machine']['cpu'])} "
        f"({meta['machine']['cores']} cores). Numbers are mean ± sample standard deviation over seeds "
        "(n = seeds that succeeded). Verdicts follow the criterion printed with each finding.</p>"
    )
    parts += [
        "<table class='summary'><tr><th>finding</th><th>where</th><th>verdict</th></tr>",
        *(
            f"<tr><td><a href='#{esc(f['id'])}'>{esc(f['claim'])}</a></td><td>{esc(f['section'])}</td>"
            f"<td><span class='verdict {VERDICT_CLASS[f['verdict']]}' data-verdict='{esc(f['verdict'])}'>"
            f"{esc(f['verdict'])}</span></td></tr>"
            for f in findings
        ),
        "</table>",
    ]
    for key, title in SOURCES:
        mine = [f for f in findings if f["source"].split(" ")[0] == key.split(" ")[0]]
        if key == "poster":
            mine = [f for f in findings if f["source"].startswith("poster")]
        if not mine:
            continue
        parts.append(f"<h2>{esc(title)}</h2>")
        for f in mine:
            parts.append(f"<div class='finding' id='{esc(f['id'])}' data-finding='{esc(f['id'])}'>")
            parts.append(
                f"<p><b>{esc(f['section'])}.</b> {esc(f['claim'])}<br>"
                f"<span class='verdict {VERDICT_CLASS[f['verdict']]}' data-verdict='{esc(f['verdict'])}'>"
                f"{esc(f['verdict'])}</span> {esc(f['reason'])}</p>"
            )
            parts.append(f"<p class='muted'>Criterion: {esc(f['criterion'])}</p>")
            if f["numbers"]:
                parts.append("<table class='numbers'>")
                parts += [
                    f"<tr><td>{esc(n['label'])}</td><td class='v'>{esc(n['summary'])}</td></tr>"
                    for n in f["numbers"]
                ]
                parts.append("</table>")
            if f["commands"]:
                parts.append(
                    "<p class='muted'>Commands (plus <code>--seed S</code>): "
                    + "; ".join(f"<code>{esc(c)}</code>" for c in f["commands"])
                    + "</p>"
                )
            if f.get("figure_file"):
                parts.append(
                    f"<img class='fig' src='{esc(f['figure_file'])}' "
                    f"alt='our figure for {esc(f['section'])}' loading='lazy'>"
                    f"<p class='muted'>Our figure (seed {f['figure_seed']}). "
                    f"The report's figure: {esc(f['report_figure'])}</p>"
                )
            elif f["report_figure"] != "—":
                parts.append(f"<p class='muted'>The report's figure: {esc(f['report_figure'])}</p>")
            parts.append("</div>")
    parts.append("<h2>Provenance</h2><p class='muted'>Machine: " + esc(json.dumps(meta["machine"])) + "</p>")
    parts.append(
        "<table class='summary'><tr><th>run</th><th>command (in the repository)</th>"
        "<th>seeds ok / failed</th>"
        "<th>data</th><th>commit</th><th>wall time</th><th>load at start</th></tr>"
    )
    for p in prov:
        failed = "".join(
            f"<br><span class='muted'>seed {esc(s)}: {esc(m)}</span>" for s, m in p["failures"].items()
        )
        parts.append(
            f"<tr><td>{esc(p['run'])}</td><td><code>{esc(p['command'])}</code></td>"
            f"<td>{esc(p['seeds_ok'])} / {esc(p['seeds_failed'])}{failed}</td>"
            f"<td>{esc('; '.join(p['data_source']))}</td>"
            f"<td>{esc(', '.join(p['commits']))}</td><td>{p['wall_seconds'] / 60:.1f} min</td>"
            f"<td>{esc(', '.join(f'{x:.1f}' for x in p['load_average']))}</td></tr>"
        )
    parts.append("</table></body></html>")
    return "\n".join(parts)


def render_markdown(findings, meta):
    lines = [
        "# The report's findings, reproduced",
        "",
        f"Made by `{meta['command']}` at commit `{meta['commit']}` on {meta['made']} "
        f"({meta['machine']['cpu']}, {meta['machine']['cores']} cores; "
        f"{meta['wall_minutes']:.0f} min of runs). "
        "The page with figures and provenance: [index.html](index.html). Mean ± sample sd over seeds (n).",
        "",
        "| finding | where | verdict | our numbers | why |",
        "|---|---|---|---|---|",
    ]
    for f in findings:
        numbers = "<br>".join(f"{n['label']}: {n['summary']}" for n in f["numbers"][:4]) or "—"
        lines.append(
            f"| {f['claim']} | {f['section']} | **{f['verdict']}** | {numbers} | {f['reason']} |".replace(
                "\n", " "
            )
        )
    return "\n".join(lines) + "\n"


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
    args = parser.parse_args()
    out_dir = os.path.abspath(
        args.out or os.path.join(ROOT, "runs", "report-quick" if args.quick else "report")
    )
    if args.out is None and not args.quick:
        out_dir = os.path.join(ROOT, "report")
    runs_root = os.path.join(out_dir, "runs")
    os.makedirs(runs_root, exist_ok=True)
    specs = report_runs.run_specs(args.quick)
    started = time.perf_counter()
    if not args.page_only:
        report_runs.run_all(specs, runs_root, retry_failed=args.retry_failed)
    findings, data = evaluate(specs, runs_root)
    copy_figures(findings, data, runs_root, out_dir)
    prov = provenance(specs, data)
    meta = {
        "command": "make report" + (" QUICK=1" if args.quick else ""),
        "quick": args.quick,
        "commit": report_runs.git_commit(),
        "made": time.strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "runs_ok": sum(len(p["seeds_ok"]) for p in prov),
        "runs_failed": sum(len(p["seeds_failed"]) for p in prov),
        "wall_minutes": sum(p["wall_seconds"] for p in prov) / 60,
        "this_invocation_seconds": round(time.perf_counter() - started, 1),
    }
    files.write_json(
        os.path.join(out_dir, "findings.json"), {"meta": meta, "findings": findings, "runs": prov}
    )
    files.write_bytes(os.path.join(out_dir, "index.html"), render_html(findings, prov, meta).encode())
    files.write_bytes(os.path.join(out_dir, "FINDINGS.md"), render_markdown(findings, meta).encode())
    if not args.quick and args.out is None:  # the repository's own report: README block, docs/figures
        publish(findings, meta, data, runs_root, out_dir)
    counts = {v: sum(f["verdict"] == v for f in findings) for v in rf.VERDICTS}
    print(
        f"report: {os.path.join(out_dir, 'index.html')}: " + ", ".join(f"{n} {v}" for v, n in counts.items())
    )
    if meta["runs_failed"]:
        print(f"report: {meta['runs_failed']} run(s) failed; see the page's provenance", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
