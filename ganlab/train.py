"""The training loop of Algorithm 1 (Goodfellow et al. 2014), as three plain functions.

    for step in 1..steps:
        repeat k = d_steps times:                                  (1) update D
            x_real ~ p_data, z ~ p_z (fresh batches every time)
            descend  -[ log D(x_real) + log(1 - D(G(z))) ]
        z ~ p_z                                                    (2) update G
        descend  G's loss on D(G(z))  (saturating or non-saturating)

``d_step`` and ``g_step`` do one update each; ``fit`` runs the loop, records a
``History`` and calls callbacks (for live plots). Also: ``get_device``,
``seed_everything`` and plain state-dict checkpoints checked by SHA-256.
"""

from __future__ import annotations

import glob
import hashlib
import math
import os
import random
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from ganlab._checks import as_generator, positive_float, positive_int
from ganlab.losses import DLoss, GLoss, Penalty, d_loss_minimax, get_losses


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

    ``d_real`` and ``d_fake`` are mean D(x) and mean D(G(z)) as probabilities, measured
    in the step's last D update; the grad norms are the global L2 norms of the
    parameter gradients of that D update and of the G update.
    """

    step: list[int] = field(default_factory=list)
    loss_D: list[float] = field(default_factory=list)
    loss_G: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)
    d_fake: list[float] = field(default_factory=list)
    grad_norm_D: list[float] = field(default_factory=list)
    grad_norm_G: list[float] = field(default_factory=list)

    def append(self, step: int, d_stats: dict[str, float], g_stats: dict[str, float]) -> None:
        """Record one step from the stats that ``d_step`` and ``g_step`` return."""
        self.step.append(step)
        self.loss_D.append(d_stats["loss_D"])
        self.loss_G.append(g_stats["loss_G"])
        self.d_real.append(d_stats["d_real"])
        self.d_fake.append(d_stats["d_fake"])
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


def grad_norm(module: nn.Module) -> float:
    """Global L2 norm sqrt(sum_p ||grad p||^2) over the parameters that have a gradient."""
    norms = [p.grad.detach().norm() for p in module.parameters() if p.grad is not None]
    return torch.linalg.vector_norm(torch.stack(norms)).item() if norms else 0.0


@torch.no_grad()
def clip_weights(module: nn.Module, c: float) -> None:
    """Clamp every parameter of ``module`` into [-c, c] in place: WGAN's crude way to keep the
    critic K-Lipschitz for some K (Arjovsky et al. 2017 use c = 0.01 after every critic step)."""
    positive_float("c (the clipping bound)", c)
    for p in module.parameters():
        p.clamp_(-c, c)


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


def d_step(
    G: nn.Module,
    D: nn.Module,
    x_real: torch.Tensor,
    z: torch.Tensor,
    opt_D: torch.optim.Optimizer,
    d_loss: DLoss = d_loss_minimax,
    penalty: Penalty | None = None,
) -> dict[str, float]:
    """One D update: descend d_loss(D(x_real), D(G(z))) (+ penalty(D, x_real, G(z))), G detached."""
    with torch.no_grad():
        x_fake = G(z)  # G is not updated here, so build no graph through it
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
        "d_real": torch.sigmoid(d_real).mean().item(),
        "d_fake": torch.sigmoid(d_fake).mean().item(),
        "grad_norm_D": norm,
    }


def g_step(
    G: nn.Module,
    D: nn.Module,
    z: torch.Tensor,
    opt_G: torch.optim.Optimizer,
    g_loss: GLoss,
) -> dict[str, float]:
    """One G update: descend g_loss(D(G(z))); gradients flow through D, but only G steps."""
    flags = [p.requires_grad for p in D.parameters()]
    D.requires_grad_(False)  # backpropagate through D to x, but skip D's weight gradients
    try:
        d_fake = D(G(z))
        loss_G = g_loss(d_fake)
        opt_G.zero_grad(set_to_none=True)
        loss_G.backward()
    finally:
        for p, flag in zip(D.parameters(), flags, strict=True):
            p.requires_grad_(flag)
    norm = grad_norm(G)
    if torch.isfinite(loss_G):  # a NaN loss must not poison G's weights; fit reports it
        opt_G.step()
    return {"loss_G": loss_G.item(), "grad_norm_G": norm}


def _lookahead_rule(opt_D: torch.optim.Optimizer) -> Callable[..., torch.Tensor]:
    """A differentiable copy of ``opt_D``'s update for one parameter: (p, g, state, t) -> p'.

    Plain SGD: p' = p - lr g. Adam: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
    p' = p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps), continuing from the
    optimiser's own m, v and step count. ``state`` is a dict updated in place.
    """
    if len(opt_D.param_groups) != 1:
        groups = len(opt_D.param_groups)
        raise ValueError(f"unrolling needs an optimiser with one parameter group, got {groups}")
    group = opt_D.param_groups[0]
    lr = float(group["lr"])
    if type(opt_D) is torch.optim.SGD:
        if group.get("momentum", 0) or group.get("weight_decay", 0) or group.get("maximize"):
            raise ValueError("unrolling supports plain SGD only (momentum=0, weight_decay=0)")

        def sgd(p: torch.Tensor, g: torch.Tensor, state: dict, t: int) -> torch.Tensor:
            return p - lr * g

        return sgd
    if type(opt_D) is torch.optim.Adam:
        if group.get("weight_decay", 0) or group.get("amsgrad") or group.get("maximize"):
            raise ValueError("unrolling supports Adam without weight_decay, amsgrad or maximize")
        (b1, b2), eps = group["betas"], group["eps"]

        def adam(p: torch.Tensor, g: torch.Tensor, state: dict, t: int) -> torch.Tensor:
            state["m"] = b1 * state["m"] + (1 - b1) * g
            state["v"] = b2 * state["v"] + (1 - b2) * g * g
            # sqrt(v + 1e-30): a dead ReLU unit has g = 0 exactly, and sqrt'(0) = inf
            v_hat = (state["v"] / (1 - b2**t) + 1e-30).sqrt()
            return p - lr * (state["m"] / (1 - b1**t)) / (v_hat + eps)

        return adam
    raise ValueError(
        f"unrolling replays D's optimiser, which must be torch.optim.SGD or torch.optim.Adam, "
        f"got {type(opt_D).__name__}"
    )


def unrolled_parameters(
    G: nn.Module,
    D: nn.Module,
    batches: Sequence[tuple[torch.Tensor, torch.Tensor]],
    d_loss: DLoss,
    opt_D: torch.optim.Optimizer,
) -> dict[str, torch.Tensor]:
    """D's parameters after len(batches) steps of its optimiser ``opt_D``, differentiable in G.

    theta_{i+1} = update(theta_i, grad_theta d_loss(D_theta_i(x_i), D_theta_i(G(z_i)))) from
    theta_0 = D's current weights, where update is ``opt_D``'s rule (plain SGD or Adam, the
    latter continuing from its moment estimates, as Metz et al. 2017 unroll): the look-ahead
    of unrolled GANs. The graph keeps how each step depends on G's samples, so a G loss
    computed with the result sees how D would react to G's move. D and ``opt_D`` are not changed.
    """
    from torch.func import functional_call

    rule = _lookahead_rule(opt_D)
    params = {name: p.detach().requires_grad_(True) for name, p in D.named_parameters()}
    states: dict[str, dict[str, torch.Tensor]] = {}
    done = 0  # the optimiser's step count so far (Adam's bias correction continues from it)
    for name, p in D.named_parameters():
        saved = opt_D.state.get(p, {})
        zero = torch.zeros_like(p)
        states[name] = {
            "m": saved.get("exp_avg", zero).detach(),
            "v": saved.get("exp_avg_sq", zero).detach(),
        }
        done = int(saved.get("step", done))
    for t, (x_real, z) in enumerate(batches, start=done + 1):
        x_fake = G(z)  # with G's graph: the unrolled D depends on G through these samples
        loss = d_loss(functional_call(D, params, (x_real,)), functional_call(D, params, (x_fake,)))
        grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
        params = {
            name: rule(p, g, states[name], t)
            for (name, p), g in zip(params.items(), grads, strict=True)
        }
    return params


def g_step_unrolled(
    G: nn.Module,
    D: nn.Module,
    z: torch.Tensor,
    opt_G: torch.optim.Optimizer,
    g_loss: GLoss,
    d_loss: DLoss,
    batches: Sequence[tuple[torch.Tensor, torch.Tensor]],
    opt_D: torch.optim.Optimizer,
) -> dict[str, float]:
    """One G update of an unrolled GAN: descend g_loss(D_k(G(z))), D_k = ``unrolled_parameters``."""
    from torch.func import functional_call

    params = unrolled_parameters(G, D, batches, d_loss, opt_D)
    loss_G = g_loss(functional_call(D, params, (G(z),)))
    opt_G.zero_grad(set_to_none=True)
    loss_G.backward()
    norm = grad_norm(G)
    if torch.isfinite(loss_G):
        opt_G.step()
    return {"loss_G": loss_G.item(), "grad_norm_G": norm}


def _check_finite(step: int, stats: dict[str, float], name: str, history: History) -> None:
    if not math.isfinite(stats[name]):
        raise TrainingDiverged(step, name, stats[name], history)


def fit(
    G: nn.Module,
    D: nn.Module,
    data: Data,
    steps: int,
    *,
    batch_size: int = 256,
    d_steps: int = 1,
    loss: str = "nonsaturating",
    lr_D: float = 1e-3,
    lr_G: float = 1e-3,
    betas: tuple[float, float] = ADAM_BETAS,
    real_label: float = 1.0,
    penalty: Penalty | None = None,
    weight_clip: float | None = None,
    unroll_steps: int = 0,
    opt_D: torch.optim.Optimizer | None = None,
    opt_G: torch.optim.Optimizer | None = None,
    seed: int | torch.Generator | None = 0,
    callback: Callback | Sequence[Callback] | None = None,
    every: int = 100,
    progress: bool = True,
    history: History | None = None,
) -> History:
    """Train G and D by Algorithm 1: ``d_steps`` D updates, then one G update, ``steps`` times.

    Args:
        data: a toy from ``ganlab.data`` (anything with ``sample``) or a tensor of samples.
        loss: a key of ``ganlab.losses.GAN_LOSSES``: "nonsaturating", "saturating" or
            "wasserstein" (with ``penalty=losses.wgan_gp()`` for WGAN-GP).
        real_label: 0.9 for one-sided label smoothing of D's real targets.
        penalty: a regulariser added to D's loss, e.g. ``losses.r1(gamma)``, ``losses.wgan_gp()``.
        weight_clip: c > 0 clamps D's parameters into [-c, c] after every D step (WGAN).
        unroll_steps: k > 0 trains G against D unrolled k steps of D's own optimiser
            (``g_step_unrolled``; Metz et al. 2017); the real D still takes ``d_steps`` steps.
        opt_D, opt_G: optimisers to continue with; by default Adam(lr, betas).
        seed: seeds the real batches and the noise (models are initialised by the caller).
        callback: ``f(step, history, G, D)`` called every ``every`` steps and at the end.
        history: a History to append to (to continue a run); a new one by default.

    The models stay on their device; batches are drawn on the CPU and moved there.
    A NaN or infinite loss raises ``TrainingDiverged`` naming the step and the loss.
    """
    from tqdm.auto import tqdm

    positive_int("steps", steps)
    positive_int("batch_size", batch_size)
    positive_int("d_steps (k, the D updates per G update)", d_steps)
    positive_int("every", every)
    positive_float("lr_D", lr_D)
    positive_float("lr_G", lr_G)
    d_loss, g_loss = get_losses(loss)
    if isinstance(unroll_steps, bool) or not isinstance(unroll_steps, int) or unroll_steps < 0:
        raise ValueError(f"unroll_steps must be an integer >= 0, got {unroll_steps!r}")
    if unroll_steps and opt_D is not None:
        _lookahead_rule(opt_D)  # an optimiser the look-ahead cannot replay fails before training
    if not 0.0 <= real_label <= 1.0:
        raise ValueError(f"real_label must lie in [0, 1], got {real_label!r}")
    if weight_clip is not None:
        positive_float("weight_clip", weight_clip)
    if real_label != 1.0:
        if d_loss is not d_loss_minimax:
            raise ValueError(f"real_label applies only to the minimax D loss, not to loss={loss!r}")
        base_d_loss = d_loss

        def d_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
            return base_d_loss(d_real, d_fake, real_label=real_label)

    callbacks = [] if callback is None else [callback] if callable(callback) else list(callback)
    device = next(G.parameters()).device
    opt_D = opt_D or torch.optim.Adam(D.parameters(), lr=lr_D, betas=betas)
    opt_G = opt_G or torch.optim.Adam(G.parameters(), lr=lr_G, betas=betas)
    generator = as_generator(seed)
    history = History() if history is None else history
    first = history.step[-1] + 1 if history.step else 1
    G.train()
    D.train()
    for step in tqdm(range(first, first + steps), disable=not progress, desc="fit"):
        for _ in range(d_steps):
            x_real = sample_real(data, batch_size, generator, device)
            z = sample_noise(G, batch_size, generator, device)
            d_stats = d_step(G, D, x_real, z, opt_D, d_loss, penalty)
            _check_finite(step, d_stats, "loss_D", history)
            if weight_clip is not None:
                clip_weights(D, weight_clip)
        z = sample_noise(G, batch_size, generator, device)
        if unroll_steps:
            batches = [
                (sample_real(data, batch_size, generator, device),
                 sample_noise(G, batch_size, generator, device))
                for _ in range(unroll_steps)
            ]  # fmt: skip
            g_stats = g_step_unrolled(G, D, z, opt_G, g_loss, d_loss, batches, opt_D)
        else:
            g_stats = g_step(G, D, z, opt_G, g_loss)
        _check_finite(step, g_stats, "loss_G", history)
        history.append(step, d_stats, g_stats)
        if callbacks and (step % every == 0 or step == first + steps - 1):
            for cb in callbacks:
                cb(step, history, G, D)
    return history


def adversarial_step(
    G: nn.Module,
    D: nn.Module,
    x_real: torch.Tensor,
    z: torch.Tensor,
    opt_D: torch.optim.Optimizer,
    opt_G: torch.optim.Optimizer,
    d_loss: DLoss = d_loss_minimax,
    g_loss: GLoss | None = None,
    precision: torch.dtype = torch.float32,
) -> tuple[dict[str, float], dict[str, float]]:
    """One D update, then one G update, on one fake batch x_fake = G(z) (the DCGAN loop, k = 1):

    D descends d_loss(D(x_real), D(x_fake)) with x_fake detached; G then descends
    g_loss(D'(x_fake)) through the updated D', differentiating G's parameters only (D's
    weight gradients are never computed). Returns the (D stats, G stats) of ``d_step``/``g_step``.
    ``precision`` torch.bfloat16 runs the networks' forward passes under autocast (``_forward``).
    """
    from ganlab.losses import g_loss_nonsaturating

    g_loss = g_loss_nonsaturating if g_loss is None else g_loss
    x_fake = _forward(G, z, precision)
    d_real, d_fake = _forward(D, x_real, precision), _forward(D, x_fake.detach(), precision)
    return _update_d_then_g(G, D, opt_D, opt_G, d_loss(d_real, d_fake), (d_real, d_fake),
                            lambda: g_loss(_forward(D, x_fake, precision)))  # fmt: skip


def _forward(model: nn.Module, x: torch.Tensor, precision: torch.dtype) -> torch.Tensor:
    """model(x); for ``precision`` torch.bfloat16 under autocast, with the result cast back to
    fp32 (PyTorch's mixed-precision recipe: the losses, the backward pass's accumulation, the
    weights and Adam stay fp32; ``ganlab.cpu.image_precision`` says when the CPU gains by it)."""
    if precision == torch.float32:
        return model(x)
    with torch.autocast(x.device.type, dtype=precision):
        return model(x).float()


def conditional_step(
    G: nn.Module,
    D: nn.Module,
    x_real: torch.Tensor,
    y_real: torch.Tensor,
    z: torch.Tensor,
    y_fake: torch.Tensor,
    opt_D: torch.optim.Optimizer,
    opt_G: torch.optim.Optimizer,
) -> tuple[dict[str, float], dict[str, float]]:
    """``adversarial_step`` for a class-conditional pair: x_fake = G(z, y_fake); D (a
    ``models.ConditionalDiscriminator``) descends ``D.d_loss(x_real, y_real, x_fake, y_fake)``,
    then G descends ``D.g_loss(x_fake, y_fake)`` through the updated D, G's parameters only.
    ``d_real``/``d_fake`` in the stats are the mean sigmoid of D's realness logits."""
    x_fake = G(z, y_fake)
    loss_D, real_logit, fake_logit = D.d_loss(x_real, y_real, x_fake.detach(), y_fake)
    return _update_d_then_g(G, D, opt_D, opt_G, loss_D, (real_logit, fake_logit),
                            lambda: D.g_loss(x_fake, y_fake))  # fmt: skip


