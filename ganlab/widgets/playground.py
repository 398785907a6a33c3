"""The 2-D GAN playground of chapter 1: GAN Lab (Kahng et al. 2018) in a notebook.

``Playground`` holds a small MLP generator and discriminator, a 2-D toy from
``ganlab.data.TOYS`` and the optimisers, and steps them as ``ganlab.train.d_step``
and ``ganlab.train.g_step`` do (Algorithm 1 of Goodfellow et al. 2014):

    update D  k times:  descend  -[ log D(x_real) + log(1 - D(G(z))) ]
    update G  once:     descend  G's loss on D(G(z))

The widget runs 20 updates per picture, ten or more pictures a second, so the two updates are
written here in fewer operations (one D pass over real and fake, multi-tensor optimiser
steps); ``tests/test_widgets.py`` checks that they equal ``d_step`` and ``g_step``.

All of it runs headless (``step``, ``set``, ``render``, ``coverage``); ``Playground.widget``
builds the ipywidgets controls on demand. ipywidgets is imported only there, so
``import ganlab.widgets`` works without it. ``playground_animation`` is the static
fallback for the rendered book: a headless run captured as a playable JS animation.
"""

from __future__ import annotations

import dataclasses
import math
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

import contourpy
import numpy as np
import torch
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from ganlab import cpu, losses, metrics, models, plane, plot, theory, train
from ganlab._checks import positive_float, positive_int
from ganlab.data import TOYS, GaussianMixture
from ganlab.widgets._common import (
    _encode,
    _Figure,
    _make,
    _nice_ceiling,
    _playing_trait,
    _show_value,
    frames_to_jshtml,
    show_widget_or_picture,
)

OPTIMIZERS = train.OPTIMIZERS  # re-exported: the widget offers the same optimisers

LOSSES = ("saturating", "nonsaturating")
"""The generator losses the playground offers (a WGAN critic needs a penalty it lacks)."""

WIDTHS = (8, 16, 32, 64, 128)
"""Hidden-layer widths offered by the widget's width picker."""

CONTROLS = (
    "data",
    "seed",
    "width",
    "depth",
    "batch_size",
    "lr_D",
    "lr_G",
    "d_steps",
    "loss",
    "optimizer",
    "steps_per_frame",
    "show_optimum",
    "show_arrows",
)
"""The names ``Playground.set`` accepts. data, seed, width and depth rebuild the networks."""

_REBUILD = ("data", "seed", "width", "depth")

_MIN_INTERVAL_MS = 50
"""The Play widget's fastest tick (20 a second): the interval grows from there to fit the
measured frame time, so a kernel that draws a frame in 50-90 ms still shows 10 or more a
second in the browser (a 100 ms floor capped it at 10, and ticks' jitter took it below)."""

_DOT = (20, 0, 0)
"""The points' marker: a regular 20-gon, which at 2-3 pixels looks like matplotlib's "o".
A circle is made of Bezier curves, whose extent matplotlib measures slowly on every draw;
the 20-gon's 512 points draw in a third of the time."""


