"""The data, one module per idea: ``toys`` (Gaussian mixtures with exact densities, and
chapter 7's toy data sets) and ``images`` (Fashion-MNIST and MNIST from checksummed IDX
files). The package re-exports every public name, so chapters write ``gl.data.<name>``.

A download's limits (``DOWNLOAD_READ_TIMEOUT`` and the others) are read where they are
used: to change one, set it on ``ganlab.data.images``.
"""

from __future__ import annotations

from ganlab.data.images import (
    DOWNLOAD_MIN_RATE,
    DOWNLOAD_MIN_SECONDS,
    DOWNLOAD_READ_TIMEOUT,
    DOWNLOAD_SLACK,
    FASHION_MNIST_CLASSES,
    IDX_FILES,
    SOURCES,
    DataError,
    IDXSource,
    ImageData,
    cache_dir,
    data_dirs,
    download_fallback_dir,
    fashion_mnist,
    load_idx_images,
    mirror_url,
    mnist,
    read_idx,
)
from ganlab.data.toys import (
    TOYS,
    GaussianMixture,
    far_data,
    grid,
    missing_corner,
    mixture_1d,
    ring,
    spiral,
    square_ring,
    toy,
    two_answer_pairs,
    two_gaussians,
)

__all__ = [
    "GaussianMixture",
    "mixture_1d",
    "ring",
    "grid",
    "two_gaussians",
    "spiral",
    "TOYS",
    "toy",
    "far_data",
    "square_ring",
    "two_answer_pairs",
    "missing_corner",
    "DataError",
    "IDXSource",
    "IDX_FILES",
    "FASHION_MNIST_CLASSES",
    "SOURCES",
    "ImageData",
    "read_idx",
    "cache_dir",
    "data_dirs",
    "mirror_url",
    "fashion_mnist",
    "mnist",
    "load_idx_images",
    "DOWNLOAD_READ_TIMEOUT",
    "DOWNLOAD_MIN_SECONDS",
    "DOWNLOAD_MIN_RATE",
    "DOWNLOAD_SLACK",
    "download_fallback_dir",
]