def _update_d_then_g(
    G: nn.Module,
    D: nn.Module,
    opt_D: torch.optim.Optimizer,
    opt_G: torch.optim.Optimizer,
    loss_D: torch.Tensor,
    logits: tuple[torch.Tensor, torch.Tensor],
    loss_G_after: Callable[[], torch.Tensor],
) -> tuple[dict[str, float], dict[str, float]]:
    """Step D on ``loss_D``, then build G's loss through the updated D (``loss_G_after()``) and
    step G, differentiating G's parameters only; a non-finite loss skips its step. ``logits``
    are D's (real, fake) realness logits, reported as mean sigmoids."""
    opt_D.zero_grad(set_to_none=True)
    loss_D.backward()
    norm_D = grad_norm(D)
    if torch.isfinite(loss_D):
        opt_D.step()
    loss_G = loss_G_after()
    g_params = [p for p in G.parameters() if p.requires_grad]
    for p, g in zip(g_params, torch.autograd.grad(loss_G, g_params), strict=True):
        p.grad = g
    norm_G = grad_norm(G)
    if torch.isfinite(loss_G):
        opt_G.step()
    d_stats = {
        "loss_D": loss_D.item(),
        "d_real": torch.sigmoid(logits[0]).mean().item(),
        "d_fake": torch.sigmoid(logits[1]).mean().item(),
        "grad_norm_D": norm_D,
    }
    return d_stats, {"loss_G": loss_G.item(), "grad_norm_G": norm_G}


