"""The playground's picture: one matplotlib Figure, redrawn in place from a ``Frame``.

Left: real (green) and generated (purple) samples over the heatmap of D(x) (or of D*),
with its D = 1/2 contour and G's gradient arrows. Right: the losses and mean D(x),
D(G(z)) per G update. The widget sends one picture per frame, ten or more a second, so
the artists are made once and updated in place, and only the changing ones are drawn
over a cached background (``blit``); the axes, ticks and labels are drawn again only
when they change.
"""

from __future__ import annotations

import math
from typing import Any

import contourpy
import numpy as np
from matplotlib.collections import LineCollection

from ganlab import plane, plot
from ganlab.widgets._common import _encode, _Figure, _nice_ceiling
from ganlab.widgets._playground_state import Frame

_DOT = (20, 0, 0)
"""The points' marker: a regular 20-gon, which at 2-3 pixels looks like matplotlib's "o".
A circle is made of Bezier curves, whose extent matplotlib measures slowly on every draw;
the 20-gon's 512 points draw in a third of the time."""


def _half_contour(heat: np.ndarray, limit: float) -> list[np.ndarray]:
    """The D(x) = 1/2 contour of ``heat`` (R, R) over [-limit, limit]^2: lines (n_i, 2).

    What ``ax.contour(..., levels=[0.5])`` draws, computed by contourpy (matplotlib's
    contouring library) straight into one LineCollection: a new ContourSet per frame
    cost more than the rest of the plane's artists together.
    """
    if not heat.min() < 0.5 < heat.max():
        return []
    resolution = heat.shape[0]
    axis = plane.plane_grid(limit, resolution)[:resolution, 0].numpy()
    generator = contourpy.contour_generator(axis, axis, heat, line_type=contourpy.LineType.Separate)
    return list(generator.lines(0.5))


