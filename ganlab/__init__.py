"""ganlab: the small PyTorch package behind the interactive GAN book.

One module per idea (ARCHITECTURE.md has the map): ``data`` (distributions), ``models`` (G
and D), ``losses`` (pure functions of D's raw scores), ``train`` (Algorithm 1 of Goodfellow
et al. 2014), ``unrolled`` (the unrolled-GAN G step), ``train_images`` (the DCGAN loop),
``checkpoints`` (SHA-256-checked state dicts, shipped weights), ``gradients`` (the gradient
norm a step reports), ``batched`` (many small GANs at once), ``metrics`` (mode coverage, W1,
image scores), ``theory`` (closed forms: D*, C(G), JSD, the Dirac-GAN), ``lipschitz`` (a network's
Lipschitz constant: power iteration, spectral norms, the product bound), ``latent`` (lerp,
slerp, vector arithmetic), ``experiments`` (controlled runs shared by chapters and widgets),
``plane`` (the 2-D plane's geometry), ``plot`` (shared figures) and ``widgets`` (playground,
saturation explorer, Dirac-GAN): these two load on first use, so ``import ganlab`` imports neither
matplotlib nor ipywidgets; ``cpu`` decides torch's CPU threads. Importing the
package seeds nothing and downloads nothing. It changes one setting, and only when torch is not
loaded yet and the variable is unset: ``OMP_WAIT_POLICY=PASSIVE``, so that torch's idle threads
sleep instead of spinning (``ganlab.cpu`` has the measurements; OpenMP reads it once, when
torch loads).
"""

import importlib
import os
import sys

if "torch" not in sys.modules:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from ganlab import (
    batched,
    checkpoints,
    cpu,
    data,
    experiments,
    gradients,
    latent,
    lipschitz,
    losses,
    metrics,
    models,
    plane,
    theory,
    train,
    train_images,
    unrolled,
)

_DRAWING = ("plot", "widgets")
"""Loaded on first use (``gl.plot``, ``gl.widgets``): matplotlib and ipywidgets are not imported
by ``import ganlab``, so a training script or the command line does not pay for them."""


def __getattr__(name: str) -> object:
    if name in _DRAWING:
        module = importlib.import_module(f"ganlab.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'ganlab' has no attribute {name!r}")


__all__ = [
    "batched",
    "checkpoints",
    "cpu",
    "data",
    "experiments",
    "gradients",
    "latent",
    "lipschitz",
    "losses",
    "metrics",
    "models",
    "plane",
    "plot",
    "theory",
    "train",
    "train_images",
    "unrolled",
    "widgets",
    "__version__",
]
__version__ = "0.1.0"
