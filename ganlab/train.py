"""The training loop of Algorithm 1 (Goodfellow et al. 2014), as three plain functions.

    for step in 1..steps:
        repeat k = d_steps times:                                  (1) update D
            x_real ~ p_data, z ~ p_z (fresh batches every time)
            descend  -[ log D(x_real) + log(1 - D(G(z))) ]
        z ~ p_z                                                    (2) update G
        descend  G's loss on D(G(z))  (saturating or non-saturating)

``d_step`` and ``g_step`` do one update each; ``fit`` runs the loop, records a
``History`` and calls callbacks (for live plots). Also here: ``get_device`` and
``seed_everything``. Elsewhere: the unrolled G step (``ganlab.unrolled``), the image loop
(``ganlab.train_images``), checkpoints and shipped weights (``ganlab.checkpoints``).
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from ganlab._checks import as_generator, positive_float, positive_int
from ganlab.gradients import frozen, grad_norm
from ganlab.losses import DLoss, GLoss, Penalty, d_loss_minimax, get_losses
from ganlab.unrolled import g_step_unrolled, lookahead_rule


class Sampler(Protocol):
    """Anything with ``sample(n, seed)`` returning (n, ...) samples, e.g. a ``data`` toy."""

    def sample(self, n: int, seed: int | torch.Generator | None = None) -> torch.Tensor: ...


Data = Sampler | torch.Tensor
ADAM_BETAS = (0.5, 0.999)
"""Adam's (beta1, beta2) throughout the book: beta1 = 0.5 as in DCGAN (Radford et al. 2016)."""
Callback = Callable[[int, "History", nn.Module, nn.Module], None]


