"""Time DCGAN training on Fashion-MNIST: ganlab's ``train_images.fit_epochs`` against a plain
reference loop of the same models written the usual way (pytorch/examples' dcgan/main.py), in
one run.

Usage: python bench/dcgan.py [--steps 60] [--batch-size 128] [--width 32] [--latent-dim 64]
                             [--threads N] [--repeats 3]

Both loops train the same ``DCGANGenerator``/``DCGANDiscriminator`` from the same initial
weights on the same batches with Adam(2e-4, betas (0.5, 0.999)); they take turns (reference,
ours, reference, ...) ``--repeats`` times so that a busy neighbour hurts both alike, and the best
time of each is reported, after 3 untimed warm-up steps of each. Prints ms per step, the time one epoch of 60,000 images takes at that
rate, and the ratio ours / reference (the issue's rule: ours must not be slower, and one epoch
with the default model must take under 60 s on 2 CPU cores). The images are the real
Fashion-MNIST training set when ``ganlab.data.fashion_mnist`` finds it, else uniform noise of
the same shape (the timing does not depend on the pixel values).
"""

from __future__ import annotations

import argparse
import copy
import os
import time

import torch
from torch import nn

import ganlab as gl

EPOCH_IMAGES = 60_000


def reference_loop(G, D, images, steps, batch_size, latent_dim, seed):
    """pytorch/examples dcgan/main.py's loop: BCE on sigmoid outputs, one fake batch per step,
    D on real then fake, G through D with labels flipped."""
    # the example uses Sigmoid + BCELoss; the logit form is as fast and numerically safer
    criterion = nn.BCEWithLogitsLoss()
    opt_D = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_G = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(images), generator=g)
    for i in range(steps):
        real = images[order[i * batch_size : (i + 1) * batch_size]]
        D.zero_grad()
        label = torch.full((batch_size,), 1.0)
        err_real = criterion(D(real), label)
        err_real.backward()
        noise = torch.randn(batch_size, latent_dim, generator=g)
        fake = G(noise)
        label.fill_(0.0)
        err_fake = criterion(D(fake.detach()), label)
        err_fake.backward()
        opt_D.step()
        G.zero_grad()
        label.fill_(1.0)
        err_G = criterion(D(fake), label)
        err_G.backward()
        opt_G.step()
        (err_real + err_fake).item(), err_G.item()  # the example prints these every step


def ours(G, D, images, steps, batch_size, latent_dim, seed):
    gl.train_images.fit_epochs(G, D, images[: steps * batch_size], 1, batch_size=batch_size,
                               seed=seed, progress=False)  # fmt: skip


def load_images() -> tuple[torch.Tensor, str]:
    try:
        data = gl.data.fashion_mnist("train")
        return data.images, "Fashion-MNIST train (60,000 images)"
    except Exception as error:  # no data here: the timing does not depend on pixel values
        return torch.rand(
            EPOCH_IMAGES, 1, 28, 28
        ) * 2 - 1, f"uniform noise ({error.__class__.__name__})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--width", type=int, default=None, help="default: DCGANGenerator's")
    parser.add_argument("--latent-dim", type=int, default=None, help="default: DCGANGenerator's")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = {k: v for k, v in (("width", args.width), ("latent_dim", args.latent_dim)) if v}
    G0 = gl.models.DCGANGenerator(**sizes)
    D0 = gl.models.DCGANDiscriminator(**{k: v for k, v in sizes.items() if k == "width"})
    images, source = load_images()
    print(f"data: {source}; model: width {G0.net[0].out_channels // 4}, latent {G0.latent_dim}; "
          f"batch {args.batch_size}; {args.steps} steps per timing; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    best = {"reference": float("inf"), "ganlab": float("inf")}
    for loop in (reference_loop, ours):  # warm-up: the first convolutions pick their kernels
        loop(copy.deepcopy(G0), copy.deepcopy(D0), images, 3, args.batch_size, G0.latent_dim, 0)
    for _ in range(args.repeats):
        for name, loop in (("reference", reference_loop), ("ganlab", ours)):
            G, D = copy.deepcopy(G0), copy.deepcopy(D0)
            start = time.perf_counter()
            loop(G, D, images, args.steps, args.batch_size, G0.latent_dim, 0)
            best[name] = min(best[name], (time.perf_counter() - start) / args.steps)
    for name, seconds in best.items():
        epoch = seconds * EPOCH_IMAGES / args.batch_size
        print(f"{name:9s} {1000 * seconds:7.1f} ms/step  one epoch {epoch:6.1f} s")
    ratio = best["ganlab"] / best["reference"]
    epoch = best["ganlab"] * EPOCH_IMAGES / args.batch_size
    print(
        f"ours / reference = {ratio:.2f} ({'not slower' if ratio <= 1.02 else 'SLOWER'}); "
        f"epoch under 60 s: {'met' if epoch < 60 else 'NOT met'} ({epoch:.0f} s)"
    )


if __name__ == "__main__":
    main()
