"""The creativity league: every family (league/families.py) trained without a held-out class c,
given k shots of it, asked for it — on every cell (data set, class, k, seed) — through the job
engine (reporting/engine.py: locally N at a time, or Slurm), then graded by one protocol
(league/README.md) with one judge ensemble, into one table.

    python -m league                       # make league: the CPU league (~80 min here)
    python -m league --quick               # make league QUICK=1: toy budgets, one class (~4 min)
    python -m league --classes all --shots 0,1,4,16 --seeds 0,1,2,3,4 --engine slurm   # the full grid

Writes <out>/index.html (the table, a per-class heatmap, sample strips, the protocol, budgets and
provenance), <out>/league.json and <out>/league.md; the runs go to <out>/runs/.
"""

import argparse
import html
import os
import sys
import time

import numpy as np

from common import files
from league import families as fam
from league.families import AIMED, FAMILIES, Cell
from reporting import engine

ROOT = engine.ROOT
METRICS = [  # key, label, higher is better
    ("rate", "judged c", True),
    ("precision", "precision vs real c", True),
    ("coverage", "coverage of real c", True),
    ("copies", "copies of the shots", False),
    ("fjd_c", "FJD to real c", False),
    ("fjd_present", "FJD, present classes", False),
]
CPU_LEAGUE = {"dataset": "fashion-mnist", "classes": (1, 7), "shots": (0, 4), "seeds": (0,)}
QUICK_LEAGUE = {"dataset": "fashion-mnist", "classes": (1,), "shots": (0, 4), "seeds": (0,)}


def cells(dataset, classes, shots, seeds):
    return [Cell(dataset, c, k, s) for c in classes for k in shots for s in seeds]


def run_dir(runs_root, family, cell):
    return os.path.join(runs_root, family.name, family.run_cell(cell).key)


def plan(names, grid, runs_root, quick, threads=0):
    """The jobs, in two phases (the second builds on the first: fine-tuning, FIGR's other shots)."""
    phases, seen = ([], []), set()
    for name in names:
        family = FAMILIES[name]
        if family.reference:
            continue
        for cell in grid:
            cell = family.run_cell(cell)
            if (name, cell.key) in seen:
                continue
            seen.add((name, cell.key))
            base = family.base(cell) if family.base else None
            base_dir = run_dir(runs_root, family, base) if base else None
            budget = family.budget.quick if quick else family.budget.full
            tune = (family.budget.tune[1] if quick else family.budget.tune[0]) if family.budget.tune else None
            script, args = family.command(cell, list(budget), tune, base_dir)
            phases[1 if base else 0].append(
                engine.Job(
                    key=f"{name}/{cell.key}",
                    folder=family.folder,
                    stages=(("final", (script, *args)),),
                    out_dir=run_dir(runs_root, family, cell),
                    seconds=family.budget.seconds * (0.15 if base else 1.0),
                    threads=threads,
                )
            )
    for jobs in phases:  # the longest first, so no long run is left alone at a phase's end
        jobs.sort(key=lambda job: -job.seconds)
    return phases