def _optimal_discriminator_grid(
    dist: GaussianMixture, x_fake: torch.Tensor, limit: float, resolution: int
) -> torch.Tensor:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) on the playground's grid, shape (R, R).

    p_data is exact (``dist.prob``); p_g is ``theory.gaussian_kde`` of the generated
    samples ``x_fake`` (n, 2) with Scott's bandwidth, or 1% of the picture's width when
    the samples have collapsed onto one point. float64: the toys' modes are narrow, and
    p_data would underflow to 0 within a pixel or two in float32.
    """
    points = plane.plane_grid(limit, resolution).to(torch.float64)
    samples = x_fake.detach().cpu().to(torch.float64)
    try:
        p_g = theory.gaussian_kde(samples, points)
    except ValueError:  # no spread for Scott's rule: a fully collapsed generator
        p_g = theory.gaussian_kde(samples, points, bandwidth=0.02 * limit)
    d_star = theory.optimal_discriminator(dist.prob(points), p_g)
    return d_star.reshape(resolution, resolution).to(torch.float32)


def _multi_tensor(opt: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """``opt`` rebuilt with its multi-tensor step: ``fused`` where torch has it, else ``foreach``.

    Same class, hyperparameters and update rule, but one kernel for all the parameters
    instead of a Python loop over them (Adam's step is about 3x faster on these tiny
    models); only the rounding of the last bits can differ. Fused Adam and SGD need
    torch >= 2.4 on the CPU and RMSprop has only foreach, so each is first tried on a
    one-number probe; ``opt`` itself comes back when neither works.
    """
    device = opt.param_groups[0]["params"][0].device
    for flags in ({"fused": True}, {"foreach": True}):
        probe = torch.zeros(1, device=device, requires_grad=True)
        probe.grad = torch.zeros(1, device=device)
        try:
            type(opt)([{**opt.param_groups[0], "params": [probe], **flags}], **flags).step()
        except (TypeError, ValueError, RuntimeError):  # not offered by this class or torch
            continue
        return type(opt)([{**group, **flags} for group in opt.param_groups], **flags)
    return opt


def _parameters(opt: torch.optim.Optimizer) -> list[torch.Tensor]:
    """The parameters ``opt`` updates (the model's, in order)."""
    return [p for group in opt.param_groups for p in group["params"]]


def _global_norm(grads: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """sqrt(sum_p ||grad p||^2), as ``gradients.grad_norm``, as a 0-d tensor (no read-back)."""
    return torch.linalg.vector_norm(torch.cat([g.reshape(-1) for g in grads]))


def _apply(opt: torch.optim.Optimizer, params: list[torch.Tensor], grads: Any) -> None:
    """One optimiser step with ``grads`` as the parameters' gradients."""
    for p, g in zip(params, grads, strict=True):
        p.grad = g
    opt.step()


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


def _png(rgba: np.ndarray) -> bytes:
    """An RGBA image (H, W, 4) as the PNG of its RGB: rows unfiltered, zlib level 1.

    The widget sends one picture per frame. Pillow's fastest PNG tries a filter per
    row and takes twice as long; the playground's flat colours compress as well without.
    """
    height, width, _ = rgba.shape
    rows = np.zeros((height, 1 + 3 * width), np.uint8)  # filter byte 0 (none), then RGB
    rows[:, 1:] = rgba[..., :3].reshape(height, 3 * width)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(data, zlib.crc32(kind))
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", zlib.compress(rows, 1)),
            chunk(b"IEND", b""),
        ]
    )


@dataclasses.dataclass
class _Frame:
    """Everything one picture shows, as plain arrays (a captured animation keeps a list)."""

    updates: int
    heat: np.ndarray  # (R, R) D(x) or D*(x)
    optimum: bool
    x_fake: np.ndarray  # (n, 2)
    arrows: tuple[np.ndarray, np.ndarray] | None  # positions (m, 2), vectors (m, 2)
    modes: int
    n_modes: int
    curves: dict[str, np.ndarray]  # step, loss_D, loss_G, d_real, d_fake