def fit_epochs(
    G: nn.Module,
    D: nn.Module,
    images: torch.Tensor,
    epochs: int,
    *,
    batch_size: int = 128,
    lr: float = 2e-4,
    betas: tuple[float, float] = ADAM_BETAS,
    loss: str = "nonsaturating",
    labels: torch.Tensor | None = None,
    seed: int = 0,
    checkpoint: str | os.PathLike[str] | None = None,
    callback: Callable[[int, History, nn.Module, nn.Module], None] | None = None,
    progress: bool = True,
    settings: dict[str, Any] | None = None,
    precision: torch.dtype = torch.float32,
) -> History:
    """Train G and D for ``epochs`` passes over ``images`` (N, C, H, W) in shuffled batches of
    ``batch_size`` (the last partial batch is dropped), one ``adversarial_step`` per batch,
    with Adam(lr, betas) for both (DCGAN: 2e-4, beta1 = 0.5).

    With ``labels`` (N,) the pair is class-conditional (``models.ConditionalDCGANGenerator`` and
    a ``models.ConditionalDiscriminator``): each step is a ``conditional_step``, the fakes asked
    for uniformly random classes, and ``loss`` is ignored (the discriminator brings its own).

    With ``checkpoint`` the models, optimisers, random state and history are saved there
    atomically after every epoch, and a run started with an existing checkpoint resumes after
    its last finished epoch (same seed: the same result as an uninterrupted run). The
    checkpoint records the run's settings (seed, batch_size, lr, betas, loss, the images'
    shape, and the plain values of ``settings``, e.g. the architecture); a resume whose
    settings differ, or that asks for fewer epochs than the checkpoint holds, raises
    ``CheckpointError`` naming each difference before any model is changed.
    ``callback(epoch, history, G, D)`` runs after each epoch. ``precision`` torch.bfloat16
    runs the unconditional networks' forward passes under autocast (``ganlab.cpu``'s plan says
    when: a CPU with native bf16; the FID-like score after an epoch stays within the seeds'
    spread, ``bench/bf16.py``). Returns the History (one row per step, for the whole run
    including resumed epochs).
    """
    from tqdm.auto import tqdm

    positive_int("epochs", epochs)
    positive_int("batch_size", batch_size)
    positive_float("lr", lr)
    d_loss, g_loss = get_losses(loss)
    if precision not in (torch.float32, torch.bfloat16):
        raise ValueError(f"precision must be torch.float32 or torch.bfloat16, got {precision!r}")
    if precision != torch.float32 and labels is not None:
        raise ValueError(
            "precision torch.bfloat16 is for unconditional training: a conditional "
            "discriminator computes its loss inside its forward pass (use torch.float32)"
        )
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or len(images) < batch_size:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(
            f"images must be a tensor (N, C, H, W) with N >= batch_size = {batch_size}, got {shape}"
        )
    if labels is not None:
        from ganlab._checks import class_labels

        classes = {getattr(G, "classes", None), getattr(D, "classes", None)}
        if len(classes) != 1 or None in classes:
            raise ValueError(
                f"training with labels needs a conditional G and D with the same number of "
                f"classes, got {type(G).__name__} ({getattr(G, 'classes', None)} classes) and "
                f"{type(D).__name__} ({getattr(D, 'classes', None)})"
            )
        class_labels("labels (one class per image)", labels, G.classes, len(images))
    device = next(G.parameters()).device
    opt_D = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    opt_G = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    generator = torch.Generator().manual_seed(seed)
    history, done = History(), 0
    recorded = {"seed": seed, "batch_size": batch_size, "lr": float(lr), "betas": list(betas),
                "loss": "conditional" if labels is not None else loss,
                "images": list(images.shape), **(settings or {})}  # fmt: skip
    if checkpoint is not None and Path(checkpoint).exists():
        meta = checkpoint_meta(checkpoint)  # checked before any model is touched
        if "epoch" not in meta or "history" not in meta:
            raise CheckpointError(f"checkpoint {checkpoint} is not a checkpoint of fit_epochs")
        if int(meta["epoch"]) > epochs:
            raise CheckpointError(
                f"checkpoint {checkpoint} already holds {meta['epoch']} epochs, more than "
                f"epochs = {epochs}: ask for at least {meta['epoch']} epochs to continue it, "
                "or start fresh with another checkpoint path"
            )
        meta = load_checkpoint(checkpoint, G, D, opt_G=opt_G, opt_D=opt_D, generator=generator,
                               expect=recorded)  # fmt: skip
        done = int(meta["epoch"])
        history = History(**meta["history"])
    G.train()
    D.train()
    per_epoch = len(images) // batch_size
    for epoch in range(done + 1, epochs + 1):
        order = torch.randperm(len(images), generator=generator)
        bar = tqdm(range(per_epoch), disable=not progress, desc=f"epoch {epoch}/{epochs}")
        for i in bar:
            rows = order[i * batch_size : (i + 1) * batch_size]
            x_real = images[rows].to(device, non_blocking=True)
            z = sample_noise(G, batch_size, generator, device)
            if labels is None:
                d_stats, g_stats = adversarial_step(
                    G, D, x_real, z, opt_D, opt_G, d_loss, g_loss, precision
                )
            else:
                y_fake = torch.randint(G.classes, (batch_size,), generator=generator)
                d_stats, g_stats = conditional_step(
                    G, D, x_real, labels[rows].to(device), z, y_fake.to(device), opt_D, opt_G
                )
            step = len(history) + 1
            _check_finite(step, d_stats, "loss_D", history)
            _check_finite(step, g_stats, "loss_G", history)
            history.append(step, d_stats, g_stats)
            if i % 50 == 0:
                bar.set_postfix(
                    loss_D=f"{d_stats['loss_D']:.3f}", loss_G=f"{g_stats['loss_G']:.3f}"
                )
        if checkpoint is not None:
            save_checkpoint(checkpoint, G, D, opt_G=opt_G, opt_D=opt_D, generator=generator,
                            epoch=epoch, history=history.as_dict(), **recorded)  # fmt: skip
        if callback is not None:
            callback(epoch, history, G, D)
    return history


