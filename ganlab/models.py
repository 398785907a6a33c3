"""Generators and discriminators.

G maps noise z ~ N(0, I) to a sample; D maps a sample to a raw score (a logit):
D(x) = sigmoid(score) is "the probability that x is real". No model ends in a
sigmoid; the losses in ``ganlab.losses`` work on the raw scores.
"""

from __future__ import annotations

import torch
from torch import nn

from ganlab._checks import as_generator, batch_of_vectors, positive_int

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
}
"""Name -> activation module, for the ``activation`` argument of the MLPs."""


def mlp(in_dim: int, out_dim: int, width: int, depth: int, activation: str) -> nn.Sequential:
    """``depth`` hidden layers of ``width`` units with ``activation``, then a linear output layer."""
    positive_int("in_dim", in_dim)
    positive_int("out_dim", out_dim)
    positive_int("width", width)
    positive_int("depth", depth)
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}; expected one of {sorted(ACTIVATIONS)}"
        )
    layers: list[nn.Module] = []
    dims = [in_dim] + [width] * depth
    for d_in, d_out in zip(dims[:-1], dims[1:], strict=True):
        layers += [nn.Linear(d_in, d_out), ACTIVATIONS[activation]()]
    layers.append(nn.Linear(dims[-1], out_dim))
    return nn.Sequential(*layers)


class MLPGenerator(nn.Module):
    """G: z (B, latent_dim) -> x (B, out_dim), an MLP with a linear output layer."""

    def __init__(
        self,
        latent_dim: int = 2,
        out_dim: int = 2,
        width: int = 64,
        depth: int = 3,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.latent_dim = positive_int("latent_dim", latent_dim)
        self.out_dim = positive_int("out_dim", out_dim)
        self.net = mlp(latent_dim, out_dim, width, depth, activation)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        batch_of_vectors("z (the generator's latent input)", z, self.latent_dim)
        return self.net(z)  # (B, out_dim)

    def sample_latent(self, n: int, seed: int | torch.Generator | None = None) -> torch.Tensor:
        """z ~ N(0, I), shape (n, latent_dim), on the model's device."""
        positive_int("n", n)
        z = torch.randn(n, self.latent_dim, generator=as_generator(seed))
        return z.to(next(self.parameters()).device)

    @torch.no_grad()
    def sample(self, n: int, seed: int | torch.Generator | None = None) -> torch.Tensor:
        """x = G(z) for n fresh z ~ N(0, I), without gradients, shape (n, out_dim)."""
        return self(self.sample_latent(n, seed))


class MLPDiscriminator(nn.Module):
    """D: x (B, in_dim) -> raw score (B,); sigmoid(score) is the probability that x is real."""

    def __init__(
        self,
        in_dim: int = 2,
        width: int = 64,
        depth: int = 3,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.in_dim = positive_int("in_dim", in_dim)
        self.net = mlp(in_dim, 1, width, depth, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch_of_vectors("x (the discriminator's input)", x, self.in_dim)
        return self.net(x).squeeze(1)  # (B,)

    @torch.no_grad()
    def prob_real(self, x: torch.Tensor) -> torch.Tensor:
        """D(x) = sigmoid(score), shape (B,)."""
        return torch.sigmoid(self(x))


class PackedDiscriminator(nn.Module):
    """PacGAN (Lin et al. 2018): D judges ``pack`` samples at once, concatenated.

    x (B, dim) -> B / pack groups of ``pack`` consecutive samples -> (B / pack, pack * dim)
    -> an MLP -> one score per group, shape (B / pack,). A group is all real or all fake,
    so a generator that repeats itself is easy to spot: a pack of near-identical samples
    looks nothing like a pack of independent real ones. B must be a multiple of ``pack``.
    """

    def __init__(
        self,
        in_dim: int = 2,
        pack: int = 2,
        width: int = 64,
        depth: int = 3,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.in_dim = positive_int("in_dim", in_dim)
        self.pack = positive_int("pack", pack)
        self.net = mlp(in_dim * pack, 1, width, depth, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch_of_vectors("x (the discriminator's input)", x, self.in_dim)
        if x.shape[0] % self.pack:
            raise ValueError(
                f"PacGAN needs a batch that is a multiple of pack = {self.pack}, "
                f"got {x.shape[0]} samples"
            )
        return self.net(x.reshape(-1, self.pack * self.in_dim)).squeeze(1)  # (B / pack,)


class MinibatchStd(nn.Module):
    """Append the batch's mean standard deviation as one more feature (Karras et al. 2018).

    h (B, F) -> (B, F + 1) with the extra column s = mean_f std_b(h[b, f]) for every row.
    A collapsed batch has a small s, so D can tell it from a real batch of the same size.
    """

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if h.shape[0] < 2:
            raise ValueError(
                f"minibatch standard deviation needs a batch of >= 2, got {h.shape[0]}"
            )
        s = h.std(dim=0, unbiased=False).mean()
        return torch.cat([h, s.expand(h.shape[0], 1)], dim=1)


class MinibatchStdDiscriminator(nn.Module):
    """An MLP discriminator whose last layer also sees the batch's spread (``MinibatchStd``).

    x (B, in_dim) -> hidden features (B, width) -> + 1 minibatch-std column -> score (B,).
    D must see real and fake batches separately (``train.d_step`` does) for s to mean anything.
    """

    def __init__(
        self,
        in_dim: int = 2,
        width: int = 64,
        depth: int = 3,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.in_dim = positive_int("in_dim", in_dim)
        hidden = mlp(in_dim, width, width, depth, activation)[:-1]  # drop mlp's output layer
        self.net = nn.Sequential(*hidden, MinibatchStd(), nn.Linear(width + 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch_of_vectors("x (the discriminator's input)", x, self.in_dim)
        return self.net(x).squeeze(1)  # (B,)
