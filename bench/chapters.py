"""Time every chapter of the book: wall time and peak memory, each in a fresh kernel.

Usage: python bench/chapters.py [--out bench/results/chapters.md] [chapter.ipynb ...]

Each chapter runs top to bottom with ``jupyter execute`` (a new Python kernel, threads as the
chapter's ``gl.cpu.setup`` decides) into a temporary copy, so the committed notebook is not
touched. Peak memory is the largest resident set of the processes it started (the kernel),
from ``getrusage(RUSAGE_CHILDREN)`` in a wrapper process per chapter. The script prints a
Markdown table and writes it to ``--out`` (the book's intro page includes that file), with
the budgets of issue 8: each chapter within its own budget, the whole book under 15 minutes,
peak memory under 3 GB. Run it on a quiet machine: other work on the same cores slows the
chapters down.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = {  # from each chapter's issue; chapters without one get the default
    "00_quickstart": 60,
    "01_adversarial_game": 120,
    "02_saturation": 120,
    "03_mode_collapse": 150,
    "04_dcgan": 180,
    "05_evaluation": 150,
    "06_wasserstein": 150,
    "07_conditional": 150,
}
DEFAULT_BUDGET_S = 150
BOOK_BUDGET_S = 15 * 60
MEMORY_BUDGET_MB = 3 * 1024

# Runs in a child process: executes one notebook and reports the peak RSS of its children.
WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run([sys.executable, "-m", "jupyter", "execute", "--output", sys.argv[2],
                       sys.argv[1]], capture_output=True, text=True)
seconds = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024, "rc": done.returncode,
                  "stderr": done.stderr[-2000:]}))
"""


def run_chapter(path: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        done = subprocess.run(
            [sys.executable, "-c", WRAPPER, str(path), str(out)],
            capture_output=True, text=True, cwd=path.parent, check=True,
        )  # fmt: skip
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise RuntimeError(f"{path.name} failed:\n{result['stderr']}")
    return result


def table(rows: list[dict], total: float) -> str:
    cpu = os.cpu_count()
    lines = [
        f"Measured by `python bench/chapters.py` on {datetime.date.today()}: {cpu} CPU cores, "
        f"Python {platform.python_version()}, each chapter in a fresh kernel.",
        "",
        "| chapter | run time | budget | peak memory |",
        "| --- | ---: | ---: | ---: |",
    ]
    for row in rows:
        flag = "" if row["seconds"] <= row["budget"] else " (over budget)"
        lines.append(
            f"| {row['chapter']} | {row['seconds']:.0f} s{flag} | {row['budget']} s | "
            f"{row['peak_mb']:.0f} MB |"
        )
    peak = max(row["peak_mb"] for row in rows)
    lines.append(
        f"| **whole book** | **{total:.0f} s** | {BOOK_BUDGET_S} s | {peak:.0f} MB "
        f"(budget {MEMORY_BUDGET_MB} MB) |"
    )
    return "\n".join(lines) + "\n"


def write_report(text: str, out: Path) -> None:
    """Print a Markdown report and write it to ``out`` (its folder made if needed)."""
    print()
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"written to {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "chapters.md")
    args = parser.parse_args()
    chapters = args.chapters or sorted((ROOT / "book").glob("*.ipynb"))
    rows = []
    start = time.perf_counter()
    for path in chapters:
        result = run_chapter(path.resolve())
        row = {
            "chapter": path.stem,
            "seconds": result["seconds"],
            "peak_mb": result["peak_mb"],
            "budget": BUDGET_S.get(path.stem, DEFAULT_BUDGET_S),
        }
        rows.append(row)
        print(f"{row['chapter']:24s} {row['seconds']:6.1f} s  {row['peak_mb']:6.0f} MB", flush=True)
    total = time.perf_counter() - start
    write_report(table(rows, total), args.out)


if __name__ == "__main__":
    main()