def fit_classifier(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    epochs: int = 2,
    *,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
) -> list[float]:
    """Train a classifier by cross-entropy with Adam(lr) for ``epochs`` shuffled passes over
    ``images`` (N, C, H, W) and integer ``labels`` (N,); return the mean loss of each epoch."""
    from tqdm.auto import tqdm

    positive_int("epochs", epochs)
    positive_int("batch_size", batch_size)
    if len(images) != len(labels):
        raise ValueError(f"images and labels differ in length: {len(images)} and {len(labels)}")
    device = next(model.parameters()).device
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    losses: list[float] = []
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(images), generator=generator)
        total, count = 0.0, 0
        for i in tqdm(
            range(0, len(images), batch_size), disable=not progress, desc=f"epoch {epoch}"
        ):
            rows = order[i : i + batch_size]
            x, y = images[rows].to(device), labels[rows].to(device)
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total, count = total + loss.item() * len(rows), count + len(rows)
        losses.append(total / count)
    return losses


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


# ----------------------------------------------------------------------------- checkpoints


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupt, or does not match its expected SHA-256."""


_PARTS = ("G", "D", "meta", "opt_G", "opt_D", "rng")  # what save_checkpoint may write
_PLAIN = (type(None), bool, int, float, str)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The hex SHA-256 digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _feed(digest: Any, value: Any) -> None:
    """Feed an unambiguous encoding of ``value`` (tensors, plain values, dicts, lists) to
    ``digest``: tensors as dtype, shape and raw bytes; dicts in sorted key order."""
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous()
        digest.update(f"T{t.dtype}{tuple(t.shape)}:".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, dict):
        digest.update(f"D{len(value)}:".encode())
        for key in sorted(value, key=repr):
            _feed(digest, key)
            _feed(digest, value[key])
    elif isinstance(value, (list, tuple)):
        digest.update(f"{'L' if isinstance(value, list) else 'U'}{len(value)}:".encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, float):
        digest.update(f"f{value.hex()};".encode())
    elif isinstance(value, (*_PLAIN, torch.dtype, torch.device)):
        text = repr(value)
        digest.update(f"{type(value).__name__}{len(text)}:{text};".encode())
    else:
        raise TypeError(f"cannot digest a {type(value).__name__} in a checkpoint")


def _content_sha256(payload: dict[str, Any]) -> str:
    """SHA-256 of the checkpoint's contents (every part but the digest itself)."""
    digest = hashlib.sha256()
    _feed(digest, {k: v for k, v in payload.items() if k != "sha256"})
    return digest.hexdigest()


