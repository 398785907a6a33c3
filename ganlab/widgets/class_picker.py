"""The class picker of chapter 6: ask a class-conditional generator for one class, see what it
makes and what the classifier calls it; ``class_picker_animation`` is its static fallback."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganlab import plot
from ganlab.models import evaluating
from ganlab.widgets._app import App
from ganlab.widgets._common import _Figure, frames_to_jshtml


class ClassPicker(App):
    """Conditional generators G(z, y), headless or live: ``set(label=, seed=, model=)`` changes
    the state, ``figure()`` draws it, ``widget`` adds controls.

    The picture: ``n`` samples G(z_i, y) of the chosen class y (with, when a classifier is
    given, the share it labels y), and one latent z_0 sent with every class: z carries what the
    label does not (pose, shade, thickness), y the class.
    """

    name = "ClassPicker"
    figsize = (10, 3.2)

    def __init__(
        self,
        generators: dict[str, torch.nn.Module],
        class_names: list[str],
        classifier: torch.nn.Module | None = None,
        label: int = 0,
        seed: int = 0,
        n: int = 16,
    ) -> None:
        super().__init__()
        if not generators:
            raise ValueError("generators must name at least one conditional generator")
        for key, G in generators.items():
            if getattr(G, "classes", None) != len(class_names):
                raise ValueError(
                    f"generator {key!r} makes {getattr(G, 'classes', None)} classes, but "
                    f"{len(class_names)} class names were given"
                )
        self.generators, self.class_names, self.classifier = generators, class_names, classifier
        self.n = n
        self.model = next(iter(generators))
        self.set(label=label, seed=seed)

    def set(
        self, label: int | None = None, seed: int | None = None, model: str | None = None
    ) -> ClassPicker:
        """Change the class, the seed of the latents or the generator, and redraw."""
        if label is not None and (
            isinstance(label, bool)
            or not isinstance(label, int)
            or not 0 <= label < len(self.class_names)
        ):
            raise ValueError(f"label must be a class index in [0, {len(self.class_names) - 1}], "
                             f"got {label!r}")  # fmt: skip
        if model is not None and model not in self.generators:
            raise ValueError(f"model must be one of {list(self.generators)}, got {model!r}")
        self.label = self.label if label is None else label
        self.seed = self.seed if seed is None else int(seed)
        self.model = self.model if model is None else model
        self.refresh()
        return self

    @torch.no_grad()
    def samples(self) -> torch.Tensor:
        """The ``n`` images G(z_i, y) of the chosen class, (n, 1, 28, 28), on the CPU."""
        return self.generators[self.model].sample(self.n, seed=self.seed, labels=self.label).cpu()

    @torch.no_grad()
    def every_class(self) -> torch.Tensor:
        """G(z_0, y) for y = 0 .. C - 1 with one latent z_0 (the first of ``samples``)."""
        G = self.generators[self.model]
        z = G.sample_latent(self.n, seed=self.seed)[:1].expand(G.classes, -1)
        with evaluating(G):
            return G(z, G.labels_for(G.classes, torch.arange(G.classes))).cpu()

    def hit_rate(self) -> float | None:
        """The share of ``samples`` that the classifier labels as the chosen class."""
        if self.classifier is None:
            return None
        device = next(self.classifier.parameters()).device
        return float((self.classifier.predict(self.samples().to(device)).cpu() == self.label)
                     .float().mean())  # fmt: skip

    def status(self) -> str:
        rate = self.hit_rate()
        said = "" if rate is None else f"; the classifier calls {100 * rate:.0f} % of them that"
        return f"{self.model}: {self.n} samples of '{self.class_names[self.label]}'{said}"

    def draw(self, fig: _Figure) -> None:
        grid = fig.add_gridspec(2, 1, height_ratios=(2, 1.1))
        rate = self.hit_rate()
        name = self.class_names[self.label]
        title = f"{self.model}: G(z, y = '{name}'), {self.n} latents"
        if rate is not None:
            title += f"  (classified as '{name}': {100 * rate:.0f} %)"
        plot.image_grid(self.samples(), nrow=(self.n + 1) // 2, ax=fig.add_subplot(grid[0]),
                        title=title)  # fmt: skip
        plot.image_grid(self.every_class(), nrow=len(self.class_names),
                        ax=fig.add_subplot(grid[1]),
                        title="one latent z, every class: " + ", ".join(self.class_names))  # fmt: skip

    def build_controls(self, W: Any) -> Any:
        label = W.Dropdown(options=[(c, k) for k, c in enumerate(self.class_names)],
                           value=self.label, description="class y")  # fmt: skip
        seed = W.BoundedIntText(value=self.seed, min=0, max=2**31 - 1, description="seed")
        model = W.ToggleButtons(options=list(self.generators), value=self.model,
                                description="D was")  # fmt: skip

        def update(_: Any) -> None:
            self.run_safely(lambda: self.set(label=label.value, seed=seed.value, model=model.value))

        for control in (label, seed, model):
            control.observe(update, names="value")
        rows = [W.HBox([label, seed])]
        if len(self.generators) > 1:
            rows.append(model)
        return W.VBox(rows)


def class_picker_animation(picker: ClassPicker, fps: float = 1.0, dpi: float = 75) -> str:
    """Static fallback of the picker: one frame per class (the picker's own picture, at its
    current seed and generator), as playable ``to_jshtml`` HTML with JPEG frames (small)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    start = picker.label
    frames = []
    try:
        for label in range(len(picker.class_names)):
            picker.set(label=label)
            fig = _Figure(figsize=picker.figsize, dpi=dpi, layout="constrained")
            canvas = FigureCanvasAgg(fig)
            picker.draw(fig)
            canvas.draw()
            frames.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    finally:
        picker.set(label=start)
    return frames_to_jshtml(frames, dpi=dpi, fps=fps, frame_format="jpeg")
