"""Render benchmark results (the JSON ``python -m bench`` writes) as the tables of
docs/performance.md: ``python -m bench.report bench/results/<file>.json [...]``."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.run import Result, setting, targets


def render(report: dict[str, Any]) -> str:
    """Return one run as Markdown: a table of every contender at every N, then the limits."""
    sizes = list(report["results"])
    versions = report["versions"]
    lines = [
        f"{report['database']}, {report['rounds']} rounds of {report['per_round']} requests per "
        f"contender, {report['started'][:10]}; Python {versions['python']}, "
        f"Django {versions['Django']}, DRF {versions['djangorestframework']}.",
        "",
        "| contender | "
        + " | ".join(f"{int(size):,} keys: overhead (x DRF token, x floor)" for size in sizes)
        + " | queries | status |",
        "|---|" + "---:|" * len(sizes) + "---:|---:|",
    ]
    first = report["results"][sizes[0]]
    for name, result in first.items():
        cells = []
        for size in sizes:
            each = report["results"][size][name]
            if name == "bare":
                cells.append(f"request {each['median_us'] / 1000:.3f} ms")
            else:
                ratios = [
                    f"{each[field]:.2f}"
                    for field in ("ratio", "floor_ratio")
                    if each.get(field) is not None
                ]
                ratio = f" ({', '.join(ratios)})" if ratios else ""
                cells.append(f"{each['overhead_us'] / 1000:.3f} ms{ratio}")
        lines.append(
            f"| {result['label']} | " + " | ".join(cells) + f" | {result['queries']} "
            f"| {result['status']} |"
        )
    lines += ["", "| target | at | measured | limit | |", "|---|---:|---:|---:|---|"]
    for target in judged(report):
        at = f"{target['keys']:,} keys" if target["keys"] else ""
        mark = "met" if target["met"] else "**not met**"
        lines.append(
            f"| {target['name']} | {at} | {target['measured']} | {target['limit']} | {mark} |"
        )
    return "\n".join(lines)


def judged(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The limits, judged again from the results by the benchmark's own rules (the ones a run
    records were judged by the rules of its day)."""
    by_size = {
        int(size): {name: Result(**each) for name, each in results.items()}
        for size, results in report["results"].items()
    }
    where = setting(report["database"], bool(report.get("prepared")))
    return [asdict(target) for target in targets(by_size, where)]


def main(argv: list[str] | None = None) -> int:
    """Print every JSON file named on the command line as Markdown."""
    paths = argv if argv is not None else sys.argv[1:]
    if not paths:
        print("usage: python -m bench.report bench/results/<file>.json [...]", file=sys.stderr)
        return 2
    print("\n\n".join(render(json.loads(Path(path).read_text())) for path in paths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