# ------------------------------------------------------------------------------- grading
class Grades:
    """The judge ensemble and the data of one data set."""

    def __init__(self, dataset, members, log):
        from common import judge as judge_lib
        from common.image_data import load_image_data
        from common.pipelines import to_float

        self.data = load_image_data(dataset)
        self.judges = judge_lib.load_ensemble(self.data, members, log=log, remember=True)
        self.to_float = to_float
        self._real = {}

    def real(self, cls, limit=1000):
        if cls not in self._real:
            self._real[cls] = self.to_float(self.data.test_x[self.data.test_y == cls][:limit])
        return self._real[cls]

    def real_present(self, cls, limit=2000):
        keep = self.data.test_y != cls
        return self.to_float(self.data.test_x[keep][:limit])

    def shots(self, cell):
        """The k shots of c for this seed: the first draw of default_rng(seed), as every family's."""
        from common.classes import draw_shots

        if cell.k == 0:
            return np.zeros((0, *self.data.image_shape), np.float32), np.zeros(0, np.int64)
        index = draw_shots(self.data.train_y, (cell.cls,), cell.k, np.random.default_rng(cell.seed))[cell.cls]
        return self.to_float(self.data.train_x[index]), index

    def native(self, x):
        """Images at the data set's own shape (FIGR pads 28 to 32; the judges see 28)."""
        from common.pipelines import unfit_images

        if x is None or tuple(x.shape[1:]) == tuple(self.data.image_shape):
            return x
        return unfit_images(np.asarray(x, np.float32), self.data.image_shape)

    def grade(self, aimed, present, cell):
        from common import metrics

        aimed, present = self.native(aimed), self.native(present)
        shots, _ = self.shots(cell)
        real_c = self.real(cell.cls)
        per_judge = []
        for judge in self.judges:
            probs, features = judge.outputs(aimed)
            real_features = judge.features(real_c)
            row = {
                "rate": float(np.mean(np.argmax(probs, axis=1) == cell.cls)),
                "precision": metrics.precision_recall(features, real_features)[0],
                "coverage": metrics.coverage(features, real_features),
                "fjd_c": metrics.frechet_distance(features, real_features),
            }
            if len(shots):
                row["copies"] = metrics.copy_rate(features, judge.features(shots), real_features)
            if present is not None and len(present):
                row["fjd_present"] = metrics.frechet_distance(
                    judge.features(present), judge.features(self.real_present(cell.cls))
                )
            per_judge.append(row)
        out = {k: float(np.mean([r[k] for r in per_judge])) for k in per_judge[0]}
        out["rate_judges"] = [r["rate"] for r in per_judge]
        out["real_c"] = int(len(real_c))
        return out


def evaluate(names, grid, runs_root, grades, log):
    """One row per (family, cell) with a run that succeeded (or a reference row)."""
    rows = []
    for name in names:
        family = FAMILIES[name]
        for cell in grid:
            row = {"family": name, "cls": cell.cls, "k": cell.k, "seed": cell.seed, "dataset": cell.dataset}
            if name == "real":
                aimed, present = grades.real(cell.cls)[AIMED : 2 * AIMED], None  # not the ones graded against
            elif name == "copy":
                if cell.k == 0:
                    continue
                shots, _ = grades.shots(cell)
                aimed, present = fam.copy_images(shots, cell.seed), None
            else:
                directory = run_dir(runs_root, family, cell)
                record = engine.read_record(_job_stub(directory))
                if not record or record.get("status") != "ok":
                    row["status"] = "missing" if not record else "failed"
                    rows.append(row)
                    continue
                base = family.base(family.run_cell(cell)) if family.base else None
                base_dir = run_dir(runs_root, family, base) if base else None
                aimed, present = family.images(directory, cell, base_dir)
                row.update(_budget(directory, record))
                row["shots_match"] = _shots_match(directory, base_dir, grades, cell)
            if aimed is None or not len(aimed):
                row["status"] = "no images"
                rows.append(row)
                continue
            row.update(grades.grade(aimed, present, cell), status="ok", aimed=int(len(aimed)))
            rows.append(row)
        log(f"league: graded {name}")
    return rows


def _job_stub(directory):
    return engine.Job(key="", folder="", stages=(), out_dir=directory)


def _budget(directory, record):
    values = files.read_json(os.path.join(directory, "metrics.json"), {}) or {}
    return {
        "train_seconds": values.get("train_seconds"),
        "steps": values.get("steps") or values.get("meta_iterations") or values.get("iterations"),
        "wall_seconds": record.get("wall_seconds"),
        "load": record.get("load_average_start"),
    }


def _shots_match(directory, base_dir, grades, cell):
    """Whether the run recorded the shots the league drew for this cell (None: not recorded)."""
    if cell.k == 0:
        return None
    _, index = grades.shots(cell)
    for folder in (directory, base_dir):
        values = files.read_json(os.path.join(folder, "metrics.json"), {}) if folder else {}
        recorded = (values or {}).get(f"class_{cell.cls}_shot_indices")
        if recorded is not None and len(recorded) == cell.k:
            return sorted(recorded) == sorted(index.tolist())
    return None