def _check_plain(name: str, value: Any) -> None:
    """Raise unless ``value`` is what ``torch.load(weights_only=True)`` reads back: None, bool,
    int, float, str, tensors, and lists, tuples and dicts of them."""
    if type(value) in _PLAIN or isinstance(value, torch.Tensor):
        return
    if type(value) in (list, tuple):
        for i, item in enumerate(value):
            _check_plain(f"{name}[{i}]", item)
    elif type(value) is dict:
        for key, item in value.items():
            if type(key) not in _PLAIN:
                raise TypeError(f"checkpoint meta {name} has a key of type {type(key).__name__}")
            _check_plain(f"{name}[{key!r}]", item)
    else:
        raise TypeError(
            f"checkpoint meta {name} is a {type(value).__module__}.{type(value).__name__}: "
            "meta must hold plain values (None, bool, int, float, str, tensors, and lists, "
            "tuples and dicts of them) so that the file loads with weights_only=True"
        )


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale_temporaries(path: Path) -> None:
    """Delete ``path``'s temporary files left by a save that was killed: those whose process
    (the pid in the name) no longer runs, or that are over an hour old."""
    for tmp in path.parent.glob(f"{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 1 :].split(".", 1)[0]
        try:
            alive = pid.isdigit() and _running(int(pid))
            if not alive or time.time() - tmp.stat().st_mtime > 3600:
                tmp.unlink()
        except OSError:
            pass  # gone already, or not ours to delete


def _running(pid: int) -> bool:
    """Whether a process with this id exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but belongs to someone else
    return True


def is_resumable(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a readable checkpoint that holds optimiser state (a run to resume)."""
    try:
        payload = _read_payload(Path(path))
    except CheckpointError:
        return False
    return "opt_G" in payload or "opt_D" in payload


def save_checkpoint(
    path: str | os.PathLike[str],
    G: nn.Module,
    D: nn.Module | None = None,
    *,
    opt_G: torch.optim.Optimizer | None = None,
    opt_D: torch.optim.Optimizer | None = None,
    generator: torch.Generator | None = None,
    **meta: Any,
) -> str:
    """Write {"G", "D", "meta"} (and, to resume training, the optimisers' states and the
    random generator's state) atomically; return the file's SHA-256.

    The file also records the SHA-256 of its contents, which ``load_checkpoint`` checks.
    ``meta`` must hold plain values (numbers, strings, lists, dicts) so that the file
    loads with ``weights_only=True``. Writing G alone over a checkpoint that holds optimiser
    state (a run to resume) raises ``CheckpointError``: that would lose the run.

    Crash safety: the bytes go to a temporary file (``NAME.<pid>.<random>.tmp``, next to
    ``path``), are fsynced, and replace ``path`` in one rename, so ``path`` is always the old
    or the new checkpoint, never a mix. A save removes the temporary files that killed saves
    of the same checkpoint left behind.
    """
    for key, value in meta.items():
        _check_plain(key, value)
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"cannot write a checkpoint to {path}: it is a folder")
    payload: dict[str, Any] = {
        "G": G.state_dict(),
        "D": None if D is None else D.state_dict(),
        "meta": meta,
    }
    if opt_G is not None:
        payload["opt_G"] = opt_G.state_dict()
    if opt_D is not None:
        payload["opt_D"] = opt_D.state_dict()
    if generator is not None:
        payload["rng"] = generator.get_state()
    if opt_G is None and opt_D is None and path.is_file() and is_resumable(path):
        raise CheckpointError(
            f"{path} holds a training run to resume (models, optimisers, random state); "
            "writing the generator alone over it would lose that run: choose another path"
        )
    payload["sha256"] = _content_sha256(payload)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.{os.getpid()}.",
                               suffix=".tmp")  # fmt: skip
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the rename makes them visible
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)  # atomic: a reader never sees a half-written checkpoint
        _fsync_folder(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha256_file(path)


def _read_error(path: Path, error: Exception) -> CheckpointError:
    """A CheckpointError for a file torch cannot read, without torch's advice to load it with
    ``weights_only=False`` (which would run any code the file holds)."""
    text = str(error)
    if "Weights only load failed" in text:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", text)
        reason = (
            f"it holds a pickled {found.group(1)}, not only tensors and plain values"
            if found
            else "it is not a torch file of tensors and plain values (damaged, or not a checkpoint)"
        )
        return CheckpointError(
            f"checkpoint {path} could not be read: {reason}; ganlab loads only tensors and "
            "plain values (weights_only=True) and never runs code from a file"
        )
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return CheckpointError(
        f"checkpoint {path} could not be read: {first} (the file is damaged or not a checkpoint)"
    )


def _read_payload(path: Path, sha256: str | None = None) -> dict[str, Any]:
    """The checked contents of a checkpoint file: file digest (when given), torch.load with
    weights_only=True, the parts, and the recorded digest of the contents."""
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {path} could not be read: the file is empty (0 bytes)")
    if sha256 is not None:
        actual = sha256_file(path)
        if actual != sha256.lower():
            raise CheckpointError(
                f"checkpoint {path} has SHA-256 {actual}, expected {sha256}: "
                "the file is corrupt or not the one this code expects"
            )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for a damaged zip/pickle
        raise _read_error(path, error) from None
    if not isinstance(payload, dict) or "G" not in payload:
        raise CheckpointError(f"checkpoint {path} does not hold a ganlab state dict")
    unknown = sorted(str(k) for k in payload if k not in (*_PARTS, "sha256"))
    if unknown:
        raise CheckpointError(
            f"checkpoint {path} holds unknown parts {unknown}: it is damaged or not a ganlab "
            f"checkpoint (expected some of {list(_PARTS)})"
        )
    if "sha256" in payload:  # files written before the digest was recorded have none
        try:
            actual = _content_sha256(payload)
        except TypeError as error:
            raise CheckpointError(f"checkpoint {path} is damaged: {error}") from None
        if actual != payload["sha256"]:
            raise CheckpointError(
                f"checkpoint {path} is corrupt: its contents have SHA-256 {actual}, but it "
                f"recorded {payload['sha256']} when it was saved; nothing was loaded"
            )
    return payload


def checkpoint_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``meta`` of a checkpoint, its file checked as ``load_checkpoint`` does; no model
    is touched."""
    return dict(_read_payload(Path(path)).get("meta") or {})


def _check_module_state(path: Path, name: str, module: nn.Module, state: Any) -> None:
    """Raise unless ``state`` fits ``module.state_dict()``: the same keys and shapes."""
    expected = module.state_dict()
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} holds no state dict for {name}")
    problems = [f"missing {k}" for k in expected if k not in state]
    problems += [f"unexpected {k}" for k in state if k not in expected]
    problems += [
        f"{k} has shape {tuple(state[k].shape)}, the model's {tuple(expected[k].shape)}"
        for k in expected
        if k in state and tuple(getattr(state[k], "shape", ())) != tuple(expected[k].shape)
    ]
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise CheckpointError(
            f"checkpoint {path} holds a {name} of another architecture than the "
            f"{type(module).__name__} given: {'; '.join(problems[:3])}{more}; nothing was loaded"
        )


def _check_optimizer_state(path: Path, name: str, opt: torch.optim.Optimizer, state: Any) -> None:
    """Raise unless ``state`` fits ``opt``: the same parameter groups, sizes and shapes."""
    groups = state.get("param_groups") if isinstance(state, dict) else None
    mine = opt.param_groups
    sizes = [len(g.get("params", ())) for g in groups or []]
    if groups is None or sizes != [len(g["params"]) for g in mine]:
        raise CheckpointError(
            f"checkpoint {path} holds {name} state for parameter groups of sizes {sizes}, the "
            f"optimiser has {[len(g['params']) for g in mine]}: another model; nothing was loaded"
        )
    params = [p for g in mine for p in g["params"]]
    ids = [i for g in groups for i in g["params"]]
    for i, p in zip(ids, params, strict=True):
        for key, value in state.get("state", {}).get(i, {}).items():
            if isinstance(value, torch.Tensor) and value.dim() and value.shape != p.shape:
                raise CheckpointError(
                    f"checkpoint {path} holds {name} state {key} of shape {tuple(value.shape)} "
                    f"for a parameter of shape {tuple(p.shape)}; nothing was loaded"
                )


def load_checkpoint(
    path: str | os.PathLike[str],
    G: nn.Module,
    D: nn.Module | None = None,
    sha256: str | None = None,
    *,
    opt_G: torch.optim.Optimizer | None = None,
    opt_D: torch.optim.Optimizer | None = None,
    generator: torch.Generator | None = None,
    expect: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Load a checkpoint from ``save_checkpoint`` into G (and D, the optimisers and the random
    generator, when given); return its ``meta``.

    With ``sha256`` the file's digest is checked first and a mismatch raises
    ``CheckpointError`` before anything is unpickled. Loading uses ``weights_only=True``; the
    digest of the contents recorded at saving is checked too. ``expect`` maps meta keys to the
    values this run uses: a recorded value that differs raises ``CheckpointError`` naming each
    difference. Everything is checked (parts, architectures, settings) before any model,
    optimiser or generator is changed.
    """
    path = Path(path)
    payload = _read_payload(path, sha256)
    meta = dict(payload.get("meta") or {})
    if D is not None and payload.get("D") is None:
        raise CheckpointError(f"checkpoint {path} holds no discriminator")
    for name, target in (("opt_G", opt_G), ("opt_D", opt_D), ("rng", generator)):
        if target is not None and name not in payload:
            raise CheckpointError(f"checkpoint {path} holds no {name} state to resume from")
    differences = [
        f"{key} {meta[key]!r} there, {value!r} here"
        for key, value in (expect or {}).items()
        if key in meta and meta[key] != value
    ]
    if differences:
        raise CheckpointError(
            f"checkpoint {path} was written with other settings: {'; '.join(differences)}. "
            "Resume with the checkpoint's settings, or start fresh with another checkpoint path "
            "(or delete this one)"
        )
    _check_module_state(path, "G", G, payload["G"])
    if D is not None:
        _check_module_state(path, "D", D, payload["D"])
    for name, opt in (("opt_G", opt_G), ("opt_D", opt_D)):
        if opt is not None:
            _check_optimizer_state(path, name, opt, payload[name])
    if generator is not None:
        rng = payload["rng"]
        current = generator.get_state()
        if (
            not isinstance(rng, torch.Tensor)
            or rng.dtype != current.dtype
            or rng.shape != current.shape
        ):
            raise CheckpointError(f"checkpoint {path} holds no valid random generator state")
    G.load_state_dict(payload["G"])
    if D is not None:
        D.load_state_dict(payload["D"])
    if opt_G is not None:
        opt_G.load_state_dict(payload["opt_G"])
    if opt_D is not None:
        opt_D.load_state_dict(payload["opt_D"])
    if generator is not None:
        generator.set_state(payload["rng"])
    return meta


# ----------------------------------------------------------------------------- shipped weights


@dataclass(frozen=True)
class Pretrained:
    """A model shipped in ``ganlab/weights``: its file, SHA-256 and how to build it empty."""

    file: str
    sha256: str
    build: Callable[[], nn.Module]


def _pretrained() -> dict[str, Pretrained]:
    from ganlab.models import ConditionalDCGANGenerator, DCGANGenerator, ImageClassifier

    return {
        "dcgan_fashion_mnist": Pretrained(
            "dcgan_fashion_mnist.pt", DCGAN_FASHION_MNIST_SHA256,
            lambda: DCGANGenerator(latent_dim=64, width=32),
        ),
        "dcgan_fashion_mnist_epoch1": Pretrained(
            "dcgan_fashion_mnist_epoch1.pt", DCGAN_FASHION_MNIST_EPOCH1_SHA256,
            lambda: DCGANGenerator(latent_dim=64, width=32),
        ),
        "cdcgan_fashion_mnist_projection": Pretrained(
            "cdcgan_fashion_mnist_projection.pt", CDCGAN_PROJECTION_SHA256,
            lambda: ConditionalDCGANGenerator(classes=10, latent_dim=64, width=32),
        ),
        "cdcgan_fashion_mnist_classes": Pretrained(
            "cdcgan_fashion_mnist_classes.pt", CDCGAN_CLASSES_SHA256,
            lambda: ConditionalDCGANGenerator(classes=10, latent_dim=64, width=32),
        ),
        "classifier_fashion_mnist": Pretrained(
            "classifier_fashion_mnist.pt", CLASSIFIER_FASHION_MNIST_SHA256,
            lambda: ImageClassifier(classes=10),
        ),
    }  # fmt: skip


DCGAN_FASHION_MNIST_SHA256 = "3325734a584837037d4307ece00f2f434c4ece1a70cb8ec1f3b4b72cad7a5ce3"
DCGAN_FASHION_MNIST_EPOCH1_SHA256 = (
    "873cccec1dcc9af31bc6b5b62b0e8751d6af4f04177909746fdd92f5cedcdf3b"
)
CDCGAN_PROJECTION_SHA256 = "6f4a3084e2f616f72168f5ad0e56c2517edab7833f984bd3bf64e935b0ca5699"
CDCGAN_CLASSES_SHA256 = "3a531c4458a198d84e8b61302ece535261e13a889cbd674224ed7d7007a6c4dd"
CLASSIFIER_FASHION_MNIST_SHA256 = "3b1c548753c9f8b0fa1e271aa64f9d0a73cee5b4717546b0f6135d22e875c00d"


def load_pretrained(
    name: str, device: torch.device | str = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """(model in eval mode, meta) of a shipped model, its file checked against the SHA-256 listed
    here before loading (``weights_only=True``). ``meta["command"]`` is how it was trained.

    Names: "dcgan_fashion_mnist" (chapter 4's generator), "dcgan_fashion_mnist_epoch1" (the
    same run after its first epoch, chapter 5), "classifier_fashion_mnist" (the small
    CNN that names the class of an image, chapters 4 and 5), "cdcgan_fashion_mnist_projection"
    and "cdcgan_fashion_mnist_classes" (chapter 6's class-conditional generators, trained
    against a projection and a (C + 1)-way discriminator).
    """
    from importlib.resources import files

    registry = _pretrained()
    if name not in registry:
        raise ValueError(f"unknown pretrained model {name!r}; expected one of {sorted(registry)}")
    entry = registry[name]
    model = entry.build()
    path = Path(str(files("ganlab").joinpath("weights", entry.file)))
    meta = load_checkpoint(path, model, sha256=entry.sha256)
    return model.to(device).eval(), meta
