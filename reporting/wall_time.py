"""Where the runs of a report or a league spent their wall time, per run and stage, from the job
engine's records (each run's `stage_seconds`, common.timing):

    python -m reporting.wall_time                      # report/runs
    python -m reporting.wall_time runs/league-quick/runs

Columns: the run (its seeds summed), wall minutes as the engine measured them, then minutes of
each stage (start-up, data, judge, compile, train, evaluate, figures, outputs) and `other`: the
wall time no stage covers (starting the job's process, a failed stage). Runs recorded before
stages were measured show their wall time only.
"""

import argparse
import glob
import os
import sys

from common import files

STAGES = ("startup", "data", "judge", "compile", "train", "evaluate", "figures", "outputs")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def records(runs_root):
    """{run id: [record of each seed]} for the engine's records under runs_root (finished ones)."""
    found = {}
    for path in sorted(glob.glob(os.path.join(runs_root, "**", "*.json"), recursive=True)):
        if os.path.basename(os.path.dirname(path)) in ("aside", "engine"):
            continue
        try:
            record = files.read_json(path, None)
        except (ValueError, UnicodeDecodeError):
            continue
        if not isinstance(record, dict) or "wall_seconds" not in record or "stages" not in record:
            continue  # a run's own metrics.json or another file
        run_id = os.path.relpath(os.path.dirname(path), runs_root)
        found.setdefault(run_id, []).append(record)
    return found


def breakdown(runs_root):
    """[{run, seeds, wall, train_seconds, <stage>: seconds..., other}] (seconds, summed over seeds),
    the longest first, and the total row last."""
    rows = []
    for run_id, recs in records(runs_root).items():
        row = {"run": run_id, "seeds": len(recs), "wall": 0.0, "measured": 0}
        for record in recs:
            row["wall"] += record.get("wall_seconds") or 0.0
            stages = {}
            for stage in (record.get("stages") or {}).values():
                for name, value in (stage.get("stage_seconds") or {}).items():
                    stages[name] = stages.get(name, 0.0) + value
            if stages:
                row["measured"] += 1
                for name, value in stages.items():
                    row[name] = row.get(name, 0.0) + value
                row["other"] = row.get("other", 0.0) + max(
                    0.0, (record.get("wall_seconds") or 0.0) - sum(stages.values())
                )
        rows.append(row)
    rows.sort(key=lambda r: -r["wall"])
    total = {"run": "all", "seeds": sum(r["seeds"] for r in rows), "wall": sum(r["wall"] for r in rows)}
    total["measured"] = sum(r["measured"] for r in rows)
    for name in (*STAGES, "other"):
        if any(name in r for r in rows):
            total[name] = sum(r.get(name, 0.0) for r in rows)
    return rows + [total]


def markdown(rows):
    names = [n for n in (*STAGES, "other") if any(n in r for r in rows)]
    lines = [
        "| run | seeds | wall min |" + "".join(f" {n} |" for n in names),
        "|---|---:|---:|" + "---:|" * len(names),
    ]
    for r in rows:
        cells = "".join(f" {r[n] / 60:.1f} |" if n in r else " — |" for n in names)
        run = f"**{r['run']}**" if r["run"] == "all" else f"`{r['run']}`"
        partly = f" ({r['measured']} measured)" if names and 0 < r["measured"] < r["seeds"] else ""
        lines.append(f"| {run} | {r['seeds']}{partly} | {r['wall'] / 60:.1f} |{cells}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m reporting.wall_time",
        description="Minutes per run and stage of the runs a report or a league made.",
    )
    parser.add_argument(
        "runs",
        nargs="?",
        default=os.path.join(ROOT, "report", "runs"),
        help="the runs folder (default: report/runs)",
    )
    args = parser.parse_args(argv)
    if not os.path.isdir(args.runs):
        parser.exit(2, f"python -m reporting.wall_time: no runs folder {args.runs}\n")
    rows = breakdown(args.runs)
    if len(rows) == 1:
        parser.exit(1, f"python -m reporting.wall_time: no run records in {args.runs}\n")
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
