"""Time the 2-D playground of chapter 1: training steps, redraws, and the frame rate they allow.

Usage: python bench/playground.py [--steps 400] [--frames 20] [--learn 0] [--busy]

Prints, for the default ``ganlab.widgets.Playground`` and a few variants:
- ms per training step (one full update: k = 1 D update, then one G update),
- ms per redraw (the picture computed, drawn and PNG-encoded: what the widget sends),
- redraws per second at 20 training steps per redraw, and how many steps per redraw
  would still allow 10 redraws per second,
then one widget frame as the Play button runs it (steps + redraw + widget update), the
pictures per second the widget sends while playing (ticks fired at the Play widget's interval
for --play seconds, as the browser fires them: what reaches the page, less the transport), the
time and size of the static fallback ``playground_animation()``, and the machine: CPU cores,
torch threads, load average. With ``--learn N`` it also trains each
variant N steps and prints the modes of the ring it covers, and the first step (checked every
250) where it covered all 8 (slow: 5 seeds x N x the step time).
With ``--busy`` it first times a training step with 1 and with the default number of torch
threads while a busy loop occupies one core (what another notebook or a CI job does).

The goal (issue 3): on the default settings, >= 10 redraws/s with >= 20 training steps
between redraws, i.e. at most 100 ms for 20 steps and one redraw, on 2 CPU cores. The script
prints whether the default variant, the widget's Play tick and its Play loop meet it; the
front-end test (tests_browser/test_live_widgets.py, `make browser`) measures the same loop in
JupyterLab, counting the pictures that reach the page. Run it on a quiet
machine (it prints the load average): another process on the same cores distorts the
timings, torch's intra-op threads most of all; run it two or three times and compare.
"""

from __future__ import annotations

import argparse
import inspect
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

import ganlab as gl

DEFAULTS = {
    name: param.default
    for name, param in inspect.signature(gl.widgets.Playground).parameters.items()
    if name in ("width", "depth", "batch_size", "resolution", "steps_per_frame")
}
VARIANTS: dict[str, dict[str, object]] = {
    "default (width {width}, depth {depth}, batch {batch_size})".format(**DEFAULTS): {},
    "package MLPs (width 64, depth 3, batch 128)": {"width": 64, "depth": 3, "batch_size": 128},
    "smaller (width 32, depth 2, batch 64)": {"width": 32, "depth": 2, "batch_size": 64},
    "default, heatmap 60x60 (default {resolution})".format(**DEFAULTS): {"resolution": 60},
}


