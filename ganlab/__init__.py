"""ganlab: the small PyTorch package behind the interactive GAN book.

One module per idea: ``data`` (distributions), ``models`` (G and D), ``losses``
(pure functions of D's raw scores), ``train`` (Algorithm 1 of Goodfellow et al.
2014), ``metrics`` (mode coverage), ``theory`` (closed forms: D*, C(G), JSD), ``plot``
(shared figures) and ``widgets`` (the playground; ipywidgets is imported only when used). Importing the
package seeds nothing, downloads nothing and touches no global settings.
"""

from ganlab import data, losses, metrics, models, plot, theory, train, widgets

__all__ = [
    "data",
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
