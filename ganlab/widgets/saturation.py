"""The saturation explorer of chapter 2: both generator losses at a chosen D(G(z)), and the
controlled experiment (same seed, same head start of D) re-run with chosen settings."""

from __future__ import annotations

import math
from typing import Any

import torch

from ganlab import experiments, plot
from ganlab.losses import g_loss_logit_gradient
from ganlab.widgets._app import App
from ganlab.widgets._common import _Figure


class SaturationExplorer(App):
    """Where the minimax generator loss saturates, and what that does to training.

    ``confidence`` is p = D(G(z)); ``settings`` go to ``experiments.compare_generator_losses``
    (head_start, steps, d_steps, optimizer, lr_D, lr_G, real_label, seed).
    """

    name = "SaturationExplorer"

    def __init__(self, confidence: float = 1e-3, **settings: Any) -> None:
        super().__init__()
        self.confidence = self._check_confidence(confidence)
        self.settings: dict[str, Any] = {"steps": 400, "every": 20, **settings}
        self.runs: dict[str, experiments.Run] = {}

    @staticmethod
    def _check_confidence(value: float) -> float:
        if not (isinstance(value, int | float) and 0 < value < 1):
            raise ValueError(f"confidence is D(G(z)), a probability in (0, 1); got {value!r}")
        return float(value)

    def set_confidence(self, value: float) -> SaturationExplorer:
        self.confidence = self._check_confidence(value)
        self.refresh()
        return self

    def at_confidence(self) -> dict[str, float]:
        """Loss and d loss / d score of both generator losses at p = ``confidence``."""
        p = torch.tensor(self.confidence, dtype=torch.float64)
        return {
            "saturating": math.log1p(-self.confidence),
            "nonsaturating": -math.log(self.confidence),
            "saturating_grad": g_loss_logit_gradient("saturating", p).item(),
            "nonsaturating_grad": g_loss_logit_gradient("nonsaturating", p).item(),
        }

    def run_experiment(self, **settings: Any) -> dict[str, experiments.Run]:
        """Re-run the controlled experiment with these settings (kept for later runs)."""
        merged = {**self.settings, **settings}
        self.runs = experiments.compare_generator_losses(**merged)
        self.settings = merged  # kept only once they worked
        self.refresh()
        return self.runs

    def status(self) -> str:
        at = self.at_confidence()
        ratio = at["nonsaturating_grad"] / at["saturating_grad"]
        text = (
            f"At D(G(z)) = {self.confidence:.2g}: gradient per unit of score "
            f"{at['saturating_grad']:.2g} (saturating) vs {at['nonsaturating_grad']:.2g} "
            f"(non-saturating), {ratio:.3g} times larger."
        )
        for name, run in self.runs.items():
            reached = run.steps_to(0.5)
            text += (
                f"<br>{name}: W1 {run.distance[0]:.2f} &rarr; {run.distance[-1]:.2f}, "
                f"reaches W1 &le; 0.5 at step {reached if reached is not None else 'never'}"
            )
        return text

    def draw(self, fig: _Figure) -> None:
        if self.runs:
            axes = fig.subplots(2, 2)
            plot.saturation_curves(self.confidence, axes=tuple(axes[0]))
            plot.loss_race(self.runs, axes=tuple(axes[1]))
            fig.set_size_inches(9, 6.4)
        else:
            plot.saturation_curves(self.confidence, axes=tuple(fig.subplots(1, 2)))

    def build_controls(self, W: Any) -> Any:
        style = {"description_width": "initial"}
        confidence = W.FloatLogSlider(
            value=self.confidence, base=10, min=-4, max=math.log10(0.99), step=0.05,
            description="D(G(z))", readout_format=".1e", continuous_update=False, style=style,
        )  # fmt: skip
        s = self.settings
        controls = {
            "head_start": W.IntSlider(value=s.get("head_start", 300), min=0, max=1000, step=50,
                                      description="D head start", style=style),
            "d_steps": W.IntSlider(value=s.get("d_steps", 1), min=1, max=10, description="k",
                                   style=style),
            "optimizer": W.Dropdown(options=["sgd", "adam"], value=s.get("optimizer", "sgd"),
                                    description="optimizer"),
            "lr_D": W.FloatLogSlider(value=s.get("lr_D", 0.05), base=10, min=-4, max=0,
                                     description="lr_D", readout_format=".1e"),
            "lr_G": W.FloatLogSlider(value=s.get("lr_G", 0.05), base=10, min=-4, max=0,
                                     description="lr_G", readout_format=".1e"),
            "real_label": W.Dropdown(options=[1.0, 0.9], value=s.get("real_label", 1.0),
                                     description="real label"),
        }  # fmt: skip
        button = W.Button(description="run experiment", tooltip="both generator losses, ~8 s")
        confidence.observe(
            lambda change: self.run_safely(lambda: self.set_confidence(change["new"])),
            names="value",
        )
        button.on_click(
            lambda _: self.run_safely(
                lambda: self.run_experiment(**{k: w.value for k, w in controls.items()})
            )
        )
        return W.VBox(
            [
                confidence,
                W.HBox([controls["head_start"], controls["d_steps"], controls["optimizer"]]),
                W.HBox([controls["lr_D"], controls["lr_G"], controls["real_label"], button]),
            ]
        )
