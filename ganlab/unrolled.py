"""Unrolled GANs (Metz et al. 2017): G steps against D's look-ahead.

    theta_0 = D's weights
    theta_{i+1} = update(theta_i, grad d_loss(D_theta_i(x_i), D_theta_i(G(z_i))))   i < k
    G descends g_loss(D_theta_k(G(z)))

where ``update`` is D's own optimiser (plain SGD or Adam) replayed differentiably, so that
G's gradient sees how D would answer its move. D itself is not changed: in ``train.fit``
(``unroll_steps=k``) the real D still takes its ``d_steps`` updates, and ``g_step_unrolled``
replaces ``g_step``. ``lookahead_rule`` is the replayed update, ``unrolled_parameters`` the
look-ahead theta_k.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.func import functional_call

from ganlab.gradients import grad_norm
from ganlab.losses import DLoss, GLoss


def lookahead_rule(opt_D: torch.optim.Optimizer) -> Callable[..., torch.Tensor]:
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
    rule = lookahead_rule(opt_D)
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
    params = unrolled_parameters(G, D, batches, d_loss, opt_D)
    loss_G = g_loss(functional_call(D, params, (G(z),)))
    opt_G.zero_grad(set_to_none=True)
    loss_G.backward()
    norm = grad_norm(G)
    if torch.isfinite(loss_G):
        opt_G.step()
    return {"loss_G": loss_G.item(), "grad_norm_G": norm}
