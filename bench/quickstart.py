"""Time the quickstart's training run and measure its coverage over several seeds.

Usage: python bench/quickstart.py [--seeds 0 1 2 3 4] [--steps 2000]

Prints, per seed: wall time, ms per step, modes captured (of 8), high-quality fraction.
The quickstart chapter uses seed 0; the other seeds show how typical that run is.
"""

from __future__ import annotations

import argparse
import time

import torch

import ganlab as gl


def run(seed: int, steps: int) -> tuple[float, gl.metrics.ModeCoverage]:
    gl.train.seed_everything(seed)
    ring = gl.data.ring(modes=8, radius=2.0, std=0.02)
    G = gl.models.MLPGenerator(latent_dim=2, out_dim=2)
    D = gl.models.MLPDiscriminator(in_dim=2)
    start = time.perf_counter()
    gl.train.fit(
        G,
        D,
        ring,
        steps=steps,
        batch_size=128,
        loss="nonsaturating",
        lr_D=1e-3,
        lr_G=1e-3,
        seed=seed,
        progress=False,
    )
    elapsed = time.perf_counter() - start
    return elapsed, gl.metrics.mode_coverage(G.sample(2500, seed=1), ring)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device cpu")
    covered = []
    for seed in args.seeds:
        elapsed, cov = run(seed, args.steps)
        covered.append(cov.modes)
        print(f"seed {seed}: {elapsed:5.1f} s ({1000 * elapsed / args.steps:.1f} ms/step)  {cov}")
    print(
        f"modes captured over {len(covered)} seeds: {covered}, "
        f"mean {sum(covered) / len(covered):.1f}, all 8 in {covered.count(8)} runs"
    )


if __name__ == "__main__":
    main()