class PlaygroundView:
    """The playground's Figure (Agg canvas, not managed by pyplot) and its fast redraw.

    ``draw(frame)`` puts a frame into the artists; ``blit()`` renders the changing ones
    into the canvas; ``rgb()`` and ``encode(fmt)`` read the pixels out.
    """

    def __init__(self, n_arrows: int) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.ticker import MaxNLocator

        fig = _Figure(
            figsize=(7.6, 3.5), dpi=72
        )  # 547 px, 9-10 pt text: 9-10 px; more pixels cost frames
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.045, 0.07, 0.37, 0.8))
        ax_loss = fig.add_axes((0.5, 0.55, 0.48, 0.31))
        ax_prob = fig.add_axes((0.5, 0.12, 0.48, 0.31), sharex=ax_loss)
        for a in (ax, ax_loss, ax_prob):
            a.tick_params(labelsize=9)
            a.yaxis.set_major_locator(MaxNLocator(5))
        zeros = np.zeros(n_arrows)
        self.art: dict[str, Any] = {
            "heat": ax.imshow(
                np.full((2, 2), 0.5),
                origin="lower",
                extent=(-1, 1, -1, 1),
                cmap="PRGn",
                vmin=-0.4,  # a lighter range of the colormap, so the points stand out
                vmax=1.4,
                interpolation="bilinear",
            ),
            "contour": LineCollection([], colors="black", linewidths=0.7),
            "real": ax.scatter([], [], s=6, c=plot.REAL_COLOR, alpha=0.6, lw=0, marker=_DOT),
            "fake": ax.scatter([], [], s=7, c="indigo", alpha=0.6, lw=0, marker=_DOT),
            "arrows": ax.quiver(
                zeros,
                zeros,
                zeros,
                zeros,
                angles="xy",
                scale_units="xy",
                scale=1,
                color="black",
                width=0.004,
            ),
            "label": fig.text(0.045, 0.95, "", fontsize=10, fontweight="bold"),
            "loss_D": ax_loss.plot([], [], lw=1, c="tab:blue", label="$L_D$")[0],
            "loss_G": ax_loss.plot([], [], lw=1, c="tab:orange", label="$L_G$")[0],
            "p_real": ax_prob.plot([], [], lw=1, c=plot.REAL_COLOR, label="mean $D(x)$")[0],
            "p_fake": ax_prob.plot([], [], lw=1, c=plot.FAKE_COLOR, label="mean $D(G(z))$")[0],
        }
        ax.add_collection(self.art["contour"], autolim=False)
        ax.set_aspect("equal")
        self.art["title"] = ax.set_title("", fontsize=9, loc="left")
        ax_loss.tick_params(labelbottom=False)
        ax_prob.axhline(0.5, c="grey", lw=0.6, ls=":")
        ax_prob.set_ylim(0, 1)
        ax_prob.set_xlabel("step (G updates)", fontsize=9)
        # Legends above the axes, where no curve can cross them: they stay in the cached
        # background instead of being drawn again every frame.
        for a in (ax_loss, ax_prob):
            a.legend(
                loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, fontsize=9,
                frameon=False, borderaxespad=0.1, handlelength=1.5,
            )  # fmt: skip
        self.figure = fig
        self.axes = (ax, ax_loss, ax_prob)
        self.shown: Frame | None = None  # the frame drawn last
        self._plane: tuple[np.ndarray, float] | None = None  # real points and limit shown
        self._background: Any = None
        self._background_key: tuple[Any, ...] | None = None

    def _dynamic_artists(self) -> list[Any]:
        """The artists that change from frame to frame, in drawing order."""
        art = self.art
        plane_spines = list(self.axes[0].spines.values())
        return [
            art["heat"], art["contour"], art["real"], art["fake"], art["arrows"], *plane_spines,
            art["label"], art["loss_D"], art["loss_G"], art["p_real"], art["p_fake"],
        ]  # fmt: skip

    def _setup_plane(self, frame: Frame) -> None:
        """The parts of the plane that change only with the data: real points and extent."""
        ax = self.axes[0]
        lim = frame.limit
        self.art["heat"].set_extent((-lim, lim, -lim, lim))
        self.art["real"].set_offsets(frame.x_real)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        self._plane = (frame.x_real, lim)

    def draw(self, frame: Frame) -> None:
        """Put ``frame`` into the figure's artists in place (no new figure, no new axes)."""
        if (
            self._plane is None
            or self._plane[0] is not frame.x_real
            or self._plane[1] != frame.limit
        ):
            self._setup_plane(frame)
        art = self.art
        ax_loss = self.axes[1]
        art["heat"].set_data(frame.heat)
        art["contour"].set_segments(_half_contour(frame.heat, frame.limit))
        art["fake"].set_offsets(frame.x_fake)
        quiver = art["arrows"]
        quiver.set_visible(frame.arrows is not None)
        if frame.arrows is not None:
            xy, uv = frame.arrows
            quiver.set_offsets(xy)
            quiver.set_UVC(uv[:, 0], uv[:, 1])
        art["label"].set_text(
            f"{frame.data}, step {frame.updates}: {frame.modes}/{frame.n_modes} modes"
        )
        art["title"].set_text(
            "background: D*(x) = p_data / (p_data + p_g)"
            if frame.optimum
            else "background: D(x), green = real, purple = generated"
        )
        curves = frame.curves
        for key in ("loss_D", "loss_G", "p_real", "p_fake"):
            art[key].set_data(curves["step"], curves[key])
        # Limits move in coarse steps, so the axes (the slow part to draw) rarely change.
        last = float(curves["step"][-1]) if len(curves["step"]) else 0.0
        ax_loss.set_xlim(0, _nice_ceiling(max(10.0, last)))
        both = np.concatenate([curves["loss_D"], curves["loss_G"]])
        both = both[np.isfinite(both)]
        if both.size:
            low = math.floor(2 * float(both.min())) / 2
            high = math.ceil(2 * float(both.max())) / 2
            ax_loss.set_ylim(low, max(high, low + 0.5))
        self.shown = frame

    def blit(self) -> None:
        """Draw the figure into its Agg buffer: axes, ticks and labels only when they changed.

        The static part (axes, ticks, labels, which take most of a full draw) is cached
        with ``copy_from_bbox``; each frame restores it and draws the changing artists.
        """
        fig = self.figure
        canvas = fig.canvas
        ax_loss = self.axes[1]
        key = (
            None if self._plane is None else (id(self._plane[0]), self._plane[1]),
            ax_loss.get_xlim(),
            ax_loss.get_ylim(),
            self.art["title"].get_text(),
            fig.dpi,
        )
        dynamic = self._dynamic_artists()
        if self._background is None or key != self._background_key:
            visible = [a.get_visible() for a in dynamic]
            for a in dynamic:
                a.set_visible(False)
            canvas.draw()
            self._background = canvas.copy_from_bbox(fig.bbox)
            self._background_key = key
            for a, v in zip(dynamic, visible, strict=True):
                a.set_visible(v)
        else:
            canvas.restore_region(self._background)
        renderer = canvas.get_renderer()
        for a in dynamic:
            if a.get_visible():
                a.draw(renderer)

    def rgb(self) -> np.ndarray:
        """The canvas's pixels as an RGB array (H, W, 3), a copy."""
        return np.asarray(self.figure.canvas.buffer_rgba())[..., :3].copy()

    def encode(self, fmt: str = "png") -> bytes:
        """The canvas's pixels as PNG (fast compression) or JPEG bytes (``_common._encode``)."""
        return _encode(self.rgb(), fmt)