# ----------------------------------------------------------------------------- the table
# a share, and of what: the aimed samples, or (coverage) the real images of c graded against
SHARES = {"rate": "aimed", "precision": "aimed", "copies": "aimed", "coverage": "real_c"}


def interval(key, rows):
    """(mean, low, high) over the cells, as the report page decides its findings
    (reporting/stats.py): a share (of the aimed samples, or of the real images of c for coverage)
    gets the wider of Student's t interval over the cells and the Clopper-Pearson interval of the
    pooled count, so two or three cells are not mistaken for many and a share of 0 still has an
    upper bound; a distance gets the t interval. One cell and a distance: no interval (nan)."""
    from reporting import stats

    kept = [r for r in rows if r.get(key) is not None and np.isfinite(r[key])]
    if not kept:
        return None
    values = [r[key] for r in kept]
    if key in SHARES:
        trials = min(int(r.get(SHARES[key]) or AIMED) for r in kept)
        found = stats.rate_interval(values, trials)
    else:
        found = stats.mean_interval(values, (0.0, float("inf")))
    return (found.estimate, found.low, found.high)


def table(rows, names, shots):
    """{(family, k): {metric: (mean, low, high)}} over the cells, and ranks on 'judged c' per k:
    a family's rank is 1 + the number of families whose interval lies wholly above its own (ties
    where intervals overlap)."""
    out = {}
    for name in names:
        for k in shots:
            mine = [r for r in rows if r["family"] == name and r["k"] == k and r.get("status") == "ok"]
            out[(name, k)] = {key: interval(key, mine) for key, _, _ in METRICS}
            out[(name, k)]["cells"] = len(mine)
    for k in shots:
        entries = {n: out[(n, k)]["rate"] for n in names if out[(n, k)]["rate"]}
        for n, (m, lo, hi) in entries.items():
            lo = m if np.isnan(lo) else lo
            above = sum(
                1
                for o, (m2, lo2, hi2) in entries.items()
                if o != n and (m2 if np.isnan(lo2) else lo2) > (m if np.isnan(hi) else hi)
            )
            out[(n, k)]["rank"] = 1 + above
    return out


def cell_text(value, digits=3):
    if not value:
        return "—"
    m, lo, hi = value
    return f"{m:.{digits}f}" if np.isnan(lo) else f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def render_markdown(summary, names, shots, meta, readme):
    """league.md; `readme`: the protocol's README relative to where league.md is written."""
    lines = [
        f"# The creativity league ({meta['dataset']})",
        "",
        f"`{meta['command']}` at commit `{meta['commit']}`, {meta['made']}: classes {meta['classes']}, shots "
        f"{meta['shots']}, seeds {meta['seeds']}; means over the cells with 95 % intervals (t over "
        "the cells; for shares at least the pooled count's Clopper-Pearson). The protocol: "
        f"[README]({readme}).",
        "",
        "| family | k | rank | " + " | ".join(label for _, label, _ in METRICS) + " | cells |",
        "|---|---|---|" + "---|" * len(METRICS) + "---|",
    ]
    for name in names:
        for k in shots:
            entry = summary[(name, k)]
            if not entry["cells"]:
                continue
            digits = {"fjd_c": 1, "fjd_present": 1}
            values = " | ".join(cell_text(entry[key], digits.get(key, 3)) for key, _, _ in METRICS)
            lines.append(f"| {name} | {k} | {entry.get('rank', '—')} | {values} | {entry['cells']} |")
    return "\n".join(lines) + "\n"


def esc(text):
    return html.escape(str(text))


def heat_cell(value):
    """A heatmap cell: the share judged c, greener the higher."""
    if value is None:
        return "<td>—</td>"
    colour = "#fff" if value > 0.5 else "#222"
    style = f"background:rgba(24,92,11,{0.1 + 0.8 * value:.2f});color:{colour}"
    return f"<td class='v' style='{style}'>{value:.2f}</td>"


