"""The book's live instruments (ipywidgets + matplotlib), each driven by the real ganlab code.

- ``Playground`` (chapter 1): the 2-D GAN playground; ``playground_animation`` is its
  static fallback for the rendered book.
- ``SaturationExplorer`` (chapter 2): the generator losses and their gradients at a chosen
  D(G(z)), and a button that re-runs the controlled saturation experiment.
- ``ModeCollapseLab`` (chapter 3): a 2-D toy, a remedy from ``experiments.REMEDIES``, training
  a few hundred steps per click, samples and per-mode histogram; ``mode_collapse_animation`` is
  its static fallback.
- ``LatentExplorer`` (chapter 4): lerp/slerp walks between two latents, nudging one latent
  coordinate, concept arithmetic; ``latent_walk_animation`` is its static fallback.
- ``TuringTest`` (chapter 5): real or generated, one image at a time, scored with a Wilson
  interval: the human baseline; ``turing_animation`` is its static fallback.
- ``ClassPicker`` (chapter 6): samples of a chosen class from class-conditional generators,
  with the classifier's verdict; ``class_picker_animation`` is its static fallback.
- ``DiracGAN`` (chapter 2): trajectories of the Dirac-GAN for a chosen loss, update scheme,
  step size and regulariser; ``dirac_animation`` is its static fallback.

Every widget runs headless from code (for tests and for the static book); ipywidgets is
imported only when a widget's controls are built, so ``import ganlab`` works without it.
"""

from ganlab.widgets._common import _encode, _playing_trait
from ganlab.widgets._playground_state import _optimal_discriminator_grid
from ganlab.widgets.class_picker import ClassPicker, class_picker_animation
from ganlab.widgets.dirac import DEFAULT_ANIMATION, REGULARIZERS, DiracGAN, dirac_animation
from ganlab.widgets.latent import LatentExplorer, latent_walk_animation
from ganlab.widgets.mode_collapse import ModeCollapseLab, mode_collapse_animation
from ganlab.widgets.playground import CONTROLS, WIDTHS, Playground, playground_animation
from ganlab.widgets.saturation import SaturationExplorer
from ganlab.widgets.turing import TuringTest, turing_animation, wilson_interval

__all__ = [
    "ClassPicker",
    "class_picker_animation",
    "CONTROLS",
    "WIDTHS",
    "DEFAULT_ANIMATION",
    "DiracGAN",
    "LatentExplorer",
    "latent_walk_animation",
    "ModeCollapseLab",
    "mode_collapse_animation",
    "dirac_animation",
    "Playground",
    "REGULARIZERS",
    "SaturationExplorer",
    "TuringTest",
    "turing_animation",
    "wilson_interval",
    "playground_animation",
    "_encode",
    "_optimal_discriminator_grid",
    "_playing_trait",
]
