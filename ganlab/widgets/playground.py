"""The 2-D GAN playground of chapter 1: GAN Lab (Kahng et al. 2018) in a notebook.

``Playground`` is three parts: the GAN (``_playground_state``: networks, optimisers,
data and controls, trained by ``train.d_step`` and ``train.g_step``), its picture
(``_playground_view``: one Figure redrawn in place), and here the ipywidgets UI on the
book's widget base (``_app.App``): a Play button that runs ``steps_per_frame`` updates
per picture, step buttons and the controls.

All of it runs headless (``step``, ``set``, ``render``, ``coverage``); ``Playground.widget``
builds the ipywidgets controls on demand. ipywidgets is imported only there, so
``import ganlab.widgets`` works without it. ``playground_animation`` is the static
fallback for the rendered book: a headless run captured as a playable JS animation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ganlab import train
from ganlab._checks import positive_float, positive_int
from ganlab.data import TOYS, GaussianMixture
from ganlab.widgets._app import App
from ganlab.widgets._common import _make, _playing_trait, _show_value, frames_to_jshtml
from ganlab.widgets._playground_state import CONTROLS, LOSSES, WIDTHS, Frame, PlaygroundState
from ganlab.widgets._playground_view import PlaygroundView

_MIN_INTERVAL_MS = 50
"""The Play widget's fastest tick (20 a second): the interval grows from there to fit the
measured frame time, so a kernel that draws a frame in 50-90 ms still shows 10 or more a
second in the browser (a 100 ms floor capped it at 10, and ticks' jitter took it below)."""


class Playground(PlaygroundState, App):
    """A GAN Lab-like 2-D playground: a small GAN on a toy, trained by ``train.d_step/g_step``.

    Args:
        data: a key of ``ganlab.data.TOYS`` ("ring", "grid", "two_gaussians", "spiral")
            or a 2-D ``GaussianMixture``.
        seed: seeds the initial weights (like ``train.seed_everything(seed)`` followed by
            building G then D, without touching the global RNG), the batches and the
            fixed noise of the picture.
        width, depth: hidden layers of both MLPs (``models.MLPGenerator/MLPDiscriminator``).
        batch_size: real and generated samples per update. The defaults (64, 2, 64) are
            chosen for speed: about 30% faster per step than the package's default MLPs
            (depth 3, batch 128) and, with Adam at 1e-3, they reach all 8 modes of the
            ring within 2,000 steps for seeds 0-4, after which the count wavers between
            7 and 8 (``bench/playground.py --learn 2000``).
        lr_D, lr_G: learning rates. d_steps: k, the D updates per G update.
        loss: one of ``LOSSES``. optimizer: a key of ``train.OPTIMIZERS`` (built with
            their multi-tensor step, which only the last bits' rounding tells apart).
        steps_per_frame: full updates between two pictures while the widget plays.
        resolution: pixels per side of the heatmap. n_samples: points drawn per picture.
        n_arrows: generated samples that carry a gradient arrow.
        threads: torch intra-op threads while stepping and drawing (restored afterwards);
            1 is fastest for these tiny models, and far faster on a shared 2-core machine.
            None leaves torch's setting alone.
        device: where the models live; default CPU. A step of these tiny models costs
            mostly per-operation overhead, so a GPU gains little; pass
            ``train.get_device()`` to try one.

    ``history`` gets one row per G update (``History.append`` with the stats of the last
    D update before it). ``render()`` returns the matplotlib Figure; ``widget`` is the UI.
    """

    name = "Playground"
    _view: PlaygroundView | None = None  # built on the first picture

    # ------------------------------------------------------------------ the picture

    @property
    def view(self) -> PlaygroundView:
        """The picture's Figure and artists (``_playground_view.PlaygroundView``)."""
        if self._view is None:
            self._view = PlaygroundView(self.n_arrows)
        return self._view

    def render(self) -> Figure:
        """Redraw the picture from the current state and return the Figure.

        Left: real (green) and generated (purple) samples over the heatmap of D(x), or of
        the optimal D* when ``show_optimum``, with its 1/2 contour and G's gradient arrows.
        Right: the losses and mean D(x), D(G(z)) per G update. The mode count in the
        label is ``metrics.mode_coverage`` of the ``n_samples`` points shown (fixed z), so
        it can read one mode lower than ``coverage()`` with its 2,500 fresh samples.
        """
        self.view.draw(self.snapshot())
        return self.view.figure

    def figure(self) -> Figure:
        """The picture of the current state: ``render()`` (one Figure, redrawn in place)."""
        return self.render()

    def image(self, fmt: str = "png") -> bytes:
        """The current picture encoded as PNG (or JPEG) bytes, drawn with Agg at 72 dpi.

        The fast path of the widget: only the changing artists are drawn (``view.blit``).
        """
        self.view.draw(self.snapshot())
        self.view.blit()
        return self.view.encode(fmt)

    def png(self) -> bytes:
        return self.image("png")

    @property
    def _shown(self) -> Frame | None:
        """The frame the picture shows."""
        return self.view.shown

    # ------------------------------------------------------------------ static fallback

    def animation(self, steps: int = 2000, every: int | None = None, fps: float = 4.0) -> str:
        """Train this playground ``steps`` more updates, one frame every ``every``; return HTML.

        The HTML is ``matplotlib.animation``'s ``to_jshtml()``: the frames embedded as
        JPEG images with their own JS play/step controls, so it plays without a kernel.
        Each frame is the live picture (``image()``), copied pixel for pixel. The element
        ids are derived from the frames, not random, so the same run gives the same HTML.
        Default ``every``: steps // 20, i.e. 21 frames with the starting one.
        """
        positive_int("steps", steps)
        every = max(1, steps // 20) if every is None else positive_int("every", every)
        positive_float("fps", fps)
        if steps // every > 200:
            raise ValueError(
                f"steps={steps} with every={every} gives {steps // every} frames; "
                "keep it at 200 or fewer (each frame is an embedded image)"
            )
        # The recording at 98 dpi fills the book's 757-px column (745 px, its 9-10 pt text
        # 12-14 px); the live widget keeps 72 dpi, where fewer pixels draw faster.
        fig = self.view.figure
        live_dpi = fig.dpi
        fig.set_dpi(98)
        try:
            frames = [self._capture()]
            done = 0
            while done < steps:
                n = min(every, steps - done)
                self.step(n)
                done += n
                frames.append(self._capture())
        finally:
            fig.set_dpi(live_dpi)
        # JPEG: a third of the size of PNG for the smooth heatmap, and faster to write.
        return frames_to_jshtml(frames, dpi=98, fps=fps, frame_format="jpeg")

    def _capture(self) -> np.ndarray:
        """The current picture as an RGB array (H, W, 3): snapshot, artists, fast draw."""
        self.view.draw(self.snapshot())
        self.view.blit()
        return self.view.rgb()

    # ------------------------------------------------------------------ the widget

    def build_controls(self, W: Any) -> Any:
        wide = {"description_width": "initial"}
        slider = {"continuous_update": False}

        def log_slider(name: str, value: float) -> Any:
            return _make(
                W.FloatLogSlider, value=value, base=10, min=-5, max=0, step=0.1,
                description=name, readout_format=".1e", **slider,
            )  # fmt: skip

        def int_slider(name: str, label: str, low: int, high: int) -> Any:
            value = getattr(self, name)
            return _make(
                W.IntSlider, value=value, min=low, max=max(high, value), description=label,
                style=wide, **slider,
            )  # fmt: skip

        def button(label: str, tooltip: str, action: Callable[[], Any]) -> Any:
            widget = _make(W.Button, description=label, tooltip=tooltip)
            widget.on_click(lambda _: self.run_safely(action))
            return widget

        ui: dict[str, Any] = {
            # show_repeat and indent are newer than some 7.x releases: _make drops them there
            "play": _make(
                W.Play,
                value=0,
                min=0,
                max=2**31 - 1,
                interval=_MIN_INTERVAL_MS,
                show_repeat=False,
                description="play",
            ),  # fmt: skip
            "d_button": button("D step", "one update of D", self.step_d),
            "g_button": button("G step", "one update of G", self.step_g),
            "update_button": button("full update", "k updates of D, then one of G", self.step),
            "reset_button": button("reset", "new networks from the seed", self.reset),
            "data": _make(
                W.Dropdown,
                options=sorted(set(TOYS) | set(self._custom)),
                value=self.data,
                description="data",
            ),
            "seed": _make(
                W.BoundedIntText, value=self.seed, min=0, max=2**31 - 1, description="seed"
            ),
            "width": _make(
                W.Dropdown,
                options=sorted(set(WIDTHS) | {self.width}),
                value=self.width,
                description="width",
            ),
            "optimizer": _make(
                W.Dropdown,
                options=list(train.OPTIMIZERS),
                value=self.optimizer,
                description="optimizer",
            ),
            "loss": _make(W.Dropdown, options=list(LOSSES), value=self.loss, description="G loss"),
            "d_steps": int_slider("d_steps", "k (D steps)", 1, 10),
            "lr_D": log_slider("lr_D", self.lr_D),
            "lr_G": log_slider("lr_G", self.lr_G),
            "steps_per_frame": int_slider("steps_per_frame", "steps/frame", 1, 200),
            "show_optimum": _make(
                W.Checkbox,
                value=self.show_optimum,
                indent=False,
                description="show optimal D* instead of D",
            ),
            "show_arrows": _make(
                W.Checkbox, value=self.show_arrows, indent=False, description="G's gradient arrows"
            ),
            "status": self._status,
            "image": self._image,
            "note": W.HTML(
                "<small>Changing <b>data</b>, <b>seed</b> or <b>width</b> builds new "
                "networks: training restarts. The other controls act on the running "
                "training (a new optimizer starts with fresh state).</small>"
            ),
        }
        self._ui = ui
        self._syncing = False  # the UI is being set from code: ignore its observers
        self._frame_end = -math.inf
        self._fps = math.nan
        ui["play"].observe(self._on_tick, names="value")
        for name in CONTROLS:
            if name in ui:
                ui[name].observe(self._on_control, names="value")
        return W.VBox(
            [
                W.HBox([ui["data"], ui["seed"], ui["width"]]),
                W.HBox([ui["optimizer"], ui["loss"], ui["d_steps"]]),
                W.HBox([ui["lr_D"], ui["lr_G"]]),
                W.HBox([ui["steps_per_frame"], ui["show_optimum"], ui["show_arrows"]]),
                ui["note"],
            ]
        )

    def layout(self, W: Any, controls: Any) -> Any:
        """The buttons, the status line, the picture, then the controls."""
        ui = self._ui
        names = ("play", "d_button", "g_button", "update_button", "reset_button")
        return W.VBox([W.HBox([ui[name] for name in names]), self._status, self._image, controls])

    def status(self) -> str:
        """The status line: step, modes shown, the last losses and means, frames/s."""
        status = f"<b>step {self.g_updates}</b> ({self.d_updates} D updates)"
        shown = self._shown
        if len(self.history) and shown is not None:
            last = self.history.last()
            status += (
                f" &middot; <b>{shown.modes}/{shown.n_modes} modes</b> &middot; "
                f"loss_D {last['loss_D']:.3f}, loss_G {last['loss_G']:.3f} &middot; "
                f"mean D(x) {last['p_real']:.2f}, mean D(G(z)) {last['p_fake']:.2f}"
            )
        if math.isfinite(self._fps):
            status += f" &middot; {self._fps:.1f} frames/s"
        return status

    def _changed(self) -> None:
        """After a change made from code: show the current controls (and picture) in the UI."""
        if self._widget is None:
            return
        self._syncing = True
        try:
            for name in CONTROLS:
                if name in self._ui:
                    _show_value(self._ui[name], getattr(self, name))
        finally:
            self._syncing = False
        self.refresh()  # inside a callback, run_safely refreshes once when it is done

    def _on_control(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        name = next(key for key, widget in self._ui.items() if widget is change["owner"])
        self.run_safely(lambda: self.set(**{name: change["new"]}))

    def run_safely(self, action: Callable[[], Any]) -> bool:
        """``App.run_safely``, and an error also pauses the Play loop."""
        done = super().run_safely(action)
        if not done:
            self._pause()
        return done

    def _pause(self) -> None:
        play = None if self._widget is None else self._ui["play"]
        if play is not None and getattr(play, _playing_trait(play)):
            setattr(play, _playing_trait(play), False)  # the JS loop stops at its next tick

    def _on_tick(self, change: dict[str, Any]) -> None:
        """One Play tick: ``steps_per_frame`` full updates, then one redraw.

        The browser sends a tick every ``interval`` ms whether or not the kernel keeps up.
        Ticks that queued up during a slow frame arrive back to back and are dropped, so
        pause stays responsive; the interval then grows to fit the measured frame time.
        The status line's frames/s is the rate at which pictures are sent (one frame end
        to the next while playing), not the inverse of the time spent computing one.
        """
        play = self._ui["play"]
        start = time.perf_counter()
        queued = start - self._frame_end < 4e-5 * play.interval  # 4% of the interval, in s
        if queued and getattr(play, _playing_trait(play)):
            return
        if self.run_safely(lambda: self.step(self.steps_per_frame)):
            end = time.perf_counter()
            frame_ms = 1e3 * (end - start)
            since_last = end - self._frame_end  # s since the previous picture was sent
            if since_last < 1.0:  # playing: an average over about the last 5 frames
                rate = 1 / since_last
                self._fps = rate if math.isnan(self._fps) else 0.8 * self._fps + 0.2 * rate
            wanted = max(_MIN_INTERVAL_MS, int(1.15 * frame_ms))
            if abs(wanted - play.interval) > 0.2 * play.interval:
                play.interval = wanted
        self._frame_end = time.perf_counter()


def playground_animation(
    data: str | GaussianMixture = "ring",
    steps: int = 2000,
    every: int | None = None,
    seed: int = 0,
    fps: float = 4.0,
    **controls: Any,
) -> str:
    """The static playground: train a ``Playground`` headless and return a JS animation's HTML.

    One frame every ``every`` updates (default steps // 20, so 21 frames): the heatmap of
    D(x), real and generated samples, G's gradient arrows, the step and the mode count,
    and the curves. The HTML plays in a browser with no kernel (``to_jshtml``); show it
    with ``IPython.display.HTML``. ``controls`` are ``Playground`` arguments.
    """
    return Playground(data, seed, **controls).animation(steps=steps, every=every, fps=fps)
