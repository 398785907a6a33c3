"""The latent explorer of chapter 4: walk between two latent vectors (lerp or slerp), nudge one
latent coordinate, and do concept arithmetic; ``latent_walk_animation`` is its static fallback."""

from __future__ import annotations

from typing import Any

import torch

from ganlab import latent, plot
from ganlab._checks import positive_float, positive_int
from ganlab.models import evaluating
from ganlab.widgets._app import App
from ganlab.widgets._common import _Figure, images_to_jshtml

PATHS = ("slerp", "lerp")


@torch.no_grad()
def _images(G: torch.nn.Module, z: torch.Tensor) -> torch.Tensor:
    """G(z) in eval mode, on the CPU."""
    with evaluating(G):
        return G(z).cpu()


class LatentExplorer(App):
    """A generator's latent space, headless or live: ``set(...)`` changes the state, ``figure()``
    draws it, ``widget`` adds controls.

    The picture: the path from G(z0) to G(z1) in 9 images, the image at position t (with the
    chosen coordinate nudged), the norm |z| along both paths, and, when a classifier gave
    concepts, the arithmetic a - b + c of their concept vectors with its images.
    """

    name = "LatentExplorer"

    def __init__(
        self,
        G: torch.nn.Module,
        seeds: tuple[int, int] = (0, 1),
        path: str = "slerp",
        t: float = 0.5,
        concepts: dict[int, torch.Tensor] | None = None,
        class_names: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.G = G
        self.concepts = concepts or {}
        self.class_names = class_names or [str(c) for c in range(10)]
        keys = sorted(self.concepts)
        self.arithmetic_classes = tuple(keys[:3]) if len(keys) >= 3 else ()
        self.nudge_dim, self.nudge = 0, 0.0
        self.set(seeds=seeds, path=path, t=t)

    def set(self, seeds: tuple[int, int] | None = None, path: str | None = None,
            t: float | None = None, nudge_dim: int | None = None, nudge: float | None = None,
            arithmetic: tuple[int, int, int] | None = None) -> LatentExplorer:  # fmt: skip
        """Change any part of the state (the rest stays) and redraw a displayed widget."""
        if path is not None and path not in PATHS:
            raise ValueError(f"path must be one of {PATHS}, got {path!r}")
        if t is not None and not 0.0 <= t <= 1.0:
            raise ValueError(f"t must lie in [0, 1], got {t!r}")
        if nudge_dim is not None and not 0 <= nudge_dim < self.G.latent_dim:
            raise ValueError(f"nudge_dim must be in [0, {self.G.latent_dim}), got {nudge_dim!r}")
        if arithmetic is not None and any(c not in self.concepts for c in arithmetic):
            raise ValueError(
                f"arithmetic needs classes with concepts {sorted(self.concepts)}, got {arithmetic}"
            )
        if seeds is not None:
            self.seeds = tuple(seeds)
            self.z0 = self.G.sample_latent(1, seed=self.seeds[0])[0].cpu()
            self.z1 = self.G.sample_latent(1, seed=self.seeds[1])[0].cpu()
        self.path = path or getattr(self, "path", "slerp")
        self.t = float(t) if t is not None else getattr(self, "t", 0.5)
        self.nudge_dim = self.nudge_dim if nudge_dim is None else nudge_dim
        self.nudge = self.nudge if nudge is None else float(nudge)
        if arithmetic is not None:
            self.arithmetic_classes = tuple(arithmetic)
        self.refresh()
        return self

    def current(self) -> torch.Tensor:
        """The latent vector shown: path(z0, z1, t), plus ``nudge`` on coordinate ``nudge_dim``."""
        walk = latent.slerp if self.path == "slerp" else latent.lerp
        z = walk(self.z0, self.z1, self.t)[0].clone()
        z[self.nudge_dim] += self.nudge
        return z

    def arithmetic_result(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(concept vectors a, b, c and a - b + c as (4, d), their images) or None."""
        if not self.arithmetic_classes:
            return None
        a, b, c = (self.concepts[k] for k in self.arithmetic_classes)
        vectors = torch.stack([a.mean(0), b.mean(0), c.mean(0), latent.arithmetic(a, b, c)])
        device = next(self.G.parameters()).device
        return vectors, _images(self.G, vectors.to(device))

    def status(self) -> str:
        norm = float(self.current().norm())
        return (
            f"{self.path} from seed {self.seeds[0]} to seed {self.seeds[1]}, t = {self.t:.2f}, "
            f"|z| = {norm:.2f} (typical: sqrt({self.G.latent_dim}) = {self.G.latent_dim**0.5:.2f})"
        )

    def draw(self, fig: _Figure) -> None:
        has_arithmetic = bool(self.arithmetic_classes)
        grid = fig.add_gridspec(2 if has_arithmetic else 1, 3, width_ratios=(3.2, 1, 1.6))
        device = next(self.G.parameters()).device
        walk = latent.slerp if self.path == "slerp" else latent.lerp
        ts = torch.linspace(0, 1, 9)
        strip = _images(self.G, walk(self.z0, self.z1, ts).to(device))
        plot.image_grid(strip, nrow=9, ax=fig.add_subplot(grid[0, 0]),
                        title=f"{self.path}: G(z0) ... G(z1)")  # fmt: skip
        plot.image_grid(_images(self.G, self.current()[None].to(device)), nrow=1,
                        ax=fig.add_subplot(grid[0, 1]), title=f"t = {self.t:.2f}")  # fmt: skip
        ax = fig.add_subplot(grid[0, 2])
        fine = torch.linspace(0, 1, 41)
        for name, path in (("slerp", latent.slerp), ("lerp", latent.lerp)):
            ax.plot(fine, path(self.z0, self.z1, fine).norm(dim=1), label=name)
        ax.axhline(self.G.latent_dim**0.5, c="k", ls=":", lw=0.8, label="sqrt(d)")
        ax.axvline(self.t, c="grey", lw=0.8)
        ax.set(xlabel="t", ylabel="|z|")
        ax.legend()
        if has_arithmetic:
            _, images = self.arithmetic_result()  # type: ignore[misc]
            a, b, c = (self.class_names[k] for k in self.arithmetic_classes)
            plot.image_grid(images, nrow=4, ax=fig.add_subplot(grid[1, :2]),
                            title=f"{a}  -  {b}  +  {c}  =  ?")  # fmt: skip

    @property
    def figsize(self) -> tuple[float, float]:  # type: ignore[override]
        return (10, 4.6 if self.arithmetic_classes else 2.4)

    def build_controls(self, W: Any) -> Any:
        seed0 = W.BoundedIntText(value=self.seeds[0], min=0, max=2**31 - 1, description="seed z0")
        seed1 = W.BoundedIntText(value=self.seeds[1], min=0, max=2**31 - 1, description="seed z1")
        path = W.ToggleButtons(options=list(PATHS), value=self.path, description="path")
        t = W.FloatSlider(value=self.t, min=0, max=1, step=0.05, description="t")
        dim = W.BoundedIntText(value=self.nudge_dim, min=0, max=self.G.latent_dim - 1,
                               description="nudge z[i]")  # fmt: skip
        nudge = W.FloatSlider(value=self.nudge, min=-3, max=3, step=0.25, description="by")
        rows = [W.HBox([seed0, seed1]), W.HBox([path, t]), W.HBox([dim, nudge])]

        def update(_: Any) -> None:
            self.run_safely(lambda: self.set(seeds=(seed0.value, seed1.value), path=path.value,
                                             t=t.value, nudge_dim=dim.value, nudge=nudge.value))  # fmt: skip

        for control in (seed0, seed1, path, t, dim, nudge):
            control.observe(update, names="value")
        if self.arithmetic_classes:
            options = [(self.class_names[k], k) for k in sorted(self.concepts)]
            pickers = [W.Dropdown(options=options, value=k, description=label)
                       for k, label in zip(self.arithmetic_classes, ("a", "- b", "+ c"), strict=True)]  # fmt: skip

            def update_arithmetic(_: Any) -> None:
                self.run_safely(lambda: self.set(arithmetic=tuple(p.value for p in pickers)))

            for picker in pickers:
                picker.observe(update_arithmetic, names="value")
            rows.append(W.HBox(pickers))
        return W.VBox(rows)


def latent_walk_animation(
    G: torch.nn.Module,
    seeds: tuple[int, ...] = (0, 1, 2, 3),
    frames_per_leg: int = 8,
    fps: float = 6.0,
) -> str:
    """Static fallback of the explorer: a closed slerp tour through the latents of ``seeds``,
    each frame G(z) beside the norm |z|, as playable ``to_jshtml`` HTML."""
    if len(seeds) < 2:
        raise ValueError(f"a walk needs at least 2 seeds, got {seeds!r}")
    positive_int("frames_per_leg", frames_per_leg)
    positive_float("fps", fps)
    zs = [G.sample_latent(1, seed=s)[0].cpu() for s in seeds]
    ts = torch.linspace(0, 1, frames_per_leg + 1)[:-1]
    path = torch.cat([latent.slerp(zs[i], zs[(i + 1) % len(zs)], ts) for i in range(len(zs))])
    images = _images(G, path.to(next(G.parameters()).device))
    return images_to_jshtml(images, [f"slerp tour, |z| = {z.norm():.2f}" for z in path], fps)
