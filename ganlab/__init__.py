"""ganlab: the small PyTorch package behind the interactive GAN book.

One module per idea: ``data`` (distributions), ``models`` (G and D), ``losses``
(pure functions of D's raw scores), ``train`` (Algorithm 1 of Goodfellow et al.
2014), ``metrics`` (mode coverage, W1), ``theory`` (closed forms: D*, C(G), JSD, the
Dirac-GAN), ``latent`` (lerp, slerp, vector arithmetic), ``experiments`` (controlled runs shared by chapters and widgets), ``plot``
(shared figures) and ``widgets`` (playground, saturation explorer, Dirac-GAN; ipywidgets is
imported only when used). Importing the
package seeds nothing, downloads nothing and touches no global settings.
"""

from ganlab import (
    batched,
    data,
    experiments,
    latent,
    losses,
    metrics,
    models,
    plot,
    theory,
    train,
    widgets,
)

__all__ = [
    "batched",
    "data",
    "experiments",
    "latent",
    "losses",
    "metrics",
    "models",
    "plot",
    "theory",
    "train",
    "widgets",
    "__version__",
]
__version__ = "0.1.0"
