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
