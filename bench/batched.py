"""How close to the CPU's limit does GAN training run? The plain loop, the batched trainer and
the machine's fp32 matmul peak, measured side by side in one run, with one and two torch threads.

    plain     ``train.fit``: one 3 x 64 MLP pair (the ring setting of bench/mode_collapse.py:
              z in R^2, batch 128, Adam), one model-step = one D step + one G step
    batched   ``batched.fit_many``: S such runs stacked (each its own seed, data stream and
              Adam state), S model-steps per step
    peak      ``torch.bmm`` of S x (2B x 64) by (64 x 64): the matmul the hidden layers do,
              the best fp32 rate this CPU reaches on it with that many threads

The model FLOPs of a step are counted layer by layer (2 per multiply-add; forward, the input
gradients and the weight gradients that a step computes), so "% of peak" = model FLOP/s of the
trainer / peak FLOP/s. The three are measured in rounds (plain, batched, peak, plain, ...) so
that a change in the machine's load hits all three; each figure is the median over rounds, in
wall time (with two threads, CPU time would count both cores). The machine is the 2-core one
the issue names: the plain loop is fastest with one thread (a 3 x 64 MLP step is too small to
split), the batched trainer's big batched matmuls use both cores, so the headline compares each
at its best thread count, against the two-core peak; the table gives every thread count.

Usage: python bench/batched.py [--runs 64] [--steps 40] [--rounds 5] [--threads 1,2]
                              [--out bench/results]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import torch

import ganlab as gl

WIDTH, DEPTH, BATCH = 64, 3, 128


def build() -> tuple[torch.nn.Module, torch.nn.Module]:
    G = gl.models.MLPGenerator(latent_dim=2, out_dim=2, width=WIDTH, depth=DEPTH)
    D = gl.models.MLPDiscriminator(in_dim=2, width=WIDTH, depth=DEPTH)
    return G, D


def linear_shapes(model: torch.nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in model.modules()
            if isinstance(m, torch.nn.Linear)]  # fmt: skip


def step_flops(batch: int) -> int:
    """FLOPs of one model-step (one D step + one G step), 2 per multiply-add.

    D step: G forward on B; D forward, input-free backward (weight gradients and the input
    gradients of every layer but the first) on B real + B fake. G step: G forward, D forward,
    D backward to its input (no weight gradients), G backward (weights, inputs but the first).
    """
    G, D = build()
    g, d = linear_shapes(G), linear_shapes(D)
    fwd = lambda layers: sum(i * o for i, o in layers)  # noqa: E731
    inputs = lambda layers: sum(i * o for i, o in layers[1:])  # noqa: E731  (no grad for x)
    d_step = fwd(g) + 2 * (fwd(d) + fwd(d) + inputs(d))
    g_step = fwd(g) + fwd(d) + fwd(d) + fwd(g) + fwd(g) + inputs(g)
    return 2 * batch * (d_step + g_step)


def time_plain(steps: int) -> tuple[float, float]:
    """(CPU s, wall s) per model-step of ``fit``."""
    gl.train.seed_everything(0)
    G, D = build()
    data = gl.data.ring(modes=8, radius=1.0, std=0.01)
    gl.train.fit(G, D, data, 3, batch_size=BATCH, progress=False)  # warm up
    cpu, wall = time.process_time(), time.perf_counter()
    gl.train.fit(G, D, data, steps, batch_size=BATCH, seed=1, progress=False)
    return (time.process_time() - cpu) / steps, (time.perf_counter() - wall) / steps


def time_batched(runs: int, steps: int) -> tuple[float, float]:
    """(CPU s, wall s) per model-step of ``fit_many`` with ``runs`` stacked runs."""
    G, D, _ = gl.batched.stack_players(build, range(runs))
    data = gl.data.ring(modes=8, radius=1.0, std=0.01)
    gl.batched.fit_many(G, D, data, 2, seeds=list(range(runs)), batch_size=BATCH)  # warm up
    cpu, wall = time.process_time(), time.perf_counter()
    gl.batched.fit_many(G, D, data, steps, seeds=list(range(runs)), batch_size=BATCH)
    n = steps * runs
    return (time.process_time() - cpu) / n, (time.perf_counter() - wall) / n


def time_peak(runs: int, repeats: int = 200) -> tuple[float, float]:
    """(CPU, wall) FLOP/s of torch.bmm, (runs, 2B, 64) x (runs, 64, 64)."""
    a, w = torch.randn(runs, 2 * BATCH, WIDTH), torch.randn(runs, WIDTH, WIDTH)
    for _ in range(10):
        torch.bmm(a, w)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(repeats):
        torch.bmm(a, w)
    flops = 2 * runs * 2 * BATCH * WIDTH * WIDTH * repeats
    return flops / (time.process_time() - cpu), flops / (time.perf_counter() - wall)


def measure(args: argparse.Namespace, threads: int) -> dict[str, tuple[float, float]]:
    """Median (CPU, wall) of plain s/model-step, batched s/model-step and peak FLOP/s with
    ``threads`` torch threads, over interleaved rounds."""
    torch.set_num_threads(threads)
    plain, batched, peak = [], [], []
    for r in range(args.rounds):
        plain.append(time_plain(args.plain_steps))
        batched.append(time_batched(args.runs, args.steps))
        peak.append(time_peak(args.runs))
        print(f"{threads} thread(s), round {r + 1}: plain {1 / plain[-1][1]:.0f}, batched "
              f"{1 / batched[-1][1]:.0f} model-steps/s (wall); peak {peak[-1][1] / 1e9:.0f} "
              f"GFLOP/s; load {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
    return {
        name: tuple(statistics.median(t[i] for t in times) for i in range(2))  # type: ignore[misc]
        for name, times in (("plain", plain), ("batched", batched), ("peak", peak))
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=64, help="runs stacked in the batched trainer")
    parser.add_argument("--steps", type=int, default=40, help="batched steps per round")
    parser.add_argument("--plain-steps", type=int, default=300, help="plain steps per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", default="1,2", help="torch thread counts to measure")
    parser.add_argument("--out", type=Path, default=None, help="also write batched.md here")
    args = parser.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    flops = step_flops(BATCH)
    load_before = os.getloadavg()
    results = {t: measure(args, t) for t in threads}
    load_after = os.getloadavg()
    lines = [
        "# Batched training against the plain loop and the CPU's matmul peak",
        "",
        f"`python bench/batched.py --runs {args.runs} --steps {args.steps} --plain-steps "
        f"{args.plain_steps} --rounds {args.rounds} --threads {args.threads}`, "
        f"{time.strftime('%Y-%m-%d %H:%M')}, torch {torch.__version__}, {os.cpu_count()} CPUs "
        f"({platform.processor() or 'x86_64'}, ATen {torch.backends.cpu.get_cpu_capability()}); "
        f"load average (1, 5, 15 min) {', '.join(f'{x:.2f}' for x in load_before)} before and "
        f"{', '.join(f'{x:.2f}' for x in load_after)} after.",
        "",
        f"Model: G and D MLPs 3 x {WIDTH} ReLU, z in R^2, batch {BATCH}, ring data; one "
        f"model-step (one D step + one G step) = {flops / 1e6:.1f} MFLOP; {args.runs} runs "
        f"stacked. Medians over {args.rounds} interleaved rounds per thread count, wall time.",
        "",
        "| torch threads | plain model-steps/s | batched model-steps/s | batched / plain "
        "| matmul peak GFLOP/s | plain % of peak | batched % of peak |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for t, r in results.items():
        p, b, k = 1 / r["plain"][1], 1 / r["batched"][1], r["peak"][1]
        lines.append(f"| {t} | {p:.0f} | {b:.0f} | {b / p:.2f}x | {k / 1e9:.0f} | "
                     f"{100 * p * flops / k:.1f} % | {100 * b * flops / k:.1f} % |")  # fmt: skip
    best_plain = max(threads, key=lambda t: 1 / results[t]["plain"][1])
    best_batched = max(threads, key=lambda t: 1 / results[t]["batched"][1])
    p, b = 1 / results[best_plain]["plain"][1], 1 / results[best_batched]["batched"][1]
    k = max(r["peak"][1] for r in results.values())
    lines += [
        "",
        f"**On this machine, each at its best thread count**: the plain loop "
        f"{p:.0f} model-steps/s ({best_plain} thread(s)), the batched trainer {b:.0f} "
        f"({best_batched} thread(s)): **{b / p:.2f}x**; the batched trainer's model FLOPs are "
        f"**{100 * b * flops / k:.1f} %** of the machine's fp32 matmul peak ({k / 1e9:.0f} "
        "GFLOP/s, the best over thread counts). Per core (one thread each) the ratio is "
        f"{results[threads[0]]['plain'][1] / results[threads[0]]['batched'][1]:.2f}x."
        if threads[0] == 1
        else "",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "batched.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