def render_html(summary, rows, names, grid, meta, strips):
    shots = meta["shots"]
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>creative-gans: the creativity league</title><style>",
        "body{font-family:system-ui,sans-serif;max-width:1200px;margin:0 auto;padding:1em;color:#222}",
        "table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:.25em .5em}",
        "td.v{font-family:ui-monospace,monospace;white-space:nowrap}.muted{color:#666;font-size:.9em}",
        "img{max-width:100%;image-rendering:pixelated}</style></head><body>",
        "<h1>The creativity league: can a model make a class it was never shown?</h1>",
    ]
    if meta["quick"]:
        parts.append("<p><b>QUICK: toy budgets and one class; these numbers mean nothing.</b></p>")
    parts.append(
        f"<p>{esc(meta['dataset'])}, held-out classes {esc(meta['classes'])}, shots {esc(shots)}, seeds "
        f"{esc(meta['seeds'])}; made by <code>{esc(meta['command'])}</code> at commit "
        f"<code>{esc(meta['commit'])}"
        f"</code> on {esc(meta['made'])}, {meta['wall_minutes']:.0f} minutes of runs "
        f"on {meta['cores']} cores. "
        "Each number is a mean over the cells (class × seed) with its 95 % interval (Student's t "
        "over the cells; for a share the wider of that and the Clopper-Pearson interval of the pooled "
        "count, as the report page); ranks on 'judged "
        "c' tie where intervals overlap.</p>"
    )
    parts.append("<h2>The table</h2><table id='league'><tr><th>family</th><th>k</th><th>rank</th>")
    parts += [f"<th>{esc(label)}</th>" for _, label, _ in METRICS]
    parts.append("<th>cells</th></tr>")
    for name in names:
        for k in shots:
            entry = summary[(name, k)]
            if not entry["cells"]:
                continue
            digits = {"fjd_c": 1, "fjd_present": 1}
            parts.append(
                f"<tr data-family='{esc(name)}' data-k='{k}'><td>{esc(name)}</td><td>{k}</td>"
                f"<td>{entry.get('rank', '—')}</td>"
                + "".join(
                    f"<td class='v'>{esc(cell_text(entry[key], digits.get(key, 3)))}</td>"
                    for key, _, _ in METRICS
                )
                + f"<td>{entry['cells']}</td></tr>"
            )
    parts.append("</table>")
    parts.append("<h2>Per class: share judged c</h2><table id='heatmap'><tr><th>family</th><th>k</th>")
    classes = meta["classes"]
    parts += [f"<th>class {c}</th>" for c in classes]
    parts.append("</tr>")
    for name in names:
        for k in shots:
            values = []
            for c in classes:
                mine = [
                    r["rate"]
                    for r in rows
                    if r["family"] == name and r["k"] == k and r["cls"] == c and r.get("status") == "ok"
                ]
                values.append(float(np.mean(mine)) if mine else None)
            if all(v is None for v in values):
                continue
            cells_html = "".join(heat_cell(v) for v in values)
            parts.append(f"<tr><td>{esc(name)}</td><td>{k}</td>{cells_html}</tr>")
    parts.append("</table>")
    if strips:
        parts.append(
            f"<h2>Samples aimed at class {strips['cls']}, k = {strips['k']}, seed {strips['seed']}</h2>"
        )
        for name, path in strips["files"].items():
            parts.append(
                f"<p>{esc(name)}<br><img class='strip' src='{esc(path)}' alt='{esc(name)} samples'></p>"
            )
    parts.append(
        "<h2>The families</h2><table><tr><th>family</th><th>trains without c</th><th>k "
        "shots</th><th>aimed at c by</th><th>graded on</th><th>budget</th></tr>"
    )
    for name in names:
        f = FAMILIES[name]
        budget = f.budget.text if f.budget else "—"
        parts.append(
            f"<tr><td>{esc(name)}</td><td>{esc(f.trains)}</td><td>{esc(f.few_shot)}</td><td>{esc(f.aimed)}</td>"
            f"<td>{esc(f.representation)}</td><td>{esc(budget)}</td></tr>"
        )
    parts.append("</table>")
    parts.append(
        "<h2>Budgets spent (per run, here)</h2><table><tr><th>family</th><th>runs</th><th>train "
        "minutes (mean)</th><th>wall minutes (mean)</th><th>steps</th></tr>"
    )
    for name in names:
        mine = [r for r in rows if r["family"] == name and r.get("wall_seconds")]
        if mine:
            parts.append(
                f"<tr><td>{esc(name)}</td><td>{len(mine)}</td>"
                f"<td>{np.mean([r['train_seconds'] or 0 for r in mine]) / 60:.1f}</td>"
                f"<td>{np.mean([r['wall_seconds'] for r in mine]) / 60:.1f}</td>"
                f"<td>{esc(sorted({r['steps'] for r in mine}, key=str))}</td></tr>"
            )
    parts.append("</table>")
    problems = [r for r in rows if r.get("status") != "ok" or r.get("shots_match") is False]
    if problems:
        parts.append("<h2>Runs missing, failed or off-protocol</h2><ul>")
        for r in problems:
            off = " (other shots than the league drew!)" if r.get("shots_match") is False else ""
            parts.append(
                f"<li>{esc(r['family'])} class {r['cls']} k {r['k']} seed {r['seed']}: "
                f"{esc(r.get('status'))}{off}</li>"
            )
        parts.append("</ul>")
    parts.append(f"<h2>The protocol</h2><pre class='muted'>{esc(meta['protocol'])}</pre></body></html>")
    return "\n".join(parts)


