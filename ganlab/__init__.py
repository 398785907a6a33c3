"""ganlab: the small PyTorch package behind the interactive GAN book.

One module per idea (ARCHITECTURE.md has the map): ``data`` (distributions), ``models`` (G
and D), ``losses`` (pure functions of D's raw scores), ``train`` (Algorithm 1 of Goodfellow
et al. 2014), ``unrolled`` (the unrolled-GAN G step), ``train_images`` (the DCGAN loop),
``checkpoints`` (SHA-256-checked state dicts, shipped weights), ``gradients`` (the gradient
norm a step reports), ``batched`` (many small GANs at once), ``metrics`` (mode coverage, W1,
image scores), ``theory`` (closed forms: D*, C(G), JSD, the Dirac-GAN), ``latent`` (lerp,
slerp, vector arithmetic), ``experiments`` (controlled runs shared by chapters and widgets),
``plot`` (shared figures) and ``widgets`` (playground, saturation explorer, Dirac-GAN;
ipywidgets is imported only when used); ``cpu`` decides torch's CPU threads. Importing the
package seeds nothing and downloads nothing. It changes one setting, and only when torch is not
loaded yet and the variable is unset: ``OMP_WAIT_POLICY=PASSIVE``, so that torch's idle threads
sleep instead of spinning (``ganlab.cpu`` has the measurements; OpenMP reads it once, when
torch loads).
"""

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
    losses,
    metrics,
    models,
    plot,
    theory,
    train,
    train_images,
    unrolled,
    widgets,
)

__all__ = [
    "batched",
    "checkpoints",
    "cpu",
    "data",
    "experiments",
    "gradients",
    "latent",
    "losses",
    "metrics",
    "models",
    "plot",
    "theory",
    "train",
    "train_images",
    "unrolled",
    "widgets",
    "__version__",
]
__version__ = "0.1.0"
