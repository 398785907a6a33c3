"""DCGAN training in fp32 against bfloat16 autocast on this CPU: speed and quality, in one run.

Usage: python bench/bf16.py [--epochs 1] [--seeds 0 1 2] [--samples 5000]

Some CPUs compute bfloat16 natively (AVX-512 BF16, AMX); on the others oneDNN emulates it and
it is slower than fp32. For each seed this trains the book's DCGAN (width 32, latent 64, batch
128, Adam 2e-4, beta1 0.5) on Fashion-MNIST for ``--epochs`` with
``train_images.fit_epochs``, once in fp32 and once with ``fit_epochs(precision=torch.bfloat16)`` (each network's forward pass under
autocast, its output cast back to fp32: the losses, the weights and Adam stay fp32), timing
the epochs. Quality is the FID-like score of
chapter 5: the Fréchet distance between the shipped classifier's features of ``--samples``
generated images and of as many test images. It prints ms per step and the score per seed and
precision, the speed ratio, and whether bf16's mean score lies within the fp32 seeds' spread
(mean ± 2 standard deviations): the rule for adopting it (issue 21).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

import ganlab as gl


def train_and_score(seed: int, bf16: bool, epochs: int, samples: int, phi) -> tuple[float, float]:
    """(ms per step, FID-like score) of one run."""
    images = gl.data.fashion_mnist("train").images
    gl.train.seed_everything(seed)
    G, D = gl.models.DCGANGenerator(64, 32), gl.models.DCGANDiscriminator(32)
    start = time.perf_counter()
    precision = torch.bfloat16 if bf16 else torch.float32
    history = gl.train_images.fit_epochs(
        G, D, images, epochs, seed=seed, progress=False, precision=precision
    )
    ms = 1000 * (time.perf_counter() - start) / len(history)
    G.eval()
    with torch.no_grad():
        fake = G(torch.randn(samples, 64, generator=torch.Generator().manual_seed(seed)))
    real = gl.data.fashion_mnist("test").images[:samples]
    return ms, gl.metrics.fid(phi(real), phi(fake))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--samples", type=int, default=5000)
    args = parser.parse_args()
    print(gl.cpu.setup("conv"))
    native = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    print(f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"native bf16 (oneDNN): {native}, load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    classifier, _ = gl.checkpoints.load_pretrained("classifier_fashion_mnist", "cpu")

    def phi(images: torch.Tensor) -> torch.Tensor:
        return gl.metrics.features(classifier, images)

    results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for seed in args.seeds:
        for bf16 in (False, True):  # interleaved, so that a busy neighbour hurts both alike
            ms, score = train_and_score(seed, bf16, args.epochs, args.samples, phi)
            results[bf16].append((ms, score))
            name = "bf16" if bf16 else "fp32"
            print(f"seed {seed} {name}: {ms:6.1f} ms/step, FID-like {score:7.2f}", flush=True)
    fp32_ms = statistics.mean(ms for ms, _ in results[False])
    bf16_ms = statistics.mean(ms for ms, _ in results[True])
    fp32_scores = [score for _, score in results[False]]
    bf16_mean = statistics.mean(score for _, score in results[True])
    mean = statistics.mean(fp32_scores)
    spread = 2 * statistics.stdev(fp32_scores) if len(fp32_scores) > 1 else 0.0
    holds = abs(bf16_mean - mean) <= spread
    print(f"\nms/step: fp32 {fp32_ms:.1f}, bf16 {bf16_ms:.1f}: bf16 is {fp32_ms / bf16_ms:.2f}x "
          f"as fast")  # fmt: skip
    print(f"FID-like after {args.epochs} epoch(s): fp32 {mean:.2f} ± {spread / 2:.2f} (seeds "
          f"{', '.join(f'{s:.2f}' for s in fp32_scores)}), bf16 {bf16_mean:.2f}: "
          f"{'within' if holds else 'outside'} fp32's mean ± 2 sd")  # fmt: skip


if __name__ == "__main__":
    main()