def write_strips(rows, runs_root, grades, grid, out_dir, names):
    """One row of aimed samples per family for the first class, k and seed with every run."""
    from common import image_plots

    first = grid[-1] if grid else None
    if first is None:
        return None
    folder = os.path.join(out_dir, "figures")
    os.makedirs(folder, exist_ok=True)
    paths = {}
    for name in names:
        family = FAMILIES[name]
        try:
            if name == "real":
                images = grades.real(first.cls)[AIMED : AIMED + 12]
            elif name == "copy":
                images = fam.copy_images(grades.shots(first)[0], first.seed)[:12] if first.k else None
            else:
                base = family.base(family.run_cell(first)) if family.base else None
                images = family.images(
                    run_dir(runs_root, family, first),
                    first,
                    run_dir(runs_root, family, base) if base else None,
                )[0][:12]
        except (OSError, KeyError, TypeError, ValueError):
            images = None
        if images is None or not len(images):
            continue
        fig = image_plots.grid_figure(grades.native(np.asarray(images)), 12, size=2.0)
        files.save_figure(fig, os.path.join(folder, f"strip-{name}.png"))
        paths[name] = f"figures/strip-{name}.png"
    return {"cls": first.cls, "k": first.k, "seed": first.seed, "files": paths}


def parse_list(text, name, cast=int):
    try:
        return tuple(cast(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise SystemExit(f"league: error: --{name} takes a comma list (got {text!r})") from None


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="toy budgets, one class (~4 min): tests the machinery"
    )
    parser.add_argument("--dataset", default=None, help="fashion-mnist (default) or mnist")
    parser.add_argument(
        "--classes", default=None, help="held-out classes, a comma list, or 'all' (default: 1,7)"
    )
    parser.add_argument("--shots", default=None, help="k values, a comma list (default: 0,4)")
    parser.add_argument("--seeds", default=None, help="seeds, a comma list (default: 0)")
    parser.add_argument(
        "--families", default=",".join(FAMILIES), help="families, a comma list (default: all)"
    )
    parser.add_argument(
        "--out",
        default=None,
        help="output folder (default: league/results, or runs/league-quick with --quick)",
    )
    parser.add_argument(
        "--engine", choices=engine.ENGINES, default="local", help="where the runs go: this machine, or Slurm"
    )
    parser.add_argument(
        "--parallel", type=int, default=2, help="runs at a time (local: each on cores / parallel threads)"
    )
    parser.add_argument("--slurm_partition", default=None, help="with --engine slurm: the partition")
    parser.add_argument("--retry_failed", action="store_true", help="run again the runs recorded as failed")
    parser.add_argument(
        "--page_only", action="store_true", help="build the page from the runs there; start none"
    )
    args = parser.parse_args()
    preset = QUICK_LEAGUE if args.quick else CPU_LEAGUE
    dataset = args.dataset or preset["dataset"]
    if dataset not in ("fashion-mnist", "mnist"):
        parser.error("--dataset: fashion-mnist or mnist")
    classes = (
        tuple(range(10))
        if args.classes == "all"
        else parse_list(args.classes, "classes")
        if args.classes
        else preset["classes"]
    )
    shots = parse_list(args.shots, "shots") if args.shots else preset["shots"]
    seeds = parse_list(args.seeds, "seeds") if args.seeds else preset["seeds"]
    names = parse_list(args.families, "families", str)
    unknown = [n for n in names if n not in FAMILIES]
    if unknown or not all(0 <= c < 10 for c in classes) or min(shots) < 0 or args.parallel < 1:
        parser.error(
            f"unknown family {unknown[0]}" if unknown else "classes in 0..9, shots >= 0, --parallel >= 1"
        )
    out_dir = os.path.abspath(
        args.out
        or os.path.join(ROOT, "runs" if args.quick else "league", "league-quick" if args.quick else "results")
    )
    runs_root = os.path.join(out_dir, "runs")
    os.makedirs(runs_root, exist_ok=True)
    if args.quick:
        os.environ["CREATIVE_GANS_QUICK_JUDGE"] = "1"
    grid = cells(dataset, classes, shots, seeds)
    started = time.perf_counter()
    if not args.page_only:
        threads = 0 if args.engine != "local" else max(1, (os.cpu_count() or 2) // args.parallel)
        for i, jobs in enumerate(plan(names, grid, runs_root, args.quick, threads)):
            if jobs:
                engine.run_jobs(
                    jobs,
                    engine=args.engine,
                    parallel=args.parallel,
                    retry_failed=args.retry_failed,
                    folder=os.path.join(out_dir, "engine"),
                    slurm_partition=args.slurm_partition,
                    title=f"league phase {i + 1}",
                )

    def log(text):
        print(text, file=sys.stderr)

    from common import tf_env

    tf_env.import_tensorflow()
    grades = Grades(dataset, 3, log)
    rows = evaluate(names, grid, runs_root, grades, log)
    summary = table(rows, names, shots)
    strips = write_strips(rows, runs_root, grades, grid, out_dir, names)
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "README.md"), encoding="utf-8") as f:
        protocol = f.read()
    meta = {
        "command": "make league" + (" QUICK=1" if args.quick else ""),
        "quick": args.quick,
        "dataset": dataset,
        "classes": list(classes),
        "shots": list(shots),
        "seeds": list(seeds),
        "commit": engine.git_commit(),
        "made": time.strftime("%Y-%m-%d %H:%M"),
        "cores": os.cpu_count(),
        "wall_minutes": sum(r.get("wall_seconds") or 0 for r in rows) / 60,
        "this_invocation_seconds": round(time.perf_counter() - started, 1),
        "protocol": protocol,
    }
    files.write_json(
        os.path.join(out_dir, "league.json"),
        {
            "meta": {k: v for k, v in meta.items() if k != "protocol"},
            "rows": rows,
            "table": [
                {"family": n, "k": k, **{m: v for m, v in summary[(n, k)].items()}}
                for n in names
                for k in shots
            ],
        },
    )
    files.write_bytes(
        os.path.join(out_dir, "league.md"),
        render_markdown(
            summary, names, shots, meta, os.path.relpath(os.path.join(ROOT, "league", "README.md"), out_dir)
        ).encode(),
    )
    files.write_bytes(
        os.path.join(out_dir, "index.html"), render_html(summary, rows, names, grid, meta, strips).encode()
    )
    failed = [r for r in rows if r.get("status") in ("failed", "missing")]
    print(
        f"league: {os.path.join(out_dir, 'index.html')}: {len(rows)} rows, {len(failed)} "
        "runs failed or missing"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
