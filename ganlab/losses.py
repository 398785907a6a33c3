"""GAN losses as pure functions of D's raw scores.

Conventions (the whole book uses them):
- ``d_real`` = D's raw scores (logits) on real samples, ``d_fake`` on generated ones;
  D(x) = sigmoid(score) is the probability that x is real (1 = real, 0 = fake).
- Arguments always come in the order ``(d_real, d_fake)``.
- Every ``*_loss_*`` returns the scalar that its player *minimises*.
- log D = logsigmoid(score) and log(1 - D) = logsigmoid(-score): exact and finite
  for any score, where ``log(sigmoid(s))`` underflows to -inf near s = -100.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ganlab._checks import class_labels

DLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
GLoss = Callable[[torch.Tensor], torch.Tensor]


def _check_scores(name: str, scores: torch.Tensor) -> None:
    if not isinstance(scores, torch.Tensor) or not scores.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor of D's raw scores, got {scores!r}")
    if scores.numel() == 0:
        raise ValueError(f"{name} is empty: a loss needs at least one score")


def minimax_value(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """The value of the game (Goodfellow et al. 2014):
    V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))].

    D maximises V and G minimises it; V <= 0, and V = -log 4 when D = 1/2 everywhere.
    """
    _check_scores("d_real", d_real)
    _check_scores("d_fake", d_fake)
    return F.logsigmoid(d_real).mean() + F.logsigmoid(-d_fake).mean()


def d_loss_minimax(
    d_real: torch.Tensor, d_fake: torch.Tensor, real_label: float = 1.0
) -> torch.Tensor:
    """D's loss -V: binary cross-entropy, label ``real_label`` on reals, 0 on fakes.

    -E_x[y log D(x) + (1 - y) log(1 - D(x))] - E_z[log(1 - D(G(z)))], y = real_label.
    y = 1 gives exactly -V(D, G); y = 0.9 is one-sided label smoothing (Salimans et
    al. 2016): only the real label is smoothed, never the fake one.
    """
    _check_scores("d_real", d_real)
    _check_scores("d_fake", d_fake)
    if not 0.0 <= real_label <= 1.0:
        raise ValueError(f"real_label must lie in [0, 1], got {real_label!r}")
    y = real_label
    loss_real = -(y * F.logsigmoid(d_real) + (1 - y) * F.logsigmoid(-d_real))
    loss_fake = -F.logsigmoid(-d_fake)
    return loss_real.mean() + loss_fake.mean()


def g_loss_saturating(d_fake: torch.Tensor) -> torch.Tensor:
    """G's minimax loss E_z[log(1 - D(G(z)))], minimised by G.

    Its gradient with respect to the score s is -sigmoid(s) = -D(G(z)), which vanishes
    when D confidently rejects the fakes (D(G(z)) -> 0): the loss saturates.
    """
    _check_scores("d_fake", d_fake)
    return F.logsigmoid(-d_fake).mean()


def g_loss_nonsaturating(d_fake: torch.Tensor) -> torch.Tensor:
    """G's non-saturating loss -E_z[log D(G(z))]: cross-entropy of the fakes against label 1.

    Its gradient with respect to the score s is -(1 - D(G(z))), close to -1 exactly when
    D rejects the fakes: a stronger early gradient than the saturating loss's -D(G(z)). Sample
    by sample both vanish only where grad_x s does; averaged over samples they weigh the samples
    differently, so G's stationary points need not coincide.
    """
    _check_scores("d_fake", d_fake)
    return -F.logsigmoid(d_fake).mean()


def g_loss_flipped_labels(d_fake: torch.Tensor) -> torch.Tensor:
    """The non-saturating loss read as "flip the labels": BCE of D(G(z)) against label 1.

    binary_cross_entropy_with_logits(d_fake, 1) = -E_z[log D(G(z))], the same number as
    ``g_loss_nonsaturating``; written through PyTorch's BCE to show the identity.
    """
    _check_scores("d_fake", d_fake)
    return F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))


def g_loss_logit_gradient(kind: str, d_fake_prob: torch.Tensor) -> torch.Tensor:
    """d(loss_G)/d(score) for one fake sample, as a function of p = D(G(z)) = sigmoid(score).

    saturating: d/ds log(1 - sigmoid(s)) = -p;  non-saturating: d/ds -log sigmoid(s) = -(1 - p).
    Both are negative (G raises the score); the first vanishes as p -> 0, the second as p -> 1.
    """
    if not isinstance(d_fake_prob, torch.Tensor) or not d_fake_prob.is_floating_point():
        raise TypeError(f"d_fake_prob must be a floating-point tensor, got {d_fake_prob!r}")
    if not bool(((d_fake_prob >= 0) & (d_fake_prob <= 1)).all()):
        raise ValueError("d_fake_prob must hold probabilities D(G(z)) in [0, 1]")
    if kind == "saturating":
        return -d_fake_prob
    if kind == "nonsaturating":
        return -(1 - d_fake_prob)
    raise ValueError(f"unknown loss kind {kind!r}; expected 'saturating' or 'nonsaturating'")


def d_loss_wasserstein(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """The WGAN critic's loss E_z[D(G(z))] - E_x[D(x)] (Arjovsky et al. 2017).

    The scores are used raw, not as probabilities; the critic must be kept Lipschitz
    (weight clipping or a gradient penalty), or the loss is unbounded below.
    """
    _check_scores("d_real", d_real)
    _check_scores("d_fake", d_fake)
    return d_fake.mean() - d_real.mean()


def g_loss_wasserstein(d_fake: torch.Tensor) -> torch.Tensor:
    """The WGAN generator's loss -E_z[D(G(z))]."""
    _check_scores("d_fake", d_fake)
    return -d_fake.mean()