def get_device() -> torch.device:
    """The best available device: cuda, then Apple's mps, then cpu."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA); return a CPU generator seeded with ``seed``.

    On the CPU the same seed gives the same initial weights, batches and History.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
    return as_generator(seed)


@dataclass
class History:
    """What ``fit`` records once per step (after the step's G update).

    ``p_real`` and ``p_fake`` are mean D(x) and mean D(G(z)) as probabilities,
    sigmoid of the logits that ``losses`` call ``d_real`` and ``d_fake``, measured in the
    step's last D update; the grad norms are the global L2 norms of the
    parameter gradients of that D update and of the G update.
    """

    step: list[int] = field(default_factory=list)
    loss_D: list[float] = field(default_factory=list)
    loss_G: list[float] = field(default_factory=list)
    p_real: list[float] = field(default_factory=list)
    p_fake: list[float] = field(default_factory=list)
    grad_norm_D: list[float] = field(default_factory=list)
    grad_norm_G: list[float] = field(default_factory=list)

    def append(self, step: int, d_stats: dict[str, float], g_stats: dict[str, float]) -> None:
        """Record one step from the stats that ``d_step`` and ``g_step`` return."""
        self.step.append(step)
        self.loss_D.append(d_stats["loss_D"])
        self.loss_G.append(g_stats["loss_G"])
        self.p_real.append(d_stats["p_real"])
        self.p_fake.append(d_stats["p_fake"])
        self.grad_norm_D.append(d_stats["grad_norm_D"])
        self.grad_norm_G.append(g_stats["grad_norm_G"])

    def __len__(self) -> int:
        return len(self.step)

    def as_dict(self) -> dict[str, list[float]]:
        """The columns as a dict of lists (e.g. for ``pandas.DataFrame``)."""
        return asdict(self)

    def last(self) -> dict[str, float]:
        """The most recent row."""
        if not self.step:
            raise IndexError("the History is empty: no step has been recorded yet")
        return {f.name: getattr(self, f.name)[-1] for f in fields(self)}


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; ``history`` holds every step recorded before it."""

    def __init__(self, step: int, loss_name: str, value: float, history: History) -> None:
        super().__init__(
            f"training diverged at step {step}: {loss_name} = {value} "
            f"(the History of the {len(history)} steps before it is in .history)"
        )
        self.step = step
        self.loss_name = loss_name
        self.value = value
        self.history = history


# ----------------------------------------------------------------------------- minibatches


def sample_real(
    data: Data, n: int, generator: torch.Generator, device: torch.device
) -> torch.Tensor:
    """A batch of n real samples: from ``data.sample`` or n random rows of a tensor."""
    if isinstance(data, torch.Tensor):
        rows = torch.randint(len(data), (n,), generator=generator)
        return data[rows.to(data.device)].to(device)
    if not hasattr(data, "sample"):
        raise TypeError(
            f"data must be a tensor or have a sample(n, seed) method, got {type(data).__name__}"
        )
    return data.sample(n, seed=generator).to(device)


def sample_noise(
    G: nn.Module, n: int, generator: torch.Generator, device: torch.device
) -> torch.Tensor:
    """z ~ N(0, I) of shape (n, G.latent_dim), drawn on the CPU for reproducibility."""
    latent_dim = getattr(G, "latent_dim", None)
    if latent_dim is None:
        raise TypeError(f"the generator {type(G).__name__} has no latent_dim attribute")
    return torch.randn(n, latent_dim, generator=generator).to(device)


# ----------------------------------------------------------------------------- (1) update D


def d_step(
    G: nn.Module,
    D: nn.Module,
    x_real: torch.Tensor,
    z: torch.Tensor,
    opt_D: torch.optim.Optimizer,
    d_loss: DLoss = d_loss_minimax,
    penalty: Penalty | None = None,
    *,
    one_pass: bool = False,
) -> dict[str, float]:
    """One D update: descend d_loss(D(x_real), D(G(z))) (+ penalty(D, x_real, G(z))), G detached.

    ``one_pass=True`` scores x_real and x_fake in one call of D on their concatenation
    (2B, ...) instead of two: fewer operations, the same numbers up to rounding, for a D
    that scores each row on its own (an MLP; not batch norm or minibatch features). The
    playground uses it: 1-5% less time per step of its MLPs, and its runs keep their
    rounding, so a seed shows the same pictures as before issue 20.
    """
    with torch.no_grad():
        x_fake = G(z)  # G is not updated here, so build no graph through it
    if one_pass:  # D's rows are independent: one (2B, ...) batch, split back into two
        d_real, d_fake = D(torch.cat([x_real, x_fake])).split([len(x_real), len(x_fake)])
    else:
        d_real, d_fake = D(x_real), D(x_fake)
    loss_D = d_loss(d_real, d_fake)
    if penalty is not None:
        loss_D = loss_D + penalty(D, x_real, x_fake)
    opt_D.zero_grad(set_to_none=True)
    loss_D.backward()
    norm = grad_norm(D)
    if torch.isfinite(loss_D):  # a NaN loss must not poison D's weights; fit reports it
        opt_D.step()
    return {
        "loss_D": loss_D.item(),
        "p_real": torch.sigmoid(d_real).mean().item(),
        "p_fake": torch.sigmoid(d_fake).mean().item(),
        "grad_norm_D": norm,
    }


@torch.no_grad()
def clip_weights(module: nn.Module, c: float) -> None:
    """Clamp every parameter of ``module`` into [-c, c] in place: WGAN's crude way to keep the
    critic K-Lipschitz for some K (Arjovsky et al. 2017 use c = 0.01 after every critic step)."""
    positive_float("c (the clipping bound)", c)
    for p in module.parameters():
        p.clamp_(-c, c)


# ----------------------------------------------------------------------------- (2) update G


def g_step(
    G: nn.Module,
    D: nn.Module,
    z: torch.Tensor,
    opt_G: torch.optim.Optimizer,
    g_loss: GLoss,
) -> dict[str, float]:
    """One G update: descend g_loss(D(G(z))); gradients flow through D, but only G steps."""
    with frozen(D):  # backpropagate through D to x, but skip D's weight gradients
        d_fake = D(G(z))
        loss_G = g_loss(d_fake)
        opt_G.zero_grad(set_to_none=True)
        loss_G.backward()
    norm = grad_norm(G)
    if torch.isfinite(loss_G):  # a NaN loss must not poison G's weights; fit reports it
        opt_G.step()
    return {"loss_G": loss_G.item(), "grad_norm_G": norm}


# ----------------------------------------------------------------------------- the settings


@dataclass(frozen=True)
class FitConfig:
    """How ``fit`` trains: Algorithm 1's settings in one object (as nanoGPT's ``GPTConfig``),
    shared by ``fit``, ``batched.fit_many``, the remedies, the critics and the command line.

    loss: a key of ``losses.GAN_LOSSES``: "nonsaturating", "saturating", "wasserstein"
        (with ``penalty=losses.wgan_gp()`` for WGAN-GP), "hinge" or "least_squares".
    penalty: a regulariser added to D's loss, e.g. ``losses.r1(gamma)``, ``losses.wgan_gp(lam)``.
    weight_clip: c > 0 clamps D's parameters into [-c, c] after every D step (WGAN).
    d_steps: k, the D updates per G update.
    unroll_steps: k > 0 trains G against D unrolled k steps of D's own optimiser
        (``unrolled.g_step_unrolled``; Metz et al. 2017); the real D still takes its steps.
    optimizer: a key of ``OPTIMIZERS`` for both players; Adam takes ``betas``.
    lr_D, lr_G: the learning rates. batch_size: m, the minibatch size.
    real_label: 0.9 for one-sided label smoothing of D's real targets (minimax loss only).
    """

    loss: str = "nonsaturating"
    penalty: Penalty | None = None
    weight_clip: float | None = None
    d_steps: int = 1
    unroll_steps: int = 0
    optimizer: str = "adam"
    lr_D: float = 1e-3
    lr_G: float = 1e-3
    betas: tuple[float, float] = ADAM_BETAS
    batch_size: int = 256
    real_label: float = 1.0

    def __post_init__(self) -> None:
        d_loss = get_losses(self.loss)[0]  # an unknown loss fails here, naming the known ones
        positive_int("batch_size", self.batch_size)
        positive_int("d_steps (k, the D updates per G update)", self.d_steps)
        positive_float("lr_D", self.lr_D)
        positive_float("lr_G", self.lr_G)
        u = self.unroll_steps
        if isinstance(u, bool) or not isinstance(u, int) or u < 0:
            raise ValueError(f"unroll_steps must be an integer >= 0, got {u!r}")
        if self.weight_clip is not None:
            positive_float("weight_clip", self.weight_clip)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"unknown optimizer {self.optimizer!r}; expected one of {sorted(OPTIMIZERS)}"
            )
        if self.optimizer != "adam" and tuple(self.betas) != ADAM_BETAS:
            raise ValueError(f"betas are Adam's, not {self.optimizer!r}'s: got {self.betas!r}")
        if not 0.0 <= self.real_label <= 1.0:
            raise ValueError(f"real_label must lie in [0, 1], got {self.real_label!r}")
        if self.real_label != 1.0 and d_loss is not d_loss_minimax:
            raise ValueError(
                f"real_label applies only to the minimax D loss, not to loss={self.loss!r}"
            )

    def changes(self) -> dict[str, Any]:
        """The settings that differ from ``FitConfig()``, in field order (what a table shows)."""
        default = FitConfig()
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) != getattr(default, f.name)}  # fmt: skip

    def losses(self) -> tuple[DLoss, GLoss]:
        """(D loss, G loss) of ``loss``, D's with the ``real_label`` target."""
        d_loss, g_loss = get_losses(self.loss)
        if self.real_label != 1.0:
            d_loss = functools.partial(d_loss_minimax, real_label=self.real_label)
        return d_loss, g_loss