class Playground:
    """A GAN Lab-like 2-D playground: a small GAN on a toy, stepped like ``train.d_step/g_step``.

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
        loss: one of ``LOSSES``. optimizer: a key of ``OPTIMIZERS``.
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

    def __init__(
        self,
        data: str | GaussianMixture = "ring",
        seed: int = 0,
        *,
        width: int = 64,
        depth: int = 2,
        batch_size: int = 64,
        lr_D: float = 1e-3,
        lr_G: float = 1e-3,
        d_steps: int = 1,
        loss: str = "nonsaturating",
        optimizer: str = "adam",
        steps_per_frame: int = 20,
        resolution: int = 48,
        n_samples: int = 512,
        n_arrows: int = 48,
        show_optimum: bool = False,
        show_arrows: bool = True,
        threads: int | None = 1,
        device: torch.device | str | None = None,
    ) -> None:
        self.resolution = positive_int("resolution", resolution)
        self.n_samples = positive_int("n_samples", n_samples)
        self.n_arrows = positive_int("n_arrows", n_arrows)
        self.threads = None if threads is None else positive_int("threads", threads)
        self.device = torch.device("cpu" if device is None else device)
        self._custom: dict[str, GaussianMixture] = {}  # data passed as mixtures, by name
        settings = {
            "data": data,
            "seed": seed,
            "width": width,
            "depth": depth,
            "batch_size": batch_size,
            "lr_D": lr_D,
            "lr_G": lr_G,
            "d_steps": d_steps,
            "loss": loss,
            "optimizer": optimizer,
            "steps_per_frame": steps_per_frame,
            "show_optimum": show_optimum,
            "show_arrows": show_arrows,
        }
        for name, value in self._checked(settings).items():
            setattr(self, name, value)
        self.dist, self.data = self._resolve_data(self.data)
        self.d_loss, self.g_loss = losses.get_losses(self.loss)
        self._fig: Figure | None = None
        self._widget: Any = None
        self._ui: dict[str, Any] = {}
        self._syncing = False  # the UI is being set from code: ignore its observers
        self._in_callback = False
        self._frame_end = -math.inf
        self._fps = math.nan
        self.reset()

    def __repr__(self) -> str:
        settings = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in CONTROLS
            if name not in ("show_optimum", "show_arrows")
        )
        return f"Playground({settings}; step {self.g_updates})"

    # ------------------------------------------------------------------ state and stepping

    def reset(self, seed: int | None = None) -> Playground:
        """Fresh G, D, optimisers, batches and History from ``seed`` (default: the current one).

        The same seed gives bit-identical initial weights: they are drawn inside
        ``torch.random.fork_rng``, so the global RNG is left as it was.
        """
        if seed is not None:
            self.seed = self._check("seed", seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.G = models.MLPGenerator(2, 2, self.width, self.depth).to(self.device)
            self.D = models.MLPDiscriminator(2, self.width, self.depth).to(self.device)
        self._build_optimizers()
        self._rng = torch.Generator().manual_seed(self.seed)  # batches and noise
        show = torch.Generator().manual_seed((self.seed + 1) % 2**63)  # the picture's samples
        self._x_real_show = self.dist.sample(self.n_samples, seed=show)
        self._z_show = torch.randn(self.n_samples, self.G.latent_dim, generator=show)
        self.history = train.History()
        self.d_updates = 0
        self.g_updates = 0
        self._last_d: dict[str, float] | None = None
        self._refresh_widget()
        return self

    def _build_optimizers(self) -> None:
        make = OPTIMIZERS[self.optimizer]
        self.opt_D = _multi_tensor(make(self.D.parameters(), self.lr_D))
        self.opt_G = _multi_tensor(make(self.G.parameters(), self.lr_G))

    def _diverged(self, stats: dict[str, float], name: str) -> None:
        if not math.isfinite(stats[name]):
            raise train.TrainingDiverged(self.g_updates + 1, name, stats[name], self.history)

    def step_d(self) -> dict[str, float]:
        """One D update (as ``train.d_step``) on a fresh real batch and fresh noise; its stats.

        descend d_loss(D(x_real), D(G(z))) with G fixed. D scores [x_real; x_fake] in one
        pass (an MLP treats the rows independently) and its gradient comes from
        ``torch.autograd.grad``: ``d_step``'s numbers, up to rounding, in fewer operations.
        """
        with cpu.using_threads(self.threads):
            B = self.batch_size
            x_real = train.sample_real(self.dist, B, self._rng, self.device)
            z = train.sample_noise(self.G, B, self._rng, self.device)
            with torch.no_grad():
                x_fake = self.G(z)  # G is not updated here, so build no graph through it
            scores = self.D(torch.cat([x_real, x_fake]))  # (2B,)
            d_real, d_fake = scores.reshape(2, B)  # (B,) each
            loss_D = self.d_loss(d_real, d_fake)
            params = _parameters(self.opt_D)
            grads = torch.autograd.grad(loss_D, params)
            with torch.no_grad():  # every stat in one read: mean D(x), mean D(G(z)), |grad|
                means = torch.sigmoid(scores).reshape(2, B).mean(1)
                row = torch.cat([loss_D.reshape(1), means, _global_norm(grads).reshape(1)])
            loss, mean_real, mean_fake, norm = row.tolist()
            if math.isfinite(loss):  # a NaN loss must not poison D's weights
                _apply(self.opt_D, params, grads)
        stats = {"loss_D": loss, "p_real": mean_real, "p_fake": mean_fake, "grad_norm_D": norm}
        self.d_updates += 1
        self._diverged(stats, "loss_D")
        self._last_d = stats
        return stats

    def _measure_d(self) -> dict[str, float]:
        """D's loss and mean D(x), D(G(z)) on a fresh batch, without updating D."""
        x_real = train.sample_real(self.dist, self.batch_size, self._rng, self.device)
        z = train.sample_noise(self.G, self.batch_size, self._rng, self.device)
        with torch.no_grad():
            d_real, d_fake = self.D(x_real), self.D(self.G(z))
            return {
                "loss_D": self.d_loss(d_real, d_fake).item(),
                "p_real": torch.sigmoid(d_real).mean().item(),
                "p_fake": torch.sigmoid(d_fake).mean().item(),
                "grad_norm_D": float("nan"),  # no D update happened
            }

    def step_g(self) -> dict[str, float]:
        """One G update (as ``train.g_step``) on fresh noise; appends a row to ``history``.

        descend g_loss(D(G(z))) with D fixed: ``torch.autograd.grad`` asks for G's
        gradients only, so the backward pass goes through D to x without computing D's
        weight gradients (what ``g_step`` gets by freezing D).
        The row's D columns come from the last D update since the previous G update, or,
        when there was none, from a measurement of D without an update (grad_norm_D = nan).
        """
        with cpu.using_threads(self.threads):
            d_stats = self._last_d if self._last_d is not None else self._measure_d()
            z = train.sample_noise(self.G, self.batch_size, self._rng, self.device)
            params = _parameters(self.opt_G)
            loss_G = self.g_loss(self.D(self.G(z)))
            grads = torch.autograd.grad(loss_G, params)
            with torch.no_grad():
                loss, norm = torch.stack([loss_G.detach(), _global_norm(grads)]).tolist()
            if math.isfinite(loss):  # a NaN loss must not poison G's weights
                _apply(self.opt_G, params, grads)
        stats = {"loss_G": loss, "grad_norm_G": norm}
        self._diverged(stats, "loss_G")
        self.g_updates += 1
        self.history.append(self.g_updates, d_stats, stats)
        self._last_d = None
        return stats

    def step(self, n: int = 1) -> dict[str, float]:
        """``n`` full updates of Algorithm 1 (k = ``d_steps`` D updates, then one G update).

        Returns the last History row. A NaN or infinite loss raises
        ``ganlab.train.TrainingDiverged`` (the weights are not updated by that step).
        """
        positive_int("n", n)
        with cpu.using_threads(self.threads):
            for _ in range(n):
                for _ in range(self.d_steps):
                    self.step_d()
                self.step_g()
        return self.history.last()

    # ------------------------------------------------------------------ controls

    def _resolve_data(self, data: str | GaussianMixture) -> tuple[GaussianMixture, str]:
        if isinstance(data, GaussianMixture):
            self._custom[data.name] = data
            return data, data.name
        if data in self._custom:
            return self._custom[data], data
        return TOYS[data](), data

    def _check(self, name: str, value: Any) -> Any:
        """``value`` checked (and normalised) for the control ``name``; errors name the value."""
        if name == "data":
            if isinstance(value, GaussianMixture):
                if value.dim != 2:
                    raise ValueError(f"data must be 2-D, got a {value.dim}-D {value!r}")
                return value
            if not isinstance(value, str) or value not in {**TOYS, **self._custom}:
                raise ValueError(
                    f"unknown data {value!r}; expected one of {sorted(TOYS)} "
                    "or a 2-D ganlab.data.GaussianMixture"
                )
            return value
        if name == "seed":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"seed must be a non-negative integer, got {value!r}")
            return value
        if name in ("width", "depth", "batch_size", "d_steps", "steps_per_frame"):
            return positive_int(name, value)
        if name in ("lr_D", "lr_G"):
            return positive_float(name, value)
        if name == "loss":
            if value not in LOSSES:
                raise ValueError(f"unknown loss kind {value!r}; expected one of {LOSSES}")
            return value
        if name == "optimizer":
            if not isinstance(value, str) or value.lower() not in OPTIMIZERS:
                raise ValueError(
                    f"unknown optimizer {value!r}; expected one of {sorted(OPTIMIZERS)}"
                )
            return value.lower()
        if name in ("show_optimum", "show_arrows"):
            return bool(value)
        raise TypeError(f"unknown control {name!r}; expected one of {list(CONTROLS)}")

    def _checked(self, controls: dict[str, Any]) -> dict[str, Any]:
        unknown = [name for name in controls if name not in CONTROLS]
        if unknown:
            raise TypeError(f"unknown control(s) {unknown}; expected some of {list(CONTROLS)}")
        return {name: self._check(name, value) for name, value in controls.items()}

    def set(self, **controls: Any) -> Playground:
        """Change controls mid-run; every value is checked before any is applied.

        lr_D, lr_G: set in the running optimisers (their state is kept).
        d_steps, batch_size, loss: used from the next update on.
        optimizer: new optimisers for the current G and D (their state starts afresh).
        data, seed, width, depth: new networks, i.e. a ``reset`` (training restarts).
        steps_per_frame, show_optimum, show_arrows: the widget's animation and picture.
        """
        checked = self._checked(controls)
        rebuild = any(name in checked and checked[name] != getattr(self, name) for name in _REBUILD)
        for name, value in checked.items():
            setattr(self, name, value)
        if "data" in checked:
            self.dist, self.data = self._resolve_data(self.data)
        if "loss" in checked:
            self.d_loss, self.g_loss = losses.get_losses(self.loss)
        if rebuild:
            self.reset()
            return self
        if "optimizer" in checked:
            self._build_optimizers()
        for opt, lr in ((self.opt_D, self.lr_D), (self.opt_G, self.lr_G)):
            for group in opt.param_groups:
                group["lr"] = lr
        self._refresh_widget()
        return self

    @property
    def controls(self) -> dict[str, Any]:
        """The current value of every control in ``CONTROLS``."""
        return {name: getattr(self, name) for name in CONTROLS}

    def coverage(self, n: int = 2500, seed: int = 1) -> metrics.ModeCoverage:
        """``metrics.mode_coverage`` of n fresh generated samples (2,500: the papers' size)."""
        with cpu.using_threads(self.threads):
            return metrics.mode_coverage(self.G.sample(n, seed=seed), self.dist)

    # ------------------------------------------------------------------ the picture

    @property
    def limit(self) -> float:
        """Half-width of the square the picture shows."""
        return plane.plane_limit(self.dist)

    def _snapshot(self) -> _Frame:
        """The numbers of one picture, computed from the current G, D and History."""
        with cpu.using_threads(self.threads):
            z = self._z_show.to(self.device)
            with torch.no_grad():
                x_fake = self.G(z).cpu()
            if self.show_optimum:
                heat = _optimal_discriminator_grid(self.dist, x_fake, self.limit, self.resolution)
            else:
                heat = plane.decision_grid(self.D, self.limit, self.resolution)
            arrows = None
            if self.show_arrows:
                xy, direction = plane.generator_directions(
                    self.G, self.D, z[: self.n_arrows], self.g_loss
                )
                uv = plane.arrow_vectors(direction, 0.12 * self.limit)
                arrows = (xy.cpu().numpy(), uv.cpu().numpy())
            cov = metrics.mode_coverage(x_fake, self.dist)
        return _Frame(
            updates=self.g_updates,
            heat=heat.numpy(),
            optimum=self.show_optimum,
            x_fake=x_fake.numpy(),
            arrows=arrows,
            modes=cov.modes,
            n_modes=cov.n_modes,
            curves=self._curves(),
        )

    def _curves(self, max_points: int = 400) -> dict[str, np.ndarray]:
        """History columns, thinned to at most ``max_points`` rows for drawing."""
        history = self.history
        stride = max(1, math.ceil(len(history) / max_points))
        names = ("step", "loss_D", "loss_G", "p_real", "p_fake")
        return {name: np.asarray(getattr(history, name)[::stride], float) for name in names}

    @property
    def figure(self) -> Figure:
        """The playground's matplotlib Figure (Agg canvas, not managed by pyplot)."""
        if self._fig is None:
            self._build_figure()
        return self._fig  # type: ignore[return-value]

    def _build_figure(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.ticker import MaxNLocator

        fig = _Figure(figsize=(7.6, 3.5), dpi=72)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.045, 0.07, 0.37, 0.8))
        ax_loss = fig.add_axes((0.5, 0.55, 0.48, 0.31))
        ax_prob = fig.add_axes((0.5, 0.12, 0.48, 0.31), sharex=ax_loss)
        for a in (ax, ax_loss, ax_prob):
            a.tick_params(labelsize=7)
            a.yaxis.set_major_locator(MaxNLocator(5))
        zeros = np.zeros(self.n_arrows)
        self._art: dict[str, Any] = {
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
            "label": fig.text(0.045, 0.95, "", fontsize=8, fontweight="bold"),
            "loss_D": ax_loss.plot([], [], lw=1, c="tab:blue", label="loss_D")[0],
            "loss_G": ax_loss.plot([], [], lw=1, c="tab:orange", label="loss_G")[0],
            "p_real": ax_prob.plot([], [], lw=1, c=plot.REAL_COLOR, label="mean D(x)")[0],
            "p_fake": ax_prob.plot([], [], lw=1, c=plot.FAKE_COLOR, label="mean D(G(z))")[0],
        }
        ax.add_collection(self._art["contour"], autolim=False)
        ax.set_aspect("equal")
        self._art["title"] = ax.set_title("", fontsize=7, loc="left")
        ax_loss.tick_params(labelbottom=False)
        ax_prob.axhline(0.5, c="grey", lw=0.6, ls=":")
        ax_prob.set_ylim(0, 1)
        ax_prob.set_xlabel("step (G updates)", fontsize=7)
        # Legends above the axes, where no curve can cross them: they stay in the cached
        # background instead of being drawn again every frame.
        for a in (ax_loss, ax_prob):
            a.legend(
                loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, fontsize=7,
                frameon=False, borderaxespad=0.1, handlelength=1.5,
            )  # fmt: skip
        self._axes = (ax, ax_loss, ax_prob)
        self._plane_key: tuple[Any, ...] | None = None
        self._background: Any = None
        self._background_key: tuple[Any, ...] | None = None
        self._fig = fig

    def _dynamic_artists(self) -> list[Any]:
        """The artists that change from frame to frame, in drawing order."""
        art = self._art
        plane_spines = list(self._axes[0].spines.values())
        return [
            art["heat"], art["contour"], art["real"], art["fake"], art["arrows"], *plane_spines,
            art["label"], art["loss_D"], art["loss_G"], art["p_real"], art["p_fake"],
        ]  # fmt: skip

    def _setup_plane(self) -> None:
        """The parts of the plane that change only with the data: real points and extent."""
        ax = self._axes[0]
        lim = self.limit
        self._art["heat"].set_extent((-lim, lim, -lim, lim))
        self._art["real"].set_offsets(self._x_real_show.numpy())
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        self._plane_key = (id(self._x_real_show), lim)

    def _draw(self, frame: _Frame) -> None:
        """Put ``frame`` into the figure's artists in place (no new figure, no new axes)."""
        self.figure  # noqa: B018 (builds the figure on first use)
        if self._plane_key != (id(self._x_real_show), self.limit):
            self._setup_plane()
        art = self._art
        ax_loss = self._axes[1]
        art["heat"].set_data(frame.heat)
        art["contour"].set_segments(_half_contour(frame.heat, self.limit))
        art["fake"].set_offsets(frame.x_fake)
        quiver = art["arrows"]
        quiver.set_visible(frame.arrows is not None)
        if frame.arrows is not None:
            xy, uv = frame.arrows
            quiver.set_offsets(xy)
            quiver.set_UVC(uv[:, 0], uv[:, 1])
        art["label"].set_text(
            f"{self.data}, step {frame.updates}: {frame.modes}/{frame.n_modes} modes"
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
        self._shown = frame

    def _blit(self) -> None:
        """Draw the figure into its Agg buffer: axes, ticks and labels only when they changed.

        The static part (axes, ticks, labels, which take most of a full draw) is cached
        with ``copy_from_bbox``; each frame restores it and draws the changing artists.
        """
        fig = self.figure
        canvas = fig.canvas
        ax, ax_loss, _ = self._axes
        key = (
            self._plane_key,
            ax_loss.get_xlim(),
            ax_loss.get_ylim(),
            self._art["title"].get_text(),
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

    def render(self) -> Figure:
        """Redraw the picture from the current state and return the Figure.

        Left: real (green) and generated (purple) samples over the heatmap of D(x), or of
        the optimal D* when ``show_optimum``, with its 1/2 contour and G's gradient arrows.
        Right: the losses and mean D(x), D(G(z)) per G update. The mode count in the
        label is ``metrics.mode_coverage`` of the ``n_samples`` points shown (fixed z), so
        it can read one mode lower than ``coverage()`` with its 2,500 fresh samples.
        """
        self._draw(self._snapshot())
        return self.figure

    def image(self, fmt: str = "png") -> bytes:
        """The current picture encoded as PNG (or JPEG) bytes, drawn with Agg at 72 dpi.

        The fast path of the widget: only the changing artists are drawn (see ``_blit``).
        """
        if fmt != "png":
            return _encode(self._capture(), fmt)
        self._draw(self._snapshot())
        self._blit()
        return _png(np.asarray(self.figure.canvas.buffer_rgba()))

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
        frames = [self._capture()]
        done = 0
        while done < steps:
            n = min(every, steps - done)
            self.step(n)
            done += n
            frames.append(self._capture())
        # JPEG: a third of the size of PNG for the smooth heatmap, and faster to write.
        return frames_to_jshtml(frames, dpi=self.figure.dpi, fps=fps, frame_format="jpeg")

    def _capture(self) -> np.ndarray:
        """The current picture as an RGB array (H, W, 3): snapshot, artists, fast draw."""
        self._draw(self._snapshot())
        self._blit()
        return np.asarray(self.figure.canvas.buffer_rgba())[..., :3].copy()

    # ------------------------------------------------------------------ the widget

    @property
    def widget(self) -> Any:
        """The ipywidgets UI (built on first use; needs ``ipywidgets``)."""
        if self._widget is None:
            self._widget = self._build_widget()
        return self._widget

    def _ipython_display_(self) -> None:
        show_widget_or_picture(self, self.render)

    def _build_widget(self) -> Any:
        try:
            import ipywidgets as W
        except ImportError as error:
            raise ImportError(
                "Playground.widget needs ipywidgets (pip install ipywidgets); "
                "without it use render(), step() and playground_animation()"
            ) from error

        wide = {"description_width": "initial"}
        slider = {"continuous_update": False}

        def log_slider(name: str, value: float) -> Any:
            return _make(
                W.FloatLogSlider,
                value=value,
                base=10,
                min=-5,
                max=0,
                step=0.1,
                description=name,
                readout_format=".1e",
                **slider,
            )

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
            ),
            "d_button": _make(W.Button, description="D step", tooltip="one update of D"),
            "g_button": _make(W.Button, description="G step", tooltip="one update of G"),
            "update_button": _make(
                W.Button, description="full update", tooltip="k updates of D, then one of G"
            ),
            "reset_button": _make(
                W.Button, description="reset", tooltip="new networks from the seed"
            ),
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
                W.Dropdown, options=list(OPTIMIZERS), value=self.optimizer, description="optimizer"
            ),
            "loss": _make(W.Dropdown, options=list(LOSSES), value=self.loss, description="G loss"),
            "d_steps": _make(
                W.IntSlider,
                value=self.d_steps,
                min=1,
                max=max(10, self.d_steps),
                description="k (D steps)",
                style=wide,
                **slider,
            ),
            "lr_D": log_slider("lr_D", self.lr_D),
            "lr_G": log_slider("lr_G", self.lr_G),
            "steps_per_frame": _make(
                W.IntSlider,
                value=self.steps_per_frame,
                min=1,
                max=max(200, self.steps_per_frame),
                description="steps/frame",
                style=wide,
                **slider,
            ),
            "show_optimum": _make(
                W.Checkbox,
                value=self.show_optimum,
                indent=False,
                description="show optimal D* instead of D",
            ),
            "show_arrows": _make(
                W.Checkbox, value=self.show_arrows, indent=False, description="G's gradient arrows"
            ),
            "status": W.HTML(),
            "image": _make(W.Image, format="png"),
            "note": W.HTML(
                "<small>Changing <b>data</b>, <b>seed</b> or <b>width</b> builds new "
                "networks: training restarts. The other controls act on the running "
                "training (a new optimizer starts with fresh state).</small>"
            ),
        }
        self._ui = ui
        ui["play"].observe(self._on_tick, names="value")
        ui["d_button"].on_click(lambda _: self._run_safely(self.step_d))
        ui["g_button"].on_click(lambda _: self._run_safely(self.step_g))
        ui["update_button"].on_click(lambda _: self._run_safely(self.step))
        ui["reset_button"].on_click(lambda _: self._run_safely(self.reset))
        for name in CONTROLS:
            if name in ui:
                ui[name].observe(self._on_control, names="value")
        controls = W.VBox(
            [
                W.HBox([ui["data"], ui["seed"], ui["width"]]),
                W.HBox([ui["optimizer"], ui["loss"], ui["d_steps"]]),
                W.HBox([ui["lr_D"], ui["lr_G"]]),
                W.HBox([ui["steps_per_frame"], ui["show_optimum"], ui["show_arrows"]]),
                ui["note"],
            ]
        )
        buttons = W.HBox(
            [ui["play"], ui["d_button"], ui["g_button"], ui["update_button"], ui["reset_button"]]
        )
        self._redraw()
        return W.VBox([buttons, ui["status"], ui["image"], controls])

    def _refresh_widget(self) -> None:
        """After a change made from code: show the current controls (and picture) in the UI."""
        if not self._ui:
            return
        self._syncing = True
        try:
            for name in CONTROLS:
                if name in self._ui:
                    _show_value(self._ui[name], getattr(self, name))
        finally:
            self._syncing = False
        if not self._in_callback:  # a callback redraws once when it is done
            self._redraw()

    def _on_control(self, change: dict[str, Any]) -> None:
        if self._syncing:
            return
        name = next(key for key, widget in self._ui.items() if widget is change["owner"])
        self._run_safely(lambda: self.set(**{name: change["new"]}))

    def _run_safely(self, action: Callable[[], Any]) -> bool:
        """Run a widget callback's action, then redraw; an error goes to the status line.

        A traceback raised in a widget callback would land in a log the reader never sees.
        """
        self._in_callback = True
        try:
            action()
        except Exception as error:
            self._pause()
            self._redraw(error=f"{type(error).__name__}: {error}")
            return False
        finally:
            self._in_callback = False
        self._redraw()
        return True

    def _pause(self) -> None:
        play = self._ui.get("play")
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
        if self._run_safely(lambda: self.step(self.steps_per_frame)):
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

    def _redraw(self, error: str | None = None) -> None:
        """Render into the Image widget and write the status line."""
        ui = self._ui
        if not ui:
            return
        ui["image"].value = self.image("png")
        status = f"<b>step {self.g_updates}</b> ({self.d_updates} D updates)"
        if len(self.history):
            last, shown = self.history.last(), self._shown
            status += (
                f" &middot; <b>{shown.modes}/{shown.n_modes} modes</b> &middot; "
                f"loss_D {last['loss_D']:.3f}, loss_G {last['loss_G']:.3f} &middot; "
                f"mean D(x) {last['p_real']:.2f}, mean D(G(z)) {last['p_fake']:.2f}"
            )
        if math.isfinite(self._fps):
            status += f" &middot; {self._fps:.1f} frames/s"
        if error is not None:
            status += f"<br><span style='color:#b00'>{error}</span>"
        ui["status"].value = status


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
