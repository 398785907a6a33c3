"""Argument checks shared by the modules: each error names the value and what was expected;
and the seeding of library functions that leaves the caller's random state alone."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import torch


def positive_int(name: str, value: object) -> int:
    """Return ``value`` if it is an int > 0, else raise a ValueError that names it."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def positive_float(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite number > 0 (not a bool)."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not number > 0 or number == float("inf"):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return number


def batch_of_vectors(name: str, x: torch.Tensor, dim: int) -> None:
    """Raise unless ``x`` is a floating tensor of shape (B, dim)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor of shape (B, {dim}), got {type(x).__name__}"
        )
    if x.dim() != 2 or x.shape[1] != dim:
        raise ValueError(f"{name} must have shape (B, {dim}), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")


def finite_tensor(name: str, x: object, floating: bool = True) -> torch.Tensor:
    """Return ``x`` if it is a tensor (floating-point when ``floating``) without NaN or inf."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if floating and not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def as_generator(seed: int | torch.Generator | None) -> torch.Generator:
    """A CPU ``torch.Generator`` from a seed, an existing generator, or fresh entropy."""
    if isinstance(seed, torch.Generator):
        return seed
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    elif isinstance(seed, int) and not isinstance(seed, bool):
        generator.manual_seed(seed)
    else:
        raise TypeError(f"seed must be an int, a torch.Generator or None, got {seed!r}")
    return generator


def class_labels(name: str, labels: object, classes: int, n: int | None = None) -> torch.Tensor:
    """Return ``labels`` if it is an integer tensor (B,) with values in [0, classes) (and B = n
    when n is given); otherwise raise an error that names the value and what was expected."""
    if not isinstance(labels, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor of class indices, got {type(labels).__name__}"
        )
    if labels.dtype not in (torch.int64, torch.int32):
        raise TypeError(
            f"{name} must hold integer class indices (torch.long), got dtype {labels.dtype}"
        )
    if labels.dim() != 1 or (n is not None and labels.shape[0] != n):
        want = "(B,)" if n is None else f"({n},), one per sample"
        raise ValueError(f"{name} must have shape {want}, got {tuple(labels.shape)}")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= classes):
        bad = labels[(labels < 0) | (labels >= classes)][0].item()
        raise ValueError(f"{name} must lie in [0, {classes - 1}] ({classes} classes), got {bad}")
    return labels


# ----------------------------------------------------------------------------- seeds

_F = TypeVar("_F", bound=Callable[..., Any])


def seed_torch(seed: int) -> None:
    """Seed torch's global CPU generator, which layers draw their initial weights from, with
    ``seed``: the same draws as after ``train.seed_everything(seed)``. Only inside a function
    decorated with ``restores_global_rng``, so that the caller's state comes back. Python's
    ``random``, NumPy and CUDA are not touched (the experiments draw nothing from them)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    torch.random.default_generator.manual_seed(seed)


def restores_global_rng(function: _F) -> _F:
    """Decorator: ``function`` may seed torch's global CPU generator (``seed_torch``) and draw
    from it, but when it returns or raises the generator is back in the caller's state, as
    if nothing had been drawn: a library function that takes a seed leaves no trace."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with torch.random.fork_rng(devices=[]):
            return function(*args, **kwargs)

    return cast(_F, wrapper)
