"""The playground's GAN: its networks, optimisers, data and controls, trained by ``ganlab.train``.

``PlaygroundState`` holds a small MLP generator and discriminator, a 2-D toy from
``ganlab.data.TOYS`` and the optimisers, and updates them with the package's own steps
(Algorithm 1 of Goodfellow et al. 2014):

    update D  k times:  train.d_step  descend  -[ log D(x_real) + log(1 - D(G(z))) ]
    update G  once:     train.g_step  descend  G's loss on D(G(z))

on batches drawn as ``train.fit`` draws them. D scores real and fake in one pass
(``d_step(one_pass=True)``), and the optimisers take their multi-tensor step.

``snapshot()`` computes the numbers of one picture (D on the grid, G's samples and
arrows, the mode count, the curves) as plain arrays; the view (``_playground_view``)
draws them. Nothing here draws.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import torch

from ganlab import cpu, losses, metrics, models, plane, theory, train
from ganlab._checks import positive_float, positive_int
from ganlab.data import TOYS, GaussianMixture

LOSSES = ("saturating", "nonsaturating")
"""The generator losses the playground offers (a WGAN critic needs a penalty it lacks)."""

WIDTHS = (8, 16, 32, 64, 128)
"""Hidden-layer widths offered by the widget's width picker."""

CONTROLS = (
    "data", "seed", "width", "depth", "batch_size", "lr_D", "lr_G", "d_steps", "loss",
    "optimizer", "steps_per_frame", "show_optimum", "show_arrows",
)  # fmt: skip
"""The names ``Playground.set`` accepts. data, seed, width and depth rebuild the networks."""

_REBUILD = ("data", "seed", "width", "depth")


@dataclasses.dataclass
class Frame:
    """Everything one picture shows, as plain arrays (a captured animation keeps a list)."""

    data: str  # the toy's name
    limit: float  # half-width of the square shown
    x_real: np.ndarray  # (n, 2), fixed from reset to reset
    updates: int
    heat: np.ndarray  # (R, R) D(x) or D*(x)
    optimum: bool
    x_fake: np.ndarray  # (n, 2)
    arrows: tuple[np.ndarray, np.ndarray] | None  # positions (m, 2), vectors (m, 2)
    modes: int
    n_modes: int
    curves: dict[str, np.ndarray]  # step, loss_D, loss_G, p_real, p_fake


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


class PlaygroundState:
    """A small GAN on a 2-D toy, stepped by ``train.d_step`` and ``train.g_step``.

    ``Playground`` documents the arguments. ``history`` gets one row per G update
    (``History.append`` with the stats of the last D update before it). A NaN or infinite
    loss raises ``train.TrainingDiverged``.
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
        super().__init__()  # the widget's base, when this is a Playground
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
        self.reset()

    def __repr__(self) -> str:
        settings = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in CONTROLS
            if name not in ("show_optimum", "show_arrows")
        )
        return f"{type(self).__name__}({settings}; step {self.g_updates})"

    def _changed(self) -> None:
        """Called after ``reset`` and ``set``: the UI shows the new controls (a hook)."""

    # ------------------------------------------------------------------ state and stepping

    def reset(self, seed: int | None = None) -> Any:
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
        self._x_real_shown = self._x_real_show.numpy()
        self._z_show = torch.randn(self.n_samples, self.G.latent_dim, generator=show)
        self.history = train.History()
        self.d_updates = 0
        self.g_updates = 0
        self._last_d: dict[str, float] | None = None
        self._changed()
        return self

    def _build_optimizers(self) -> None:
        make = train.OPTIMIZERS[self.optimizer]
        self.opt_D = _multi_tensor(make(self.D.parameters(), self.lr_D))
        self.opt_G = _multi_tensor(make(self.G.parameters(), self.lr_G))

    def step_d(self) -> dict[str, float]:
        """One ``train.d_step`` on a fresh real batch and fresh noise; returns its stats.

        descend d_loss(D(x_real), D(G(z))) with G fixed, drawn as ``train.fit`` draws.
        """
        with cpu.using_threads(self.threads):
            x_real = train.sample_real(self.dist, self.batch_size, self._rng, self.device)
            z = train.sample_noise(self.G, self.batch_size, self._rng, self.device)
            stats = train.d_step(self.G, self.D, x_real, z, self.opt_D, self.d_loss, one_pass=True)
        self.d_updates += 1
        train.check_finite(self.g_updates + 1, stats, "loss_D", self.history)
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
        """One ``train.g_step`` on fresh noise; appends a row to ``history``.

        descend g_loss(D(G(z))) with D frozen. The row's D columns come from the last D
        update since the previous G update, or, when there was none, from a measurement
        of D without an update (grad_norm_D = nan).
        """
        with cpu.using_threads(self.threads):
            d_stats = self._last_d if self._last_d is not None else self._measure_d()
            z = train.sample_noise(self.G, self.batch_size, self._rng, self.device)
            stats = train.g_step(self.G, self.D, z, self.opt_G, self.g_loss)
        train.check_finite(self.g_updates + 1, stats, "loss_G", self.history)
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
            if not isinstance(value, str) or value.lower() not in train.OPTIMIZERS:
                raise ValueError(
                    f"unknown optimizer {value!r}; expected one of {sorted(train.OPTIMIZERS)}"
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

    def set(self, **controls: Any) -> Any:
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
            return self.reset()
        if "optimizer" in checked:
            self._build_optimizers()
        for opt, lr in ((self.opt_D, self.lr_D), (self.opt_G, self.lr_G)):
            for group in opt.param_groups:
                group["lr"] = lr
        self._changed()
        return self

    @property
    def controls(self) -> dict[str, Any]:
        """The current value of every control in ``CONTROLS``."""
        return {name: getattr(self, name) for name in CONTROLS}

    def coverage(self, n: int = 2500, seed: int = 1) -> metrics.ModeCoverage:
        """``metrics.mode_coverage`` of n fresh generated samples (2,500: the papers' size)."""
        with cpu.using_threads(self.threads):
            return metrics.mode_coverage(self.G.sample(n, seed=seed), self.dist)

    # ------------------------------------------------------------------ the picture's numbers

    @property
    def limit(self) -> float:
        """Half-width of the square the picture shows."""
        return plane.plane_limit(self.dist)

    def snapshot(self) -> Frame:
        """The numbers of one picture, computed from the current G, D and History.

        The heatmap is D(x) on the grid, or D* when ``show_optimum``; the arrows are the
        directions G's update moves the first ``n_arrows`` samples; the mode count is
        ``metrics.mode_coverage`` of the ``n_samples`` points shown (fixed z).
        """
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
        return Frame(
            data=self.data,
            limit=self.limit,
            x_real=self._x_real_shown,
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
