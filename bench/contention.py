"""Every chapter on a quiet machine and again beside a busy program, in one run, side by side.

Usage: python bench/contention.py [--out bench/results/contention.md] [--train] [--old]
                                  [chapter.ipynb ...]

A reader's machine is rarely quiet: a browser tab, a second notebook or an IDE holds a core, and
a Colab CPU runtime's two vCPUs share one physical core. For each chapter this script runs it
top to bottom in a fresh kernel (as ``bench/chapters.py`` does) twice: quiet, then beside a
process that spins on one core (pinned to the last usable CPU). It prints the busy/quiet ratio
(issue 21: at most 1.5) and the quiet time against the committed time table
(``bench/results/chapters.md``; at most 1.15). ``--train`` adds one epoch of
``python -m ganlab train dcgan`` both ways; ``--old`` adds chapter 4 under the settings before
``ganlab.cpu`` (two threads, OpenMP's default spin-then-sleep wait), to show what the policy
fixed. Run it on an otherwise quiet machine: the quiet leg must be quiet.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chapters import run_chapter, write_report  # noqa: E402  (bench/chapters.py: one chapter, fresh kernel)

ROOT = Path(__file__).resolve().parents[1]
BUSY_LIMIT = 1.5  # busy time / quiet time
QUIET_LIMIT = 1.15  # quiet time / committed time
OLD_SETTINGS = {"GANLAB_THREADS": "2", "OMP_WAIT_POLICY": ""}  # empty: OpenMP's default wait


@contextlib.contextmanager
def busy_core() -> Iterator[int]:
    """A process that spins on the last CPU this process may use, for the length of the block."""
    core = sorted(os.sched_getaffinity(0))[-1]
    spin = subprocess.Popen(
        [sys.executable, "-c", f"import os\nos.sched_setaffinity(0, {{{core}}})\nwhile True: pass"]
    )
    time.sleep(0.5)  # let it start spinning before the work begins
    try:
        yield core
    finally:
        spin.kill()
        spin.wait()


@contextlib.contextmanager
def environment(settings: dict[str, str]) -> Iterator[None]:
    """os.environ with ``settings`` for the block (the chapters' kernels inherit it)."""
    old = {key: os.environ.get(key) for key in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def committed_times(path: Path) -> dict[str, float]:
    """chapter -> seconds, from the time table's rows ``| 04_dcgan | 31 s | ...``."""
    rows = re.findall(r"^\| (\d\d_\w+) \| (\d+) s", path.read_text(), flags=re.M)
    return {name: float(seconds) for name, seconds in rows}


def chapter_seconds(path: Path) -> float:
    """Seconds to run the chapter top to bottom in a fresh kernel."""
    return run_chapter(path.resolve())["seconds"]


def train_epoch() -> float:
    """Seconds for one epoch of ``python -m ganlab train dcgan`` (a fresh folder, no resume)."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "ganlab", "train", "dcgan", "--epochs", "1", "--out", tmp,
             "--no-progress"], check=True, cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        return time.perf_counter() - start


def both_ways(measure) -> tuple[float, float]:
    quiet = measure()
    with busy_core():
        busy = measure()
    return quiet, busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "contention.md")
    parser.add_argument("--train", action="store_true", help="also one epoch of train dcgan")
    parser.add_argument("--old", action="store_true", help="also chapter 4 as before ganlab.cpu")
    args = parser.parse_args()
    chapters = args.chapters or sorted((ROOT / "book").glob("*.ipynb"))
    committed = committed_times(ROOT / "bench" / "results" / "chapters.md")
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    lines = [
        f"Measured by `python bench/contention.py{' --train' if args.train else ''}"
        f"{' --old' if args.old else ''}` on {datetime.date.today()}: "
        f"{len(os.sched_getaffinity(0))} usable CPU cores, Python {platform.python_version()}, "
        "each chapter in a fresh kernel, quiet and then beside a process spinning on one core.",
        "",
        "| run | committed | quiet | quiet / committed | one core busy | busy / quiet |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    worst_busy = worst_quiet = 0.0

    def row(name: str, quiet: float, busy: float, before: float | None, judged=True) -> None:
        nonlocal worst_busy, worst_quiet
        ratio = busy / quiet
        worst_busy = max(worst_busy, ratio) if judged else worst_busy
        if before is None:
            was = vs = "–"
        else:
            worst_quiet = max(worst_quiet, quiet / before)
            was, vs = f"{before:.0f} s", f"{quiet / before:.2f}"
        lines.append(f"| {name} | {was} | {quiet:.1f} s | {vs} | {busy:.1f} s | {ratio:.2f} |")
        print(lines[-1], flush=True)

    for path in chapters:
        quiet, busy = both_ways(functools.partial(chapter_seconds, path))
        row(path.stem, quiet, busy, committed.get(path.stem))
    if args.train:
        quiet, busy = both_ways(train_epoch)
        row("`python -m ganlab train dcgan --epochs 1`", quiet, busy, None)
    if args.old:
        with environment(OLD_SETTINGS):
            quiet, busy = both_ways(
                functools.partial(chapter_seconds, ROOT / "book" / "04_dcgan.ipynb")
            )
        row("04_dcgan as before ganlab.cpu (2 threads, default wait)", quiet, busy, None, False)
    lines += [
        "",
        f"Worst busy / quiet under ganlab.cpu: {worst_busy:.2f} (limit {BUSY_LIMIT}); worst quiet / committed: "
        f"{worst_quiet:.2f} (limit {QUIET_LIMIT}).",
    ]
    write_report("\n".join(lines) + "\n", args.out)


if __name__ == "__main__":
    main()
