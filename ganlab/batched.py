"""Many small GANs trained at once: S independent runs of Algorithm 1 in one set of tensor ops.

A 3 x 64 MLP step is too small to keep a CPU busy: the time goes to Python and to launching
operations, not to arithmetic. Stacking S runs makes every layer one batched matmul,

    y_s = x_s W_s + b_s  for s = 1..S,   torch.baddbmm(b, x, W):  (S, B, in) x (S, in, out),

so one set of operations trains all of them. Nothing is shared between runs: each has its
own weights (stacked along dim 0), its own real batches and noise (its own generator, drawn in
the same order as ``train.fit``), and its own Adam moments (Adam acts element by element, so
one Adam over the stacked tensors is S Adams). The loss of the batch is the sum of the runs'
losses, sum_s L_s(theta_s), whose gradient in theta_s is grad L_s: the runs train as if alone.
The losses are those of ``ganlab.losses``, applied per run with ``torch.func.vmap``.

``stack_players`` builds the stacked G and D from S seeds (as ``fit``'s callers do), ``fit_many``
trains them, ``unstack`` gives run s back as an ordinary module.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.func import vmap

from ganlab._checks import as_generator, positive_int, restores_global_rng, seed_torch
from ganlab.gradients import frozen
from ganlab.losses import DLoss, GLoss, Penalty, d_loss_minimax
from ganlab.models import (
    ACTIVATIONS,
    MinibatchStd,
    MinibatchStdDiscriminator,
    MLPDiscriminator,
    MLPGenerator,
    PackedDiscriminator,
)
from ganlab.train import (
    Data,
    FitConfig,
    History,
    clip_weights,
    configure,
    make_optimizers,
    sample_noise,
    sample_real,
)
from ganlab.unrolled import unrolled_parameters

STACKABLE = (MLPGenerator, MLPDiscriminator, PackedDiscriminator, MinibatchStdDiscriminator)
"""The models ``StackedMLP`` can stack: the MLPs of ``ganlab.models``."""


class StackedMLP(nn.Module):
    """S models of one MLP architecture as one module: x (S, B, in) -> (S, B, out) or (S, B').

    Linear layer i of run s is ``weight{i}[s]`` (in, out) and ``bias{i}[s]`` (1, out):
    x_s -> x_s W_s + b_s by one ``torch.baddbmm`` for all runs. Activations act element by
    element; ``MinibatchStd`` acts per run (``vmap``); a ``PackedDiscriminator`` first reshapes
    each run's batch into packs, (S, B, d) -> (S, B / pack, pack d). A discriminator's scores
    are (S, B') like the single model's (B',); a generator's samples (S, B, out_dim).
    """

    def __init__(self, models: Sequence[nn.Module]) -> None:
        super().__init__()
        models = list(models)
        if not models:
            raise ValueError("StackedMLP needs at least one model, got none")
        kind = type(models[0])
        if kind not in STACKABLE:
            names = ", ".join(k.__name__ for k in STACKABLE)
            raise TypeError(f"StackedMLP stacks {names}; got a {kind.__name__}")
        shapes = [[tuple(p.shape) for p in m.parameters()] for m in models]
        for s, (model, shape) in enumerate(zip(models, shapes, strict=True)):
            if type(model) is not kind or shape != shapes[0]:
                raise ValueError(
                    f"every model must be a {kind.__name__} with parameter shapes {shapes[0]}; "
                    f"model {s} is a {type(model).__name__} with {shape}"
                )
        # a plain attribute, not a submodule: its parameters are not the stack's
        self._template = (copy.deepcopy(models[0]),)
        self.runs = len(models)
        self.in_dim = getattr(models[0], "latent_dim", getattr(models[0], "in_dim", None))
        self.pack = getattr(models[0], "pack", 1)
        self.is_discriminator = kind is not MLPGenerator
        self.layers: list[str | nn.Module] = []  # "linear{i}" or an element-wise/per-run module
        linear = 0
        for position, layer in enumerate(models[0].net):
            if isinstance(layer, nn.Linear):  # stored as (S, in, out): x W, not x W^T
                weights = torch.stack([m.net[position].weight.detach().T for m in models])
                biases = torch.stack([m.net[position].bias.detach()[None] for m in models])
                self.register_parameter(f"weight{linear}", nn.Parameter(weights.contiguous()))
                self.register_parameter(f"bias{linear}", nn.Parameter(biases.contiguous()))
                self.layers.append(f"linear{linear}")
                linear += 1
            elif isinstance(layer, (MinibatchStd, *ACTIVATIONS.values())):
                self.layers.append(layer)
            else:
                raise TypeError(f"StackedMLP cannot stack a {type(layer).__name__} layer")
        self.n_linear = linear
        self.samplewise = not any(isinstance(layer, MinibatchStd) for layer in self.layers)
        """True when a sample's output depends on that sample alone (no batch statistics)."""

    @property
    def template(self) -> nn.Module:
        """A copy of run 0's model as it was stacked: the architecture to unstack into."""
        return self._template[0]

    @property
    def latent_dim(self) -> int:
        """A generator's latent dimension (what ``train.sample_noise`` reads)."""
        return self.template.latent_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[0] != self.runs or x.shape[2] != self.in_dim:
            raise ValueError(
                f"x must have shape (S, B, in) = ({self.runs}, B, {self.in_dim}) for "
                f"{self.runs} stacked {type(self.template).__name__}s, got {tuple(x.shape)}"
            )
        if self.pack > 1:
            if x.shape[1] % self.pack:
                raise ValueError(
                    f"PacGAN needs a batch that is a multiple of pack = {self.pack}, "
                    f"got {x.shape[1]} samples per run"
                )
            x = x.reshape(self.runs, -1, self.pack * self.in_dim)  # (S, B / pack, pack d)
        relu_in_place = False
        for layer in self.layers:
            if isinstance(layer, str):
                i = layer.removeprefix("linear")
                x = torch.baddbmm(getattr(self, f"bias{i}"), x, getattr(self, f"weight{i}"))
                relu_in_place = True  # baddbmm's output is fresh and its backward needs x, not it
            elif isinstance(layer, nn.ReLU) and relu_in_place:
                x = torch.relu_(x)
            elif isinstance(layer, MinibatchStd):
                x = vmap(layer)(x)  # the batch's std, each run's own
                relu_in_place = False
            else:
                x = layer(x)
                relu_in_place = False
        return x.squeeze(2) if self.is_discriminator else x  # (S, B') scores or (S, B, out)

    def unstack(self, s: int) -> nn.Module:
        """Run s as an ordinary model (a copy; its weights are run s's now)."""
        if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < self.runs:
            raise ValueError(f"s must be a run index in [0, {self.runs}), got {s!r}")
        model = copy.deepcopy(self.template)
        linears = [m for m in model.net if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for i, layer in enumerate(linears):
                layer.weight.copy_(getattr(self, f"weight{i}")[s].T)
                layer.bias.copy_(getattr(self, f"bias{i}")[s, 0])
        return model

    @torch.no_grad()
    def sample(self, n: int, seed: int | torch.Generator | None = None) -> torch.Tensor:
        """Every run's G(z) on the same n latents z ~ N(0, I) (as ``G.sample(n, seed)`` would
        draw them), shape (S, n, out_dim)."""
        if self.is_discriminator:
            raise TypeError("sample needs stacked generators, these are discriminators")
        z = self.template.sample_latent(n, seed).to(self.weight0.device)
        return self(z.expand(self.runs, -1, -1))


@restores_global_rng
def stack_players(
    build: Callable[[], tuple[nn.Module, nn.Module]], seeds: Sequence[int]
) -> tuple[StackedMLP, StackedMLP, list[torch.Generator]]:
    """(stacked G, stacked D, global generators) of S runs: for each seed, torch's global
    generator seeded with it (as by ``seed_everything(seed)``), then ``G, D = build()``, as a
    caller of ``fit`` does. The caller's global random state is restored afterwards.

    The third item holds, per run, torch's global random state just after its build: what that
    run's ``fit`` would draw WGAN-GP's interpolation weights from (``fit_many``'s
    ``penalty_generators``).
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must name at least one run, got none")
    Gs, Ds, states = [], [], []
    for seed in seeds:
        seed_torch(seed)
        G, D = build()
        Gs.append(G)
        Ds.append(D)
        states.append(torch.Generator().set_state(torch.get_rng_state()))
    return StackedMLP(Gs), StackedMLP(Ds), states


def per_run(loss: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """``loss`` applied to each run's scores: (S, B) scores -> (S,) losses, by ``vmap``."""
    return vmap(loss)


def _grad_norms(module: StackedMLP) -> torch.Tensor:
    """Each run's global gradient norm sqrt(sum_p ||grad p_s||^2), shape (S,)."""
    squares = [p.grad.pow(2).flatten(1).sum(1) for p in module.parameters() if p.grad is not None]
    if not squares:
        return torch.zeros(module.runs)
    return torch.stack(squares).sum(0).sqrt()


def _flat(D: StackedMLP, runs: int) -> Callable[[torch.Tensor], torch.Tensor]:
    """D as a function of the runs' samples laid end to end: (S B, d) -> (S B',)."""

    def flat_D(x: torch.Tensor) -> torch.Tensor:
        return D(x.reshape(runs, -1, x.shape[-1])).reshape(-1)

    return flat_D


def d_step_many(
    G: StackedMLP,
    D: StackedMLP,
    x_real: torch.Tensor,
    z: torch.Tensor,
    opt_D: torch.optim.Optimizer,
    d_loss: DLoss = d_loss_minimax,
    penalty: Penalty | None = None,
    e: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """One D update of every run: descend sum_s [d_loss(D_s(x_real_s), D_s(G_s(z_s))) + P_s].

    ``train.d_step`` for S runs; x_real (S, B, d), z (S, B, latent). The penalty P (e.g.
    ``losses.wgan_gp``) sees the runs' batches end to end, (S B, d): its mean over S B is
    (1/S) sum_s P_s, so S times it is the sum. ``e`` (S, B): WGAN-GP's interpolation weights.
    Returns per-run stats, each (S,): loss_D (without the penalty), p_real, p_fake (mean
    probabilities), grad_norm_D.
    """
    runs, batch = x_real.shape[:2]
    with torch.no_grad():
        x_fake = G(z)  # (S, B, d)
    # Two passes, as d_step: one pass over both batches would sum D's gradient in another
    # order, and a WGAN critic's real and fake terms, which cancel exactly in fit, would leave
    # rounding that Adam scales up to a step of size lr.
    d_real, d_fake = D(x_real), D(x_fake)
    loss_D = per_run(d_loss)(d_real, d_fake)  # (S,)
    total = loss_D.sum()
    if penalty is not None:
        flat = (_flat(D, runs), x_real.reshape(runs * batch, -1), x_fake.reshape(runs * batch, -1))
        extra = {} if e is None else {"e": e.reshape(-1)}
        total = total + runs * penalty(*flat, **extra)
    opt_D.zero_grad(set_to_none=True)
    total.backward()
    opt_D.step()
    with torch.no_grad():
        return {
            "loss_D": loss_D.detach(),
            "p_real": torch.sigmoid(d_real).mean(1),
            "p_fake": torch.sigmoid(d_fake).mean(1),
            "grad_norm_D": _grad_norms(D),
        }


def g_step_many(
    G: StackedMLP,
    D: StackedMLP,
    z: torch.Tensor,
    opt_G: torch.optim.Optimizer,
    g_loss: GLoss,
    d_loss: DLoss | None = None,
    batches: Sequence[tuple[torch.Tensor, torch.Tensor]] = (),
    opt_D: torch.optim.Optimizer | None = None,
) -> dict[str, torch.Tensor]:
    """One G update of every run: descend sum_s g_loss(D_s(G_s(z_s))), only G steps.

    ``train.g_step`` for S runs, z (S, B, latent). With ``batches`` (k pairs of (x_real, z),
    each (S, B, .)) it is ``unrolled.g_step_unrolled``: D_s is replaced by D unrolled k steps of
    ``opt_D`` by ``unrolled.unrolled_parameters`` (its loss summed over runs). Returns per-run
    loss_G and grad_norm_G, each (S,).
    """
    if batches:
        from torch.func import functional_call

        summed = lambda d_real, d_fake: per_run(d_loss)(d_real, d_fake).sum()  # noqa: E731
        params = unrolled_parameters(G, D, batches, summed, opt_D)
        loss_G = per_run(g_loss)(functional_call(D, params, (G(z),)))
    else:
        with frozen(D):  # backpropagate through D to x, but skip D's weight gradients
            loss_G = per_run(g_loss)(D(G(z)))
    opt_G.zero_grad(set_to_none=True)
    loss_G.sum().backward()
    opt_G.step()
    return {"loss_G": loss_G.detach(), "grad_norm_G": _grad_norms(G)}


def diverged(history: History) -> tuple[int, str, float] | None:
    """(step, loss name, value) of the first non-finite loss of a run, or None."""
    for i, step in enumerate(history.step):
        for name in ("loss_D", "loss_G"):
            value = getattr(history, name)[i]
            if not math.isfinite(value):
                return step, name, value
    return None


def _each(name: str, value: object, runs: int) -> list:
    """``value`` once per run: a sequence of length ``runs``, or one value repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != runs:
            raise ValueError(f"{name} must hold one entry per run ({runs}), got {len(value)}")
        return list(value)
    return [value] * runs


def adam_for(module: nn.Module, lr: float, betas: tuple[float, float]) -> torch.optim.Adam:
    """Adam over a stacked module's parameters: per element, so S independent Adams.
    Fused on the CPU (one kernel for all tensors) where this torch has it."""
    try:
        return torch.optim.Adam(module.parameters(), lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(module.parameters(), lr=lr, betas=betas)


def stacked_optimizers(
    config: FitConfig, G: StackedMLP, D: StackedMLP
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """``train.make_optimizers`` for stacked players: (opt_D, opt_G), Adam by ``adam_for``."""
    if config.optimizer == "adam":
        return adam_for(D, config.lr_D, config.betas), adam_for(G, config.lr_G, config.betas)
    return make_optimizers(config, G, D)  # RMSprop and SGD are element-wise too


def fit_many(
    G: StackedMLP,
    D: StackedMLP,
    data: Data | Sequence[Data],
    steps: int,
    config: FitConfig | None = None,
    *,
    seeds: Sequence[int | torch.Generator],
    penalty_generators: Sequence[torch.Generator] | None = None,
    opt_D: torch.optim.Optimizer | None = None,
    opt_G: torch.optim.Optimizer | None = None,
    histories: list[History] | None = None,
    callback: Callable[[int, list[History], StackedMLP, StackedMLP], None] | None = None,
    every: int = 100,
    **settings: Any,
) -> list[History]:
    """``train.fit`` for S stacked runs: run s sees exactly the batches ``fit(..., seed=seeds[s])``
    would draw, from its own generator, and takes the same steps up to rounding.

    Args:
        G, D: ``StackedMLP`` generators and discriminators (``stack_players``).
        data: one sampler for every run, or one per run (e.g. some rings, some grids).
        seeds: one per run, an int or a generator to continue (``as_generator``).
        penalty_generators: one per run, what that run's WGAN-GP penalty draws its
            interpolation weights from (``fit`` uses torch's global generator;
            ``stack_players`` returns its state after each run's build). By default the
            penalty draws from the global generator for all runs at once.
        config, settings: how to train, a ``train.FitConfig`` as for ``fit``. Its
            ``weight_clip`` clamps every run's D parameters into [-c, c] after every D step
            (``train.clip_weights``): w <- min(max(w, -c), c) acts element by element, so on
            the stacked D it is each run's own clamp.
        opt_D, opt_G, histories: to continue; by default the config's optimiser over the
            stacked parameters (``stacked_optimizers``) and one new History per run. Any
            element-wise optimiser over the stacked parameters is S optimisers, one per run:
            Adam, or RMSprop (the WGAN paper's), whose step
            v <- alpha v + (1 - alpha) g^2, w <- w - lr g / (sqrt(v) + eps) is per element.
        callback: ``f(step, histories, G, D)`` every ``every`` steps and at the end.
    Other arguments as ``train.fit``. A run whose loss becomes NaN or infinite is not stopped:
    it touches no other run, and ``diverged(history)`` finds the step. Returns the Histories.
    """
    config = configure(config, **settings)
    positive_int("steps", steps)
    positive_int("every", every)
    for name, module in (("G", G), ("D", D)):
        if not isinstance(module, StackedMLP):
            raise TypeError(f"{name} must be a StackedMLP (stack_players), got {type(module)}")
    if G.is_discriminator or not D.is_discriminator:
        raise ValueError("G must be stacked generators and D stacked discriminators")
    runs = G.runs
    if D.runs != runs:
        raise ValueError(f"G stacks {runs} runs but D stacks {D.runs}: they must agree")
    batch_size, d_steps, penalty = config.batch_size, config.d_steps, config.penalty
    if batch_size % D.pack:
        raise ValueError(f"batch_size must be a multiple of D's pack {D.pack}, got {batch_size}")
    d_loss, g_loss = config.losses()
    datas = _each("data", data, runs)
    generators = [as_generator(seed) for seed in _each("seeds", list(seeds), runs)]
    draws_e = penalty is not None and "e" in inspect.signature(penalty).parameters
    if penalty_generators is not None:
        penalty_generators = _each("penalty_generators", list(penalty_generators), runs)
    if opt_D is None or opt_G is None:
        made_D, made_G = stacked_optimizers(config, G, D)
        opt_D, opt_G = opt_D or made_D, opt_G or made_G
    histories = [History() for _ in range(runs)] if histories is None else histories
    if len(histories) != runs:
        raise ValueError(f"histories must hold one History per run ({runs}), got {len(histories)}")
    device = D.weight0.device
    template = G.template

    def real() -> torch.Tensor:  # (S, B, d): run s's batch from its data and its generator
        return torch.stack([sample_real(datas[s], batch_size, generators[s], device)
                            for s in range(runs)])  # fmt: skip

    def noise() -> torch.Tensor:  # (S, B, latent)
        return torch.stack([sample_noise(template, batch_size, generators[s], device)
                            for s in range(runs)])  # fmt: skip

    def interpolation_weights() -> torch.Tensor | None:  # (S, B): each run's own e
        if not draws_e or penalty_generators is None:
            return None
        return torch.stack([torch.rand(batch_size, generator=g) for g in penalty_generators])

    first = histories[0].step[-1] + 1 if histories[0].step else 1
    G.train()
    D.train()
    for step in range(first, first + steps):
        for _ in range(d_steps):
            x_real = real()
            z = noise()  # drawn after x_real, as fit draws them
            d_stats = d_step_many(G, D, x_real, z, opt_D, d_loss, penalty,
                                  interpolation_weights())  # fmt: skip
            if config.weight_clip is not None:  # element-wise: each run's D clamped alone
                clip_weights(D, config.weight_clip)
        z = noise()
        batches = [(real(), noise()) for _ in range(config.unroll_steps)]
        g_stats = g_step_many(G, D, z, opt_G, g_loss, d_loss, batches, opt_D)
        columns = {k: v.tolist() for k, v in (d_stats | g_stats).items()}
        for s, history in enumerate(histories):
            history.append(step, {k: v[s] for k, v in columns.items()},
                           {k: v[s] for k, v in columns.items()})  # fmt: skip
        if callback is not None and (step % every == 0 or step == first + steps - 1):
            callback(step, histories, G, D)
    return histories
