"""Training on images: the DCGAN loop (Radford et al. 2016), and a classifier.

For each batch of real images: one fake batch x_fake = G(z), one D update, then one G update
through the updated D on the same fakes (Algorithm 1 with k = 1: ``adversarial_step``, or
``conditional_step`` for a class-conditional pair). ``fit_epochs`` runs it over shuffled
epochs with Adam(2e-4, beta1 = 0.5), saving a checkpoint (``ganlab.checkpoints``) after every
epoch and resuming from it; ``fit_classifier`` trains the small CNN that names the class of an
image (chapters 4 to 6).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganlab._checks import class_labels, positive_int
from ganlab.checkpoints import CheckpointError, checkpoint_meta, load_checkpoint, save_checkpoint
from ganlab.gradients import frozen, grad_norm
from ganlab.losses import (
    DLoss,
    GLoss,
    d_loss_classes,
    d_loss_minimax,
    g_loss_classes,
    g_loss_nonsaturating,
)
from ganlab.models import (
    ClassifyingDiscriminator,
    ConditionalDiscriminator,
    ProjectionDiscriminator,
)
from ganlab.train import (
    FitConfig,
    History,
    check_finite,
    configure,
    make_optimizers,
    sample_noise,
)


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
    D: ConditionalDiscriminator,
    x_real: torch.Tensor,
    y_real: torch.Tensor,
    z: torch.Tensor,
    y_fake: torch.Tensor,
    opt_D: torch.optim.Optimizer,
    opt_G: torch.optim.Optimizer,
) -> tuple[dict[str, float], dict[str, float]]:
    """``adversarial_step`` for a class-conditional pair, x_fake = G(z, y_fake), with the losses
    of D's kind:

        ProjectionDiscriminator:  D descends d_loss_minimax(D(x_real, y_real), D(x_fake, y_fake)),
                                  G descends g_loss_nonsaturating(D(x_fake, y_fake));
        ClassifyingDiscriminator: D descends d_loss_classes(D(x_real), y_real, D(x_fake)),
                                  G descends g_loss_classes(D(x_fake), y_fake).

    G steps through the updated D, G's parameters only. ``p_real``/``p_fake`` in the stats
    are the mean sigmoid of D's realness logits (``D.realness``)."""
    x_fake = G(z, y_fake)
    if isinstance(D, ClassifyingDiscriminator):
        class_labels("y_real (the classes of the real images)", y_real, D.classes, len(x_real))
        class_labels("y_fake (the classes asked of G)", y_fake, D.classes, len(x_fake))
        logits_real, logits_fake = D(x_real), D(x_fake.detach())
        loss_D = d_loss_classes(logits_real, y_real, logits_fake)
        realness = (D.real_logit(logits_real), D.real_logit(logits_fake))
        return _update_d_then_g(G, D, opt_D, opt_G, loss_D, realness,
                                lambda: g_loss_classes(D(x_fake), y_fake))  # fmt: skip
    if not isinstance(D, ProjectionDiscriminator):
        raise TypeError(f"D must be a conditional discriminator of models, got {type(D).__name__}")
    d_real, d_fake = D(x_real, y_real), D(x_fake.detach(), y_fake)
    return _update_d_then_g(G, D, opt_D, opt_G, d_loss_minimax(d_real, d_fake), (d_real, d_fake),
                            lambda: g_loss_nonsaturating(D(x_fake, y_fake)))  # fmt: skip


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
    with frozen(D):  # G's step through the updated D, as train.g_step
        loss_G = loss_G_after()
        opt_G.zero_grad(set_to_none=True)
        loss_G.backward()
    norm_G = grad_norm(G)
    if torch.isfinite(loss_G):
        opt_G.step()
    d_stats = {
        "loss_D": loss_D.item(),
        "p_real": torch.sigmoid(logits[0]).mean().item(),
        "p_fake": torch.sigmoid(logits[1]).mean().item(),
        "grad_norm_D": norm_D,
    }
    return d_stats, {"loss_G": loss_G.item(), "grad_norm_G": norm_G}


DCGAN = FitConfig(batch_size=128, lr_D=2e-4, lr_G=2e-4)
"""DCGAN's settings (Radford et al. 2016): minibatches of 128, Adam(2e-4, beta1 = 0.5) for both."""


def fit_epochs(
    G: nn.Module,
    D: nn.Module,
    images: torch.Tensor,
    epochs: int,
    config: FitConfig = DCGAN,
    *,
    labels: torch.Tensor | None = None,
    seed: int = 0,
    checkpoint: str | os.PathLike[str] | None = None,
    callback: Callable[[int, History, nn.Module, nn.Module], None] | None = None,
    progress: bool = True,
    settings: dict[str, Any] | None = None,
    precision: torch.dtype = torch.float32,
    **overrides: Any,
) -> History:
    """Train G and D for ``epochs`` passes over ``images`` (N, C, H, W) in shuffled batches of
    ``batch_size`` (the last partial batch is dropped), one ``adversarial_step`` per batch.
    ``config`` (default ``DCGAN``) with ``overrides`` replacing its fields, e.g.
    ``batch_size=64``, sets the loss, the batch size and the optimisers; the loop is k = 1
    with no penalty, clipping or unrolling, so a config that asks for those is refused.

    With ``labels`` (N,) the pair is class-conditional (``models.ConditionalDCGANGenerator`` and
    a ``models.ConditionalDiscriminator``): each step is a ``conditional_step``, the fakes asked
    for uniformly random classes, and ``loss`` is ignored (the discriminator brings its own).

    With ``checkpoint`` the models, optimisers, random state and history are saved there
    atomically after every epoch, and a run started with an existing checkpoint resumes after
    its last finished epoch (same seed: the same result as an uninterrupted run). The
    checkpoint records the run's settings (seed, the config's changes from ``FitConfig()``, the images'
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

    config = configure(config, **overrides)
    unsupported = {"penalty", "weight_clip", "d_steps", "unroll_steps", "real_label"}
    asked = sorted(unsupported & set(config.changes()))
    if asked:
        raise ValueError(f"fit_epochs trains one D and one G step per batch, without {asked}")
    positive_int("epochs", epochs)
    batch_size, loss = config.batch_size, config.loss
    d_loss, g_loss = config.losses()
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
        classes = {getattr(G, "classes", None), getattr(D, "classes", None)}
        if len(classes) != 1 or None in classes:
            raise ValueError(
                f"training with labels needs a conditional G and D with the same number of "
                f"classes, got {type(G).__name__} ({getattr(G, 'classes', None)} classes) and "
                f"{type(D).__name__} ({getattr(D, 'classes', None)})"
            )
        class_labels("labels (one class per image)", labels, G.classes, len(images))
    device = next(G.parameters()).device
    opt_D, opt_G = make_optimizers(config, G, D)
    generator = torch.Generator().manual_seed(seed)
    history, done = History(), 0
    recorded = {"seed": seed, "batch_size": batch_size, "lr_D": float(config.lr_D),
                "lr_G": float(config.lr_G), "optimizer": config.optimizer,
                "betas": list(config.betas), "loss": "conditional" if labels is not None else loss,
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
            check_finite(step, d_stats, "loss_D", history)
            check_finite(step, g_stats, "loss_G", history)
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