def configure(config: FitConfig | None = None, **settings: Any) -> FitConfig:
    """``config`` (by default ``FitConfig()``) with ``settings`` replaced, e.g. ``lr_G=2e-4``;
    a name that is not a setting raises a TypeError listing the settings."""
    names = [f.name for f in fields(FitConfig)]
    unknown = sorted(set(settings) - set(names))
    if unknown:
        raise TypeError(f"unknown training setting(s) {unknown}; FitConfig has {names}")
    if config is not None and not isinstance(config, FitConfig):
        raise TypeError(f"config must be a FitConfig, got {type(config).__name__}")
    return replace(config or FitConfig(), **settings)


# ----------------------------------------------------------------------------- Algorithm 1


def check_finite(step: int, stats: dict[str, float], name: str, history: History) -> None:
    """Raise ``TrainingDiverged`` if ``stats[name]`` (a step's loss) is NaN or infinite."""
    if not math.isfinite(stats[name]):
        raise TrainingDiverged(step, name, stats[name], history)


def fit(
    G: nn.Module,
    D: nn.Module,
    data: Data,
    steps: int,
    config: FitConfig | None = None,
    *,
    seed: int | torch.Generator | None = 0,
    opt_D: torch.optim.Optimizer | None = None,
    opt_G: torch.optim.Optimizer | None = None,
    callback: Callback | Sequence[Callback] | None = None,
    every: int = 100,
    progress: bool = True,
    history: History | None = None,
    **settings: Any,
) -> History:
    """Train G and D by Algorithm 1: ``d_steps`` D updates, then one G update, ``steps`` times.

    Args:
        data: a toy from ``ganlab.data`` (anything with ``sample``) or a tensor of samples.
        config, settings: how to train, a ``FitConfig``; ``settings`` replace its fields,
            e.g. ``fit(G, D, ring, 1000, loss="saturating", lr_G=2e-4)``.
        seed: seeds the real batches and the noise (models are initialised by the caller).
        opt_D, opt_G: optimisers to continue with; by default ``make_optimizers(config, ...)``.
        callback: ``f(step, history, G, D)`` called every ``every`` steps and at the end.
        history: a History to append to (to continue a run); a new one by default.

    The models stay on their device; batches are drawn on the CPU and moved there.
    A NaN or infinite loss raises ``TrainingDiverged`` naming the step and the loss.
    """
    from tqdm.auto import tqdm

    config = configure(config, **settings)
    positive_int("steps", steps)
    positive_int("every", every)
    d_loss, g_loss = config.losses()
    if opt_D is None or opt_G is None:
        made_D, made_G = make_optimizers(config, G, D)
        opt_D, opt_G = opt_D or made_D, opt_G or made_G
    if config.unroll_steps:
        lookahead_rule(opt_D)  # an optimiser the look-ahead cannot replay fails before training
    batch_size, weight_clip = config.batch_size, config.weight_clip
    callbacks = [] if callback is None else [callback] if callable(callback) else list(callback)
    device = next(G.parameters()).device
    generator = as_generator(seed)
    history = History() if history is None else history
    first = history.step[-1] + 1 if history.step else 1
    G.train()
    D.train()
    for step in tqdm(range(first, first + steps), disable=not progress, desc="fit"):
        # (1) k = d_steps times: fresh minibatches x ~ p_data and z ~ p_z, then update D by
        #     ascending 1/m sum [log D(x) + log(1 - D(G(z)))] (d_step descends its negative)
        for _ in range(config.d_steps):
            x_real = sample_real(data, batch_size, generator, device)
            z = sample_noise(G, batch_size, generator, device)
            d_stats = d_step(G, D, x_real, z, opt_D, d_loss, config.penalty)
            check_finite(step, d_stats, "loss_D", history)
            if weight_clip is not None:
                clip_weights(D, weight_clip)
        # (2) a fresh minibatch z ~ p_z, then update G by descending its loss on D(G(z)):
        #     1/m sum log(1 - D(G(z))) in the paper; by default the non-saturating -log D(G(z))
        z = sample_noise(G, batch_size, generator, device)
        if config.unroll_steps:  # G against D unrolled k steps ahead (ganlab.unrolled)
            batches = [
                (sample_real(data, batch_size, generator, device),
                 sample_noise(G, batch_size, generator, device))
                for _ in range(config.unroll_steps)
            ]  # fmt: skip
            g_stats = g_step_unrolled(G, D, z, opt_G, g_loss, d_loss, batches, opt_D)
        else:
            g_stats = g_step(G, D, z, opt_G, g_loss)
        check_finite(step, g_stats, "loss_G", history)
        # Record the step (D's stats from its last update); the callbacks draw it
        history.append(step, d_stats, g_stats)
        if callbacks and (step % every == 0 or step == first + steps - 1):
            for cb in callbacks:
                cb(step, history, G, D)
    return history


