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
from torch.nn.utils import parametrizations

from ganlab._checks import as_generator, batch_of_vectors, class_labels, positive_int

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
    def sample(
        self, n: int, seed: int | torch.Generator | None = None, batch_size: int = 256
    ) -> torch.Tensor:
        """x = G(z) for n fresh z ~ N(0, I), without gradients, in eval mode (batch norm, where
        there is one, uses its running statistics); the model's mode is restored. The z are
        drawn at once and decoded ``batch_size`` at a time (on a CPU a DCGAN decodes 5,000
        images about 1.4x faster in batches of 256 than in one: they stay in cache)."""
        positive_int("batch_size", batch_size)
        z = self.sample_latent(n, seed)
        with evaluating(self):
            return torch.cat([self(z[i : i + batch_size]) for i in range(0, n, batch_size)])


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
    """D: x (B, in_dim) -> raw score (B,); sigmoid(score) is the probability that x is real.

    ``spectral_norm=True`` trains each Linear's weight as W / sigma(W) (Miyato et al. 2018):
    sigma is estimated by one power iteration per forward pass in training mode, with u carried
    over (``torch.nn.utils.parametrizations.spectral_norm``; ``ganlab.lipschitz`` measures it).
    The state dict then holds ``weight.original``, ``_u`` and ``_v`` instead of ``weight``.
    """

    def __init__(
        self,
        in_dim: int = 2,
        width: int = 64,
        depth: int = 3,
        activation: str = "relu",
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        self.in_dim = positive_int("in_dim", in_dim)
        self.net = mlp(in_dim, 1, width, depth, activation)
        if not isinstance(spectral_norm, bool):
            raise TypeError(f"spectral_norm must be True or False, got {spectral_norm!r}")
        if spectral_norm:
            spectral_normalise(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch_of_vectors("x (the discriminator's input)", x, self.in_dim)
        return self.net(x).squeeze(1)  # (B,)

    @torch.no_grad()
    def prob_real(self, x: torch.Tensor) -> torch.Tensor:
        """D(x) = sigmoid(score), shape (B,)."""
        return torch.sigmoid(self(x))


def spectral_normalise(module: nn.Module) -> nn.Module:
    """Train every Linear of ``module`` as W / sigma(W), in place (Miyato et al. 2018): sigma by
    one power iteration per forward pass in training mode, with u carried over
    (``torch.nn.utils.parametrizations.spectral_norm``). The weights stay as they were, so a
    module normalised after it is built starts where the plain one does. Returns ``module``."""
    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(module).__name__} has no Linear layer to normalise")
    for layer in linears:
        parametrizations.spectral_norm(layer)
    return module


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

    def __init__(self, width: int = 32, channels: int = 1, outputs: int = 1) -> None:
        super().__init__()
        self.channels = positive_int("channels", channels)
        self.outputs = positive_int("outputs", outputs)
        w = positive_int("width", width)
        self.net = nn.Sequential(
            nn.Conv2d(channels, w, 4, 2, 1),  # 28 -> 14
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False),  # 14 -> 7
            nn.BatchNorm2d(2 * w),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(2 * w, outputs, 7, 1, 0),  # 7 -> 1: the head
        )
        self.apply(dcgan_init)

    @property
    def feature_layers(self) -> nn.Sequential:
        """The hidden layers: x -> phi(x), (B, 2w, 7, 7)."""
        return self.net[:-1]

    @property
    def head(self) -> nn.Conv2d:
        """The output layer: a 7x7 convolution of phi(x) to ``outputs`` scores."""
        return self.net[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores (B,), or (B, outputs) when there is more than one."""
        return self.score(self.features(x))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer phi(x), (B, 2w * 7 * 7): what the head scores."""
        self.check_input(x)
        return self.feature_layers(x).flatten(1)

    def score(self, phi: torch.Tensor) -> torch.Tensor:
        """The head on flattened features phi (B, 2w * 7 * 7): (B,) or (B, outputs)."""
        scores = self.head(phi.view(len(phi), -1, 7, 7)).flatten(1)
        return scores[:, 0] if self.outputs == 1 else scores

    def check_input(self, x: torch.Tensor) -> None:
        """Raise unless x is a batch of images (B, channels, 28, 28)."""
        if x.dim() != 4 or tuple(x.shape[1:]) != (self.channels, 28, 28):
            raise ValueError(
                f"x (the discriminator's input) must have shape (B, {self.channels}, 28, 28), "
                f"got {tuple(x.shape)}"
            )

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
    def predict(self, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """The most likely class of each image, (B,), in eval mode, in batches."""
        with evaluating(self):
            return torch.cat(
                [self(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)]
            )


# ----------------------------------------------------------------------------- conditional GANs


class ConditionalDCGANGenerator(LatentGenerator):
    """G(z, y): a DCGAN generator fed [z, e_y], the latent beside a learned embedding e_y of the
    class y (Mirza & Osindero 2014). (B, latent_dim), (B,) long -> (B, channels, 28, 28)."""

    def __init__(
        self,
        classes: int = 10,
        latent_dim: int = 64,
        width: int = 32,
        embed_dim: int = 16,
        channels: int = 1,
    ) -> None:
        super().__init__()
        self.classes = positive_int("classes", classes)
        self.latent_dim = positive_int("latent_dim", latent_dim)
        self.embed = nn.Embedding(classes, positive_int("embed_dim", embed_dim))
        self.body = DCGANGenerator(latent_dim + embed_dim, width, channels)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        batch_of_vectors("z (the generator's latent input)", z, self.latent_dim)
        class_labels("labels (the classes to generate)", labels, self.classes, len(z))
        return self.body(torch.cat([z, self.embed(labels)], dim=1))

    def labels_for(self, n: int, labels: int | torch.Tensor | None) -> torch.Tensor:
        """(n,) class indices on the model's device: ``labels`` itself, one class repeated,
        or (None) 0, 1, ..., C - 1, 0, 1, ... so every class is drawn equally often."""
        positive_int("n", n)
        if labels is None:
            labels = torch.arange(n) % self.classes
        elif isinstance(labels, int) and not isinstance(labels, bool):
            labels = torch.full((n,), labels)
        class_labels("labels (the classes to generate)", labels, self.classes, n)
        return labels.to(next(self.parameters()).device)

    @torch.no_grad()
    def sample(  # type: ignore[override]
        self,
        n: int,
        seed: int | torch.Generator | None = None,
        labels: int | torch.Tensor | None = None,
    ) -> torch.Tensor:
        """G(z, y) for n fresh z ~ N(0, I) and classes ``labels`` (see ``labels_for``), in eval
        mode, without gradients."""
        y = self.labels_for(n, labels)
        with evaluating(self):
            return self(self.sample_latent(n, seed), y)


class ConditionalDiscriminator(nn.Module):
    """What the conditional discriminators share: the DCGAN discriminator as ``body``, and
    ``realness(x, y)``, the logit of "x is a real image of class y". Their losses are in
    ``losses`` (``train_images.conditional_step`` picks them)."""

    classes: int
    body: DCGANDiscriminator

    def realness(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The logit of "x is a real image of class y", (B,)."""
        raise NotImplementedError


class ProjectionDiscriminator(ConditionalDiscriminator):
    """D(x, y) = psi(phi(x)) + <e_y, phi(x)> (Miyato & Koyama 2018): the DCGAN discriminator's
    score psi(phi(x)) plus the inner product of its last hidden layer phi(x) with a learned
    embedding e_y of the class. Trained with the usual minimax loss on these scores, and G with
    the non-saturating loss."""

    def __init__(self, classes: int = 10, width: int = 32, channels: int = 1) -> None:
        super().__init__()
        self.classes = positive_int("classes", classes)
        self.body = DCGANDiscriminator(width, channels)
        self.embed = nn.Embedding(classes, self.body.head.in_channels * 7 * 7)
        nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        class_labels("labels (the classes of x)", labels, self.classes, len(x))
        phi = self.body.features(x)  # (B, 2w * 49)
        return self.body.score(phi) + (self.embed(labels) * phi).sum(dim=1)

    def realness(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self(x, labels)


class ClassifyingDiscriminator(ConditionalDiscriminator):
    """D as a (C + 1)-way classifier: the DCGAN discriminator with C + 1 outputs, the C classes
    and "fake" (Salimans et al. 2016). x (B, channels, 28, 28) -> logits (B, C + 1); the labels
    enter only through the losses (``losses.d_loss_classes``, ``losses.g_loss_classes``).
    The logit of "real" is log sum_{k<C} exp l_k - l_C (``real_logit``)."""

    def __init__(self, classes: int = 10, width: int = 32, channels: int = 1) -> None:
        super().__init__()
        self.classes = positive_int("classes", classes)
        self.body = DCGANDiscriminator(width, channels, outputs=classes + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)  # (B, C + 1)

    @staticmethod
    def real_logit(logits: torch.Tensor) -> torch.Tensor:
        """log odds of "real" from the (B, C + 1) logits: log sum_{k<C} exp l_k - l_C, (B,)."""
        return torch.logsumexp(logits[:, :-1], dim=1) - logits[:, -1]

    def realness(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.real_logit(self(x))


# ----------------------------------------------------------------------------- StyleGAN's ideas


class MappingNetwork(LatentGenerator):
    """StyleGAN's mapping network f: z -> w (Karras et al. 2019): z normalised to unit RMS
    ("pixel norm"; ``normalize=False`` skips it, for a 2-D z, where it would keep only the
    angle), then ``depth`` fully connected layers with LeakyReLU(0.2). The synthesis
    network is then fed w through ``adain`` at every layer instead of z at its input. As a
    ``LatentGenerator`` (z ~ N(0, I)) it can be trained by ``train.fit`` like any 2-D G."""

    def __init__(
        self,
        latent_dim: int = 2,
        w_dim: int = 2,
        depth: int = 8,
        width: int = 64,
        normalize: bool = True,
    ) -> None:
        super().__init__()
        self.latent_dim = positive_int("latent_dim", latent_dim)
        self.normalize = normalize
        dims = [latent_dim] + [positive_int("width", width)] * (positive_int("depth", depth) - 1)
        layers: list[nn.Module] = []
        for a, b in zip(dims, dims[1:] + [positive_int("w_dim", w_dim)], strict=True):
            layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
        self.net = nn.Sequential(*layers[:-1])  # no activation on w itself

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        batch_of_vectors("z (the mapping network's input)", z, self.latent_dim)
        if self.normalize:
            z = z * torch.rsqrt(z.pow(2).mean(dim=1, keepdim=True) + 1e-8)
        return self.net(z)


def adain(x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5):
    """Adaptive instance normalisation AdaIN(x, y) = y_s (x - mu(x)) / sigma(x) + y_b (Huang &
    Belongie 2017; StyleGAN's style input): each feature map of each sample is normalised over
    its pixels, then given the style's scale y_s and bias y_b. x (B, C, H, W); scale, bias (B, C)."""
    if x.dim() != 4:
        raise ValueError(f"x must have shape (B, C, H, W), got {tuple(x.shape)}")
    for name, y in (("scale", scale), ("bias", bias)):
        if tuple(y.shape) != tuple(x.shape[:2]):
            raise ValueError(f"{name} must have shape {tuple(x.shape[:2])} (B, C), got "
                             f"{tuple(y.shape)}")  # fmt: skip
    mu = x.mean(dim=(2, 3), keepdim=True)
    sigma = (x.var(dim=(2, 3), keepdim=True, unbiased=False) + eps).sqrt()
    return scale[:, :, None, None] * (x - mu) / sigma + bias[:, :, None, None]
