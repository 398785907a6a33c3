"""Does StyleGAN's mapping network make the synthesis network more linear? Chapter 7's toy
(``ganlab.experiments.style_toy``) over many seeds, in one run.

For each seed a z-fed generator x = g(z) and a w-fed one x = s(f(z)) of about the same size
are trained alike on ``experiments.missing_corner``; on the synthesis network (g, or s) it
prints R^2 of a linear fit from its input to its output (1 = linear), the path-length ratio
of straight input lines (1 = they stay straight) and whether the generator fits the data
(``StyleToyRun.fits``: at most 5 % in the empty corner, at least 20 % in each data quadrant).
Chapter 7 runs seed 0 live and quotes this table.

Usage: python bench/style_toy.py [--seeds 10] [--steps 1500] [--out bench/results]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch

import ganlab as gl

FEEDS = ("z-fed", "w-fed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0 .. N-1 (default 10)")
    parser.add_argument("--steps", type=int, default=1500, help="training steps (default 1500)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    rows, runs = [], []
    header = ("| seed | R² z-fed | R² w-fed | path ratio z-fed | path ratio w-fed | fits z-fed | "
              "fits w-fed |\n|---:|---:|---:|---:|---:|:---:|:---:|")  # fmt: skip
    print(header)
    for seed in range(args.seeds):
        run = gl.experiments.style_toy(seed=seed, steps=args.steps)
        runs.append(run)
        fits = ["yes" if run.fits(feed) else "no" for feed in FEEDS]
        row = (f"| {seed} | {run.r2['z-fed']:.3f} | {run.r2['w-fed']:.3f} | "
               f"{run.path_ratio['z-fed']:.3f} | {run.path_ratio['w-fed']:.3f} | "
               f"{fits[0]} | {fits[1]} |")  # fmt: skip
        rows.append(row)
        print(row, flush=True)

    def mean_sd(values: list[float]) -> str:
        return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"

    r2 = {feed: [run.r2[feed] for run in runs] for feed in FEEDS}
    ratio = {feed: [run.path_ratio[feed] for run in runs] for feed in FEEDS}
    fitted = {feed: sum(run.fits(feed) for run in runs) for feed in FEEDS}
    s_more_linear = sum(run.r2["w-fed"] > run.r2["z-fed"] for run in runs)
    s_straighter = sum(run.path_ratio["w-fed"] < run.path_ratio["z-fed"] for run in runs)
    summary = (
        f"| mean ± sd | {mean_sd(r2['z-fed'])} | {mean_sd(r2['w-fed'])} | "
        f"{mean_sd(ratio['z-fed'])} | {mean_sd(ratio['w-fed'])} | "
        f"{fitted['z-fed']} of {len(runs)} | {fitted['w-fed']} of {len(runs)} |"
    )
    print(summary)
    seconds = time.perf_counter() - start
    verdict = (
        f"The w-fed synthesis network is the more linear (R²) in {s_more_linear} of "
        f"{len(runs)} seeds and bends straight lines less in {s_straighter} of {len(runs)}."
    )
    print(verdict)
    text = "\n".join([
        f"# StyleGAN toy: z-fed against w-fed synthesis ({len(runs)} seeds, {args.steps} steps)",
        "",
        f"`python bench/style_toy.py --seeds {args.seeds} --steps {args.steps}`, one thread, "
        f"{seconds:.0f} s in all, on {platform.processor() or platform.machine()}, "
        f"torch {torch.__version__}.",
        "",
        header, *rows, summary, "", verdict, "",
    ])  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "style_toy.md"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text)
    tmp.replace(path)  # written whole, or not at all
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