# ----------------------------------------------------------------------------- optimisers by name


def _adam(params: Any, lr: float) -> torch.optim.Optimizer:
    """Adam with beta1 = 0.5, the DCGAN setting that ``train.fit`` also uses."""
    return torch.optim.Adam(params, lr=lr, betas=ADAM_BETAS)


def _sgd(params: Any, lr: float) -> torch.optim.Optimizer:
    """Plain gradient descent: theta <- theta - lr * grad."""
    return torch.optim.SGD(params, lr=lr)


def _rmsprop(params: Any, lr: float) -> torch.optim.Optimizer:
    """RMSprop (the optimiser of the WGAN paper)."""
    return torch.optim.RMSprop(params, lr=lr)


OPTIMIZERS: dict[str, Callable[[Any, float], torch.optim.Optimizer]] = {
    "adam": _adam,
    "sgd": _sgd,
    "rmsprop": _rmsprop,
}
"""Optimiser name -> factory ``(parameters, lr) -> torch.optim.Optimizer``."""


def make_optimizers(
    config: FitConfig, G: nn.Module, D: nn.Module
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """(opt_D, opt_G): ``config.optimizer`` over D's and G's parameters at lr_D and lr_G;
    Adam with ``config.betas``."""
    if config.optimizer == "adam":
        return (torch.optim.Adam(D.parameters(), lr=config.lr_D, betas=config.betas),
                torch.optim.Adam(G.parameters(), lr=config.lr_G, betas=config.betas))  # fmt: skip
    make = OPTIMIZERS[config.optimizer]
    return make(D.parameters(), config.lr_D), make(G.parameters(), config.lr_G)
