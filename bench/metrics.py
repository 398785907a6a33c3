"""Time chapter 5's image scores on Fashion-MNIST features: FID, KID, precision/recall,
density/coverage (and the classifier's Inception-Score analogue), real against generated.

Usage: python bench/metrics.py [--n 10000] [--knn-n N] [--subsets 100] [--subset-size 1000]
                               [--threads N] [--seed 0]

Real images: the Fashion-MNIST test split (10,000). Generated: ``--n`` images of the shipped
generator (``load_pretrained("dcgan_fashion_mnist")``, seed ``--seed``). Features: the shipped
classifier's 64-D penultimate layer (``load_pretrained("classifier_fashion_mnist")``, through
``ganlab.metrics.features``), so the values are "FID-like", not comparable with published
Inception FIDs. Prints the machine (torch threads, CPUs, load average), the time to generate
and to extract the features, then one line per score: its value and its wall time (one run
each; ``time.perf_counter``), and the peak resident memory of the process at the end.

The k-NN scores need full distance matrices: 10,000 x 10,000 in float64 is 800 MB, and
precision/recall builds three of them (real-real, fake-fake, fake-real). They run on
``--knn-n`` samples of each set (default: ``--n``); pass ``--knn-n 5000`` on a machine with
less than about 4 GB free. FID and KID always use all ``--n``.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import torch

import ganlab as gl


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


@torch.no_grad()
def generate(G: torch.nn.Module, n: int, seed: int, batch_size: int = 1000) -> torch.Tensor:
    z = G.sample_latent(n, seed)
    return torch.cat([G(z[i : i + batch_size]) for i in range(0, n, batch_size)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="real and generated samples")
    parser.add_argument("--knn-n", type=int, default=None, help="samples for the k-NN scores")
    parser.add_argument("--subsets", type=int, default=100, help="KID subsets")
    parser.add_argument("--subset-size", type=int, default=1000, help="KID subset size")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    knn_n = min(args.knn_n or args.n, args.n)

    G, _ = gl.checkpoints.load_pretrained("dcgan_fashion_mnist")
    clf, _ = gl.checkpoints.load_pretrained("classifier_fashion_mnist")
    real_images = gl.data.fashion_mnist("test").images[: args.n]
    if len(real_images) < args.n:
        parser.error(f"--n {args.n}: the test split holds only {len(real_images)} images")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    print(f"real: Fashion-MNIST test, {args.n} images; generated: dcgan_fashion_mnist, {args.n} "
          f"images (seed {args.seed}); k-NN scores on the first {knn_n} of each")  # fmt: skip

    fake_images, t_gen = timed(generate, G, args.n, args.seed)
    real, t_real = timed(gl.metrics.features, clf, real_images)
    fake, t_fake = timed(gl.metrics.features, clf, fake_images)
    print(f"generate {args.n} images {t_gen:8.2f} s")
    print(f"features real {tuple(real.shape)} {t_real:6.2f} s, generated {t_fake:6.2f} s "
          f"({1e6 * (t_real + t_fake) / (2 * args.n):.0f} us/image)")  # fmt: skip

    with torch.no_grad():
        probs = torch.softmax(clf.head(fake).double(), dim=1)
    rows = []
    value, t = timed(gl.metrics.fid, real, fake)
    rows.append(("FID-like", f"{value:.3f}", t, f"N = {args.n}"))
    (mean, std), t = timed(gl.metrics.kid, real, fake, args.subsets, args.subset_size, args.seed)
    rows.append(("KID-like", f"{mean:.5f} +- {std:.5f}", t,
                 f"{args.subsets} subsets x {args.subset_size}"))  # fmt: skip
    (mean, std), t = timed(gl.metrics.inception_score, probs)
    rows.append(("IS-like (classifier)", f"{mean:.3f} +- {std:.3f}", t, "10 splits, generated"))
    (p, r), t = timed(gl.metrics.precision_recall, real[:knn_n], fake[:knn_n])
    rows.append(("precision / recall", f"{p:.4f} / {r:.4f}", t, f"k = 3, N = M = {knn_n}"))
    (d, c), t = timed(gl.metrics.density_coverage, real[:knn_n], fake[:knn_n])
    rows.append(("density / coverage", f"{d:.4f} / {c:.4f}", t, f"k = 5, N = M = {knn_n}"))
    for name, text, seconds, note in rows:
        print(f"{name:21s} {text:22s} {seconds:8.2f} s   ({note})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"peak resident memory {peak:.0f} MiB; load average now "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip


if __name__ == "__main__":
    main()