def d_loss_hinge(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """The hinge loss of D, E_x[max(0, 1 - D(x))] + E_z[max(0, 1 + D(G(z)))] (Lim & Ye 2017;
    Miyato et al. 2018). D's raw scores; a real scored above +1 or a fake below -1 costs nothing."""
    _check_scores("d_real", d_real)
    _check_scores("d_fake", d_fake)
    return F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()


def g_loss_hinge(d_fake: torch.Tensor) -> torch.Tensor:
    """G's loss in the hinge GAN, -E_z[D(G(z))]: the same as WGAN's generator loss."""
    _check_scores("d_fake", d_fake)
    return -d_fake.mean()


def d_loss_least_squares(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """LSGAN's D loss (Mao et al. 2017, targets a = 0 fake, b = 1 real):
    (1/2) E_x[(D(x) - 1)^2] + (1/2) E_z[D(G(z))^2], on D's raw scores (no sigmoid)."""
    _check_scores("d_real", d_real)
    _check_scores("d_fake", d_fake)
    return 0.5 * (d_real - 1).pow(2).mean() + 0.5 * d_fake.pow(2).mean()


def g_loss_least_squares(d_fake: torch.Tensor) -> torch.Tensor:
    """LSGAN's G loss (1/2) E_z[(D(G(z)) - 1)^2] (target c = 1): it keeps pulling fakes that
    D already scores as real but far from the data, where the sigmoid losses saturate."""
    _check_scores("d_fake", d_fake)
    return 0.5 * (d_fake - 1).pow(2).mean()


def d_loss_classes(
    logits_real: torch.Tensor, labels_real: torch.Tensor, logits_fake: torch.Tensor
) -> torch.Tensor:
    """D as a (C + 1)-way classifier (Salimans et al. 2016): cross-entropy of the real images
    against their class y and of the fakes against the extra class C ("fake"):
    -E_x[log p(y | x)] - E_z[log p(C | G(z))], logits (B, C + 1)."""
    _check_class_logits("logits_real", logits_real)
    _check_class_logits("logits_fake", logits_fake)
    if logits_real.shape[1] != logits_fake.shape[1]:
        raise ValueError(
            f"logits_real and logits_fake must have the same C + 1 columns, got "
            f"{logits_real.shape[1]} and {logits_fake.shape[1]}"
        )
    class_labels("labels_real (the classes of the real images)", labels_real,
                 logits_real.shape[1] - 1, len(logits_real))  # fmt: skip
    fake = torch.full((len(logits_fake),), logits_fake.shape[1] - 1, device=logits_fake.device)
    return F.cross_entropy(logits_real, labels_real) + F.cross_entropy(logits_fake, fake)


def g_loss_classes(logits_fake: torch.Tensor, labels_fake: torch.Tensor) -> torch.Tensor:
    """G's loss against a (C + 1)-way D: -E_z[log p(y | G(z, y))], the cross-entropy of its
    samples against the class it was asked for (non-saturating: it pulls away from "fake" and
    towards class y at once)."""
    _check_class_logits("logits_fake", logits_fake)
    class_labels("labels_fake (the classes asked of G)", labels_fake, logits_fake.shape[1] - 1,
                 len(logits_fake))  # fmt: skip
    return F.cross_entropy(logits_fake, labels_fake)


def _check_class_logits(name: str, logits: torch.Tensor) -> None:
    _check_scores(name, logits)
    if logits.dim() != 2 or logits.shape[1] < 2:
        raise ValueError(f"{name} must have shape (B, C + 1), got {tuple(logits.shape)}")


def input_gradients(D: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """grad_x D(x) per sample, flattened to (B, dim), with a graph so a penalty can be trained."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.dim() < 2:
        raise TypeError(f"x must be a floating-point batch of shape (B, ...), got {x!r}")
    x = x.detach().requires_grad_(True)
    scores = D(x)
    (grad,) = torch.autograd.grad(scores.sum(), x, create_graph=True)
    return grad.flatten(1)


def r1_penalty(
    D: Callable[[torch.Tensor], torch.Tensor], x_real: torch.Tensor, gamma: float
) -> torch.Tensor:
    """The zero-centred R1 penalty (gamma / 2) E_x[||grad_x D(x)||^2] on real data.

    Mescheder et al. (2018): added to D's loss, it makes the GAN game locally convergent.
    D(x) here is the raw score (logit). Differentiable in D's weights.
    """
    if not gamma >= 0:
        raise ValueError(f"gamma must be >= 0, got {gamma!r}")
    grad = input_gradients(D, x_real)
    return 0.5 * gamma * grad.pow(2).sum(dim=1).mean()


def gradient_penalty(
    D: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    lam: float,
    target: float = 1.0,
) -> torch.Tensor:
    """The one-centred penalty lam E[(||grad_x D(x)|| - target)^2] of WGAN-GP.

    Gulrajani et al. (2017) evaluate it at random interpolates between real and fake
    samples (pass those as ``x``) with lam = 10; ``wgan_gp`` does that. With target 0 it is
    R1's gradient term, with R1's gamma = 2 lam (R1 writes gamma / 2).
    """
    if not lam >= 0:
        raise ValueError(f"lam must be >= 0, got {lam!r}")
    grad = input_gradients(D, x)
    return lam * (grad.norm(dim=1) - target).pow(2).mean()


Penalty = Callable[
    [Callable[[torch.Tensor], torch.Tensor], torch.Tensor, torch.Tensor], torch.Tensor
]
"""A regulariser added to D's loss: ``penalty(D, x_real, x_fake) -> scalar``."""


def r1(gamma: float = 1.0) -> Penalty:
    """The R1 penalty as a ``Penalty`` for ``train.fit``: (gamma / 2) E_x ||grad_x D(x)||^2 on reals."""
    if not gamma >= 0:
        raise ValueError(f"gamma must be >= 0, got {gamma!r}")

    def penalty(D: Callable[[torch.Tensor], torch.Tensor], x_real: torch.Tensor,
                x_fake: torch.Tensor) -> torch.Tensor:  # fmt: skip
        return r1_penalty(D, x_real, gamma)

    penalty.__name__ = penalty.__qualname__ = f"r1({gamma:g})"  # what a printout shows
    return penalty


def wgan_gp(lam: float = 10.0) -> Penalty:
    """WGAN-GP's penalty (Gulrajani et al. 2017) as a ``Penalty``: lam E[(||grad D(x_hat)|| - 1)^2].

    x_hat = e x_real + (1 - e) x_fake with e ~ U(0, 1) per sample (drawn from torch's global
    generator, which ``train.seed_everything`` seeds, unless the call passes ``e``, shape (B,):
    ``batched`` draws each run's from its own generator). lam = 10 in the paper.
    """
    if not lam >= 0:
        raise ValueError(f"lam must be >= 0, got {lam!r}")

    def penalty(D: Callable[[torch.Tensor], torch.Tensor], x_real: torch.Tensor,
                x_fake: torch.Tensor, e: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
        if x_real.shape != x_fake.shape:
            raise ValueError(
                f"WGAN-GP interpolates real and fake batches of one shape, got "
                f"{tuple(x_real.shape)} and {tuple(x_fake.shape)}"
            )
        shape = (x_real.shape[0], *([1] * (x_real.dim() - 1)))  # one e per sample
        if e is None:
            e = torch.rand(shape, device=x_real.device)
        elif e.shape != x_real.shape[:1]:
            raise ValueError(
                f"e must hold one interpolation weight per sample, shape ({x_real.shape[0]},), "
                f"got {tuple(e.shape)}"
            )
        e = e.reshape(shape)
        x_hat = e * x_real.detach() + (1 - e) * x_fake.detach()
        return gradient_penalty(D, x_hat, lam)

    penalty.__name__ = penalty.__qualname__ = f"wgan_gp({lam:g})"  # what a printout shows
    return penalty


GAN_LOSSES: dict[str, tuple[DLoss, GLoss]] = {
    "saturating": (d_loss_minimax, g_loss_saturating),
    "nonsaturating": (d_loss_minimax, g_loss_nonsaturating),
    "wasserstein": (d_loss_wasserstein, g_loss_wasserstein),
    "hinge": (d_loss_hinge, g_loss_hinge),
    "least_squares": (d_loss_least_squares, g_loss_least_squares),
}
"""Loss name -> (D loss, G loss). "saturating" is the minimax game of the 2014 paper as
written; "nonsaturating" is the variant the same paper recommends in practice;
"wasserstein" is WGAN's, which needs a Lipschitz critic (train it with ``wgan_gp``);
"hinge" and "least_squares" are the hinge GAN's and LSGAN's."""


def get_losses(name: str) -> tuple[DLoss, GLoss]:
    """The (D loss, G loss) pair called ``name`` in ``GAN_LOSSES``."""
    if name not in GAN_LOSSES:
        raise ValueError(f"unknown loss kind {name!r}; expected one of {sorted(GAN_LOSSES)}")
    return GAN_LOSSES[name]
