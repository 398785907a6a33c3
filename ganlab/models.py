"""Generators and discriminators.

G maps noise z ~ N(0, I) to a sample; D maps a sample to a raw score (a logit):
D(x) = sigmoid(score) is "the probability that x is real". No model ends in a
sigmoid; the losses in ``ganlab.losses`` work on the raw scores.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def evaluating(*modules: nn.Module) -> Iterator[None]:
    """Put ``modules`` in eval mode (batch norm uses its running statistics) for a block, then
    give each back the mode it had, even if the block raises."""
    modes = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        yield
    finally:
        for m, mode in zip(modules, modes, strict=True):
            m.train(mode)


class LatentGenerator(nn.Module):
    """What every generator shares: z ~ N(0, I) of size ``latent_dim`` and ``sample``."""

    latent_dim: int

    def sample_latent(self, n: int, seed: int | torch.Generator | None = None) -> torch.Tensor:
        """z ~ N(0, I), shape (n, latent_dim), on the model's device."""
        positive_int("n", n)
        z = torch.randn(n, self.latent_dim, generator=as_generator(seed))
        return z.to(next(self.parameters()).device)

    @torch.no_grad()
    def sample(self, n: int, seed: int | torch.Generator | None = None) -> torch.Tensor:
        """x = G(z) for n fresh z ~ N(0, I), without gradients, in eval mode (batch norm, where
        there is one, uses its running statistics); the model's mode is restored."""
        with evaluating(self):
            return self(self.sample_latent(n, seed))


class MLPGenerator(LatentGenerator):
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


# ----------------------------------------------------------------------------- DCGAN (28 x 28)


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialisation (Radford et al. 2016): conv weights ~ N(0, 0.02^2), batch-norm
    scales ~ N(1, 0.02^2) and shifts 0. Use as ``model.apply(dcgan_init)``."""
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DCGANGenerator(LatentGenerator):
    """G: z (B, latent_dim) -> image (B, channels, 28, 28) in [-1, 1], by transposed convolutions.

    z -> ConvT(7x7) -> (4w, 7, 7) -> ConvT(4, stride 2) -> (2w, 14, 14) -> ConvT(4, stride 2)
    -> (channels, 28, 28) -> tanh, with batch norm and ReLU after every layer but the last
    (the DCGAN guidelines; w = ``width``).
    """

    def __init__(self, latent_dim: int = 64, width: int = 32, channels: int = 1) -> None:
        super().__init__()
        self.latent_dim = positive_int("latent_dim", latent_dim)
        self.channels = positive_int("channels", channels)
        w = positive_int("width", width)
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, 4 * w, 7, 1, 0, bias=False),  # 1x1 -> 7x7
            nn.BatchNorm2d(4 * w),
            nn.ReLU(True),
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1, bias=False),  # 7 -> 14
            nn.BatchNorm2d(2 * w),
            nn.ReLU(True),
            nn.ConvTranspose2d(2 * w, channels, 4, 2, 1),  # 14 -> 28
            nn.Tanh(),
        )
        self.apply(dcgan_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        batch_of_vectors("z (the generator's latent input)", z, self.latent_dim)
        return self.net(z[:, :, None, None])  # (B, channels, 28, 28)


class DCGANDiscriminator(nn.Module):
    """D: image (B, channels, 28, 28) -> raw score (B,), by strided convolutions.

    x -> Conv(4, stride 2) -> (w, 14, 14) -> Conv(4, stride 2) -> (2w, 7, 7) -> Conv(7x7) -> score,
    LeakyReLU(0.2) after the hidden layers, batch norm on the second (not on the input layer,
    as the DCGAN guidelines say); no pooling, no sigmoid.
    """

    def __init__(self, width: int = 32, channels: int = 1) -> None:
        super().__init__()
        self.channels = positive_int("channels", channels)
        w = positive_int("width", width)
        self.net = nn.Sequential(
            nn.Conv2d(channels, w, 4, 2, 1),  # 28 -> 14
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False),  # 14 -> 7
            nn.BatchNorm2d(2 * w),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * w, 1, 7, 1, 0),  # 7 -> 1
        )
        self.apply(dcgan_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or tuple(x.shape[1:]) != (self.channels, 28, 28):
            raise ValueError(
                f"x (the discriminator's input) must have shape (B, {self.channels}, 28, 28), "
                f"got {tuple(x.shape)}"
            )
        return self.net(x).flatten()  # (B,)

    @torch.no_grad()
    def prob_real(self, x: torch.Tensor) -> torch.Tensor:
        """D(x) = sigmoid(score), shape (B,)."""
        return torch.sigmoid(self(x))


class ImageClassifier(nn.Module):
    """A small CNN for 28 x 28 images: (B, channels, 28, 28) -> class logits (B, classes).

    Conv(3x3, w) -> pool -> Conv(3x3, 2w) -> pool -> (2w, 7, 7) -> Linear(feature_dim) -> ReLU
    -> Linear(classes). ``features(x)`` returns the (B, feature_dim) layer before the last: the
    domain feature space of chapter 5's FID-like scores. Chapter 4 uses it to name the class of
    a generated image.
    """

    def __init__(
        self, classes: int = 10, width: int = 16, feature_dim: int = 64, channels: int = 1
    ):
        super().__init__()
        self.channels = positive_int("channels", channels)
        w = positive_int("width", width)
        self.body = nn.Sequential(
            nn.Conv2d(channels, w, 3, padding=1),
            nn.ReLU(True),
            nn.MaxPool2d(2),  # 28 -> 14
            nn.Conv2d(w, 2 * w, 3, padding=1),
            nn.ReLU(True),
            nn.MaxPool2d(2),  # 14 -> 7
            nn.Flatten(),
            nn.Linear(2 * w * 49, positive_int("feature_dim", feature_dim)),
            nn.ReLU(True),
        )
        self.head = nn.Linear(feature_dim, positive_int("classes", classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate layer, (B, feature_dim)."""
        if x.dim() != 4 or tuple(x.shape[1:]) != (self.channels, 28, 28):
            raise ValueError(
                f"x must have shape (B, {self.channels}, 28, 28), got {tuple(x.shape)}"
            )
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))  # (B, classes)

    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """The most likely class of each image, (B,), in eval mode, in batches."""
        with evaluating(self):
            return torch.cat(
                [self(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)]
            )
