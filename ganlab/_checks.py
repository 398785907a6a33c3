"""Argument checks shared by the modules: each error names the value and what was expected."""

from __future__ import annotations

import torch


def positive_int(name: str, value: object) -> int:
    """Return ``value`` if it is an int > 0, else raise a ValueError that names it."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def positive_float(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a finite number > 0."""
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