def median_ms(action, repeats: int, inner: int = 1) -> float:
    """Median wall time of ``action`` over ``repeats`` runs, per inner call, in ms."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) / inner)
    return 1e3 * statistics.median(times)


def full_redraw(pg: gl.widgets.Playground) -> bytes:
    """The picture with a complete matplotlib draw, then the same PNG encoding."""
    with gl.cpu.using_threads(pg.threads):
        canvas = pg.render().canvas
        canvas.draw()
        return gl.widgets._encode(np.asarray(canvas.buffer_rgba())[..., :3])


def time_variant(controls: dict[str, object], steps: int, frames: int) -> dict[str, float]:
    pg = gl.widgets.Playground("ring", seed=0, **controls)
    pg.step(50)  # warm up: allocator, Adam's state, first figure
    pg.image()
    chunk = 20
    step_ms = median_ms(lambda: pg.step(chunk), max(1, steps // chunk), inner=chunk)
    redraw_ms = median_ms(pg.image, frames)
    full_ms = median_ms(lambda: full_redraw(pg), max(3, frames // 4))
    return {"step": step_ms, "redraw": redraw_ms, "full": full_ms}


def widget_frame_ms(frames: int) -> float | None:
    """One Play tick as the widget runs it: steps_per_frame updates + redraw + Image update.

    Timed after 500 steps: early on, the curves' axis limits change every few frames and
    the cached background (axes, ticks, labels) must be redrawn with them.
    """
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return None
    pg = gl.widgets.Playground("ring", seed=0)
    pg.step(500)  # past the first steps, where the curves' axis limits change often
    pg.widget  # noqa: B018 (builds it)
    play = pg._ui["play"]
    play.value += 1  # warm up
    return median_ms(lambda: setattr(play, "value", play.value + 1), frames)


def play_rate(seconds: float) -> tuple[float, int, int]:
    """Pictures per second the widget sends while playing, default settings, after 500 steps.

    Ticks fire at the Play widget's interval, at a fixed rate as the browser's timer does,
    whether or not the last frame is done; the widget drops the ticks that queued up and
    adapts the interval. Returns (pictures per second, training steps per picture, last
    interval in ms).
    """
    pg = gl.widgets.Playground("ring", seed=0)
    pg.step(500)
    pg.widget  # noqa: B018 (builds it)
    play, pictures = pg._ui["play"], []
    pg._ui["image"].observe(lambda _: pictures.append(time.perf_counter()), names="value")
    setattr(play, gl.widgets._playing_trait(play), True)
    steps = pg.g_updates
    start = next_tick = time.perf_counter()
    while (now := time.perf_counter()) - start < seconds:
        if now < next_tick:
            time.sleep(next_tick - now)
            continue
        next_tick += play.interval / 1e3
        play.value += 1
    rate = (len(pictures) - 1) / (pictures[-1] - pictures[0]) if len(pictures) > 1 else 0.0
    return rate, (pg.g_updates - steps) // max(1, len(pictures)), play.interval


def compare_threads(steps: int, busy: bool) -> None:
    """ms per training step of the default model with 1 and with torch's default threads."""
    spinner = None
    if busy:  # one core taken by another process, as when a second notebook or CI runs
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.5)
    try:
        for threads in sorted({1, torch.get_num_threads()}):
            pg = gl.widgets.Playground("ring", seed=0, threads=threads)
            pg.step(30)
            ms = median_ms(lambda pg=pg: pg.step(20), max(3, steps // 40), inner=20)
            where = "one core kept busy" if busy else "no busy loop"
            print(f"  default model, {threads} torch thread(s), {where}: {ms:.1f} ms per step")
    finally:
        if spinner is not None:
            spinner.terminate()
            spinner.wait()


def learn(controls: dict[str, object], steps: int, every: int = 250) -> str:
    """Modes of the ring covered after ``steps``, and the first step (a multiple of
    ``every``) where all 8 are covered, for seeds 0-4 (``Playground.coverage``)."""
    covered, first = [], []
    for seed in range(5):
        pg = gl.widgets.Playground("ring", seed=seed, **controls)
        done, reached = 0, None
        while done < steps:
            pg.step(min(every, steps - done))
            done = pg.g_updates
            modes = pg.coverage().modes
            if reached is None and modes == pg.dist.n_modes:
                reached = done
        covered.append(modes)
        first.append(reached)
    return (
        f"modes of the ring after {steps} steps, seeds 0-4: {covered} (of 8); "
        f"first step with all 8 (checked every {every}): {first}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="training steps timed per variant")
    parser.add_argument("--frames", type=int, default=20, help="redraws timed per variant")
    parser.add_argument("--learn", type=int, default=0, help="also train N steps, count modes")
    parser.add_argument("--play", type=float, default=10, help="seconds of the widget's Play loop")
    parser.add_argument(
        "--busy", action="store_true", help="also time the threads with one core kept busy"
    )
    args = parser.parse_args()

    # Playground(threads=1) runs its steps and redraws with 1 torch thread; show why.
    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} CPU cores, torch {torch.__version__} "
        f"(default {torch.get_num_threads()} intra-op threads), "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    compare_threads(args.steps, busy=False)
    if args.busy:
        compare_threads(args.steps, busy=True)
    print()
    header = f"{'variant':44s} {'ms/step':>8s} {'ms/redraw':>10s} {'redraws/s @20':>14s}"
    print(header + f" {'steps/redraw @10/s':>19s} {'full-draw ms':>13s}")
    rates = {}
    for name, controls in VARIANTS.items():
        t = time_variant(controls, args.steps, args.frames)
        rate = rates[name] = 1e3 / (20 * t["step"] + t["redraw"])
        steps_at_10 = max(0.0, (100.0 - t["redraw"]) / t["step"])
        print(
            f"{name:44s} {t['step']:8.2f} {t['redraw']:10.1f} {rate:14.2f} "
            f"{steps_at_10:19.1f} {t['full']:13.1f}"
        )
        if args.learn:
            print(f"  {learn(controls, args.learn)}")
    frame = widget_frame_ms(max(5, args.frames // 2))
    if frame is not None:
        print(
            f"\nwidget Play tick (20 steps + redraw + Image update), default settings, "
            f"after 500 steps: "
            f"{frame:.0f} ms = {1e3 / frame:.2f} frames/s"
        )
    loop = None
    if frame is not None:
        loop, per_picture, interval = play_rate(args.play)
        print(
            f"widget Play loop, default settings, {args.play:.0f} s: {loop:.1f} pictures/s sent, "
            f"{per_picture} training steps per picture, Play interval now {interval} ms"
        )
    default_rate = rates[next(iter(VARIANTS))]  # the first variant: the defaults
    met = default_rate >= 10 and (frame is None or (frame <= 100 and loop >= 10))
    verdict = "met" if met else "NOT met"
    widget = "" if frame is None else f", widget Play tick {frame:.0f} ms, loop {loop:.1f}/s"
    print(
        f"goal >= 10 redraws/s with 20 steps per redraw (<= 100 ms), default settings: "
        f"{verdict} ({default_rate:.1f} redraws/s{widget}; load average "
        f"{os.getloadavg()[0]:.2f} now)"
    )
    start = time.perf_counter()
    html = gl.widgets.playground_animation()
    print(
        f"static fallback playground_animation() (2000 steps, 21 frames): "
        f"{time.perf_counter() - start:.1f} s, {len(html) / 1e6:.2f} MB of HTML"
    )
    print(
        "\nms/redraw: snapshot (D on the grid, G's samples and arrows, mode count), artists "
        "updated in place, changing artists drawn over a cached background, PNG encoded.\n"
        "full-draw ms: the same picture with a complete matplotlib draw + PNG, for comparison."
    )


if __name__ == "__main__":
    main()
