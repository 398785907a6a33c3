"""Checkpoints as plain state dicts, and the weights shipped with the package.

A checkpoint holds {"G", "D", "meta"} and, to resume a run, the optimisers' states and the
random generator's state. It is written atomically (a temporary file, fsynced, renamed) and
read with ``torch.load(weights_only=True)``, so no pickled code ever runs; it records the
SHA-256 of its contents, checked on every load, and everything (parts, architectures, the
run's settings) is checked before any model is changed. The shipped weights
(``ganlab/weights``) are listed at the end with their files' SHA-256, checked before
``load_pretrained`` reads them.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganlab.models import ConditionalDCGANGenerator, DCGANGenerator, ImageClassifier


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupt, or does not match its expected SHA-256."""


_PARTS = ("G", "D", "meta", "opt_G", "opt_D", "rng")  # what save_checkpoint may write
_PLAIN = (type(None), bool, int, float, str)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The hex SHA-256 digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _feed(digest: Any, value: Any) -> None:
    """Feed an unambiguous encoding of ``value`` (tensors, plain values, dicts, lists) to
    ``digest``: tensors as dtype, shape and raw bytes; dicts in sorted key order."""
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous()
        digest.update(f"T{t.dtype}{tuple(t.shape)}:".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, dict):
        digest.update(f"D{len(value)}:".encode())
        for key in sorted(value, key=repr):
            _feed(digest, key)
            _feed(digest, value[key])
    elif isinstance(value, (list, tuple)):
        digest.update(f"{'L' if isinstance(value, list) else 'U'}{len(value)}:".encode())
        for item in value:
            _feed(digest, item)
    elif isinstance(value, float):
        digest.update(f"f{value.hex()};".encode())
    elif isinstance(value, (*_PLAIN, torch.dtype, torch.device)):
        text = repr(value)
        digest.update(f"{type(value).__name__}{len(text)}:{text};".encode())
    else:
        raise TypeError(f"cannot digest a {type(value).__name__} in a checkpoint")


def _content_sha256(payload: dict[str, Any]) -> str:
    """SHA-256 of the checkpoint's contents (every part but the digest itself)."""
    digest = hashlib.sha256()
    _feed(digest, {k: v for k, v in payload.items() if k != "sha256"})
    return digest.hexdigest()


def _check_plain(name: str, value: Any) -> None:
    """Raise unless ``value`` is what ``torch.load(weights_only=True)`` reads back: None, bool,
    int, float, str, tensors, and lists, tuples and dicts of them."""
    if type(value) in _PLAIN or isinstance(value, torch.Tensor):
        return
    if type(value) in (list, tuple):
        for i, item in enumerate(value):
            _check_plain(f"{name}[{i}]", item)
    elif type(value) is dict:
        for key, item in value.items():
            if type(key) not in _PLAIN:
                raise TypeError(f"checkpoint meta {name} has a key of type {type(key).__name__}")
            _check_plain(f"{name}[{key!r}]", item)
    else:
        raise TypeError(
            f"checkpoint meta {name} is a {type(value).__module__}.{type(value).__name__}: "
            "meta must hold plain values (None, bool, int, float, str, tensors, and lists, "
            "tuples and dicts of them) so that the file loads with weights_only=True"
        )


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale_temporaries(path: Path) -> None:
    """Delete ``path``'s temporary files left by a save that was killed: those whose process
    (the pid in the name) no longer runs, or that are over an hour old."""
    for tmp in path.parent.glob(f"{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 1 :].split(".", 1)[0]
        try:
            alive = pid.isdigit() and _running(int(pid))
            if not alive or time.time() - tmp.stat().st_mtime > 3600:
                tmp.unlink()
        except OSError:
            pass  # gone already, or not ours to delete


def _running(pid: int) -> bool:
    """Whether a process with this id exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but belongs to someone else
    return True


def is_resumable(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a readable checkpoint that holds optimiser state (a run to resume)."""
    try:
        payload = _read_payload(Path(path))
    except CheckpointError:
        return False
    return "opt_G" in payload or "opt_D" in payload


def save_checkpoint(
    path: str | os.PathLike[str],
    G: nn.Module,
    D: nn.Module | None = None,
    *,
    opt_G: torch.optim.Optimizer | None = None,
    opt_D: torch.optim.Optimizer | None = None,
    generator: torch.Generator | None = None,
    **meta: Any,
) -> str:
    """Write {"G", "D", "meta"} (and, to resume training, the optimisers' states and the
    random generator's state) atomically; return the file's SHA-256.

    The file also records the SHA-256 of its contents, which ``load_checkpoint`` checks.
    ``meta`` must hold plain values (numbers, strings, lists, dicts) so that the file
    loads with ``weights_only=True``. Writing G alone over a checkpoint that holds optimiser
    state (a run to resume) raises ``CheckpointError``: that would lose the run.

    Crash safety: the bytes go to a temporary file (``NAME.<pid>.<random>.tmp``, next to
    ``path``), are fsynced, and replace ``path`` in one rename, so ``path`` is always the old
    or the new checkpoint, never a mix. A save removes the temporary files that killed saves
    of the same checkpoint left behind.
    """
    for key, value in meta.items():
        _check_plain(key, value)
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"cannot write a checkpoint to {path}: it is a folder")
    payload: dict[str, Any] = {
        "G": G.state_dict(),
        "D": None if D is None else D.state_dict(),
        "meta": meta,
    }
    if opt_G is not None:
        payload["opt_G"] = opt_G.state_dict()
    if opt_D is not None:
        payload["opt_D"] = opt_D.state_dict()
    if generator is not None:
        payload["rng"] = generator.get_state()
    if opt_G is None and opt_D is None and path.is_file() and is_resumable(path):
        raise CheckpointError(
            f"{path} holds a training run to resume (models, optimisers, random state); "
            "writing the generator alone over it would lose that run: choose another path"
        )
    payload["sha256"] = _content_sha256(payload)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.{os.getpid()}.",
                               suffix=".tmp")  # fmt: skip
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the rename makes them visible
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)  # atomic: a reader never sees a half-written checkpoint
        _fsync_folder(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha256_file(path)


def _read_error(path: Path, error: Exception) -> CheckpointError:
    """A CheckpointError for a file torch cannot read, without torch's advice to load it with
    ``weights_only=False`` (which would run any code the file holds)."""
    text = str(error)
    if "Weights only load failed" in text:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", text)
        reason = (
            f"it holds a pickled {found.group(1)}, not only tensors and plain values"
            if found
            else "it is not a torch file of tensors and plain values (damaged, or not a checkpoint)"
        )
        return CheckpointError(
            f"checkpoint {path} could not be read: {reason}; ganlab loads only tensors and "
            "plain values (weights_only=True) and never runs code from a file"
        )
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return CheckpointError(
        f"checkpoint {path} could not be read: {first} (the file is damaged or not a checkpoint)"
    )


def _read_payload(path: Path, sha256: str | None = None) -> dict[str, Any]:
    """The checked contents of a checkpoint file: file digest (when given), torch.load with
    weights_only=True, the parts, and the recorded digest of the contents."""
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {path} could not be read: the file is empty (0 bytes)")
    if sha256 is not None:
        actual = sha256_file(path)
        if actual != sha256.lower():
            raise CheckpointError(
                f"checkpoint {path} has SHA-256 {actual}, expected {sha256}: "
                "the file is corrupt or not the one this code expects"
            )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for a damaged zip/pickle
        raise _read_error(path, error) from None
    if not isinstance(payload, dict) or "G" not in payload:
        raise CheckpointError(f"checkpoint {path} does not hold a ganlab state dict")
    unknown = sorted(str(k) for k in payload if k not in (*_PARTS, "sha256"))
    if unknown:
        raise CheckpointError(
            f"checkpoint {path} holds unknown parts {unknown}: it is damaged or not a ganlab "
            f"checkpoint (expected some of {list(_PARTS)})"
        )
    if "sha256" in payload:  # files written before the digest was recorded have none
        try:
            actual = _content_sha256(payload)
        except TypeError as error:
            raise CheckpointError(f"checkpoint {path} is damaged: {error}") from None
        if actual != payload["sha256"]:
            raise CheckpointError(
                f"checkpoint {path} is corrupt: its contents have SHA-256 {actual}, but it "
                f"recorded {payload['sha256']} when it was saved; nothing was loaded"
            )
    return payload


def checkpoint_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``meta`` of a checkpoint, its file checked as ``load_checkpoint`` does; no model
    is touched."""
    return dict(_read_payload(Path(path)).get("meta") or {})


def _check_module_state(path: Path, name: str, module: nn.Module, state: Any) -> None:
    """Raise unless ``state`` fits ``module.state_dict()``: the same keys and shapes."""
    expected = module.state_dict()
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} holds no state dict for {name}")
    problems = [f"missing {k}" for k in expected if k not in state]
    problems += [f"unexpected {k}" for k in state if k not in expected]
    problems += [
        f"{k} has shape {tuple(state[k].shape)}, the model's {tuple(expected[k].shape)}"
        for k in expected
        if k in state and tuple(getattr(state[k], "shape", ())) != tuple(expected[k].shape)
    ]
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise CheckpointError(
            f"checkpoint {path} holds a {name} of another architecture than the "
            f"{type(module).__name__} given: {'; '.join(problems[:3])}{more}; nothing was loaded"
        )


def _check_optimizer_state(path: Path, name: str, opt: torch.optim.Optimizer, state: Any) -> None:
    """Raise unless ``state`` fits ``opt``: the same parameter groups, sizes and shapes."""
    groups = state.get("param_groups") if isinstance(state, dict) else None
    mine = opt.param_groups
    sizes = [len(g.get("params", ())) for g in groups or []]
    if groups is None or sizes != [len(g["params"]) for g in mine]:
        raise CheckpointError(
            f"checkpoint {path} holds {name} state for parameter groups of sizes {sizes}, the "
            f"optimiser has {[len(g['params']) for g in mine]}: another model; nothing was loaded"
        )
    params = [p for g in mine for p in g["params"]]
    ids = [i for g in groups for i in g["params"]]
    for i, p in zip(ids, params, strict=True):
        for key, value in state.get("state", {}).get(i, {}).items():
            if isinstance(value, torch.Tensor) and value.dim() and value.shape != p.shape:
                raise CheckpointError(
                    f"checkpoint {path} holds {name} state {key} of shape {tuple(value.shape)} "
                    f"for a parameter of shape {tuple(p.shape)}; nothing was loaded"
                )


def load_checkpoint(
    path: str | os.PathLike[str],
    G: nn.Module,
    D: nn.Module | None = None,
    sha256: str | None = None,
    *,
    opt_G: torch.optim.Optimizer | None = None,
    opt_D: torch.optim.Optimizer | None = None,
    generator: torch.Generator | None = None,
    expect: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Load a checkpoint from ``save_checkpoint`` into G (and D, the optimisers and the random
    generator, when given); return its ``meta``.

    With ``sha256`` the file's digest is checked first and a mismatch raises
    ``CheckpointError`` before anything is unpickled. Loading uses ``weights_only=True``; the
    digest of the contents recorded at saving is checked too. ``expect`` maps meta keys to the
    values this run uses: a recorded value that differs raises ``CheckpointError`` naming each
    difference. Everything is checked (parts, architectures, settings) before any model,
    optimiser or generator is changed.
    """
    path = Path(path)
    payload = _read_payload(path, sha256)
    meta = dict(payload.get("meta") or {})
    if D is not None and payload.get("D") is None:
        raise CheckpointError(f"checkpoint {path} holds no discriminator")
    for name, target in (("opt_G", opt_G), ("opt_D", opt_D), ("rng", generator)):
        if target is not None and name not in payload:
            raise CheckpointError(f"checkpoint {path} holds no {name} state to resume from")
    differences = [
        f"{key} {meta[key]!r} there, {value!r} here"
        for key, value in (expect or {}).items()
        if key in meta and meta[key] != value
    ]
    if differences:
        raise CheckpointError(
            f"checkpoint {path} was written with other settings: {'; '.join(differences)}. "
            "Resume with the checkpoint's settings, or start fresh with another checkpoint path "
            "(or delete this one)"
        )
    _check_module_state(path, "G", G, payload["G"])
    if D is not None:
        _check_module_state(path, "D", D, payload["D"])
    for name, opt in (("opt_G", opt_G), ("opt_D", opt_D)):
        if opt is not None:
            _check_optimizer_state(path, name, opt, payload[name])
    if generator is not None:
        rng = payload["rng"]
        current = generator.get_state()
        if (
            not isinstance(rng, torch.Tensor)
            or rng.dtype != current.dtype
            or rng.shape != current.shape
        ):
            raise CheckpointError(f"checkpoint {path} holds no valid random generator state")
    G.load_state_dict(payload["G"])
    if D is not None:
        D.load_state_dict(payload["D"])
    if opt_G is not None:
        opt_G.load_state_dict(payload["opt_G"])
    if opt_D is not None:
        opt_D.load_state_dict(payload["opt_D"])
    if generator is not None:
        generator.set_state(payload["rng"])
    return meta


# ----------------------------------------------------------------------------- shipped weights


@dataclass(frozen=True)
class Pretrained:
    """A model shipped in ``ganlab/weights``: its file, SHA-256 and how to build it empty."""

    file: str
    sha256: str
    build: Callable[[], nn.Module]


DCGAN_FASHION_MNIST_SHA256 = "3325734a584837037d4307ece00f2f434c4ece1a70cb8ec1f3b4b72cad7a5ce3"
DCGAN_FASHION_MNIST_EPOCH1_SHA256 = (
    "873cccec1dcc9af31bc6b5b62b0e8751d6af4f04177909746fdd92f5cedcdf3b"
)
CDCGAN_PROJECTION_SHA256 = "6f4a3084e2f616f72168f5ad0e56c2517edab7833f984bd3bf64e935b0ca5699"
CDCGAN_CLASSES_SHA256 = "3a531c4458a198d84e8b61302ece535261e13a889cbd674224ed7d7007a6c4dd"
CLASSIFIER_FASHION_MNIST_SHA256 = "3b1c548753c9f8b0fa1e271aa64f9d0a73cee5b4717546b0f6135d22e875c00d"


def _pretrained() -> dict[str, Pretrained]:
    return {
        "dcgan_fashion_mnist": Pretrained(
            "dcgan_fashion_mnist.pt", DCGAN_FASHION_MNIST_SHA256,
            lambda: DCGANGenerator(latent_dim=64, width=32),
        ),
        "dcgan_fashion_mnist_epoch1": Pretrained(
            "dcgan_fashion_mnist_epoch1.pt", DCGAN_FASHION_MNIST_EPOCH1_SHA256,
            lambda: DCGANGenerator(latent_dim=64, width=32),
        ),
        "cdcgan_fashion_mnist_projection": Pretrained(
            "cdcgan_fashion_mnist_projection.pt", CDCGAN_PROJECTION_SHA256,
            lambda: ConditionalDCGANGenerator(classes=10, latent_dim=64, width=32),
        ),
        "cdcgan_fashion_mnist_classes": Pretrained(
            "cdcgan_fashion_mnist_classes.pt", CDCGAN_CLASSES_SHA256,
            lambda: ConditionalDCGANGenerator(classes=10, latent_dim=64, width=32),
        ),
        "classifier_fashion_mnist": Pretrained(
            "classifier_fashion_mnist.pt", CLASSIFIER_FASHION_MNIST_SHA256,
            lambda: ImageClassifier(classes=10),
        ),
    }  # fmt: skip


def load_pretrained(
    name: str, device: torch.device | str = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """(model in eval mode, meta) of a shipped model, its file checked against the SHA-256 listed
    here before loading (``weights_only=True``). ``meta["command"]`` is how it was trained.

    Names: "dcgan_fashion_mnist" (chapter 4's generator), "dcgan_fashion_mnist_epoch1" (the
    same run after its first epoch, chapter 5), "classifier_fashion_mnist" (the small
    CNN that names the class of an image, chapters 4 and 5), "cdcgan_fashion_mnist_projection"
    and "cdcgan_fashion_mnist_classes" (chapter 7's class-conditional generators, trained
    against a projection and a (C + 1)-way discriminator).
    """
    registry = _pretrained()
    if name not in registry:
        raise ValueError(f"unknown pretrained model {name!r}; expected one of {sorted(registry)}")
    entry = registry[name]
    model = entry.build()
    path = Path(str(files("ganlab").joinpath("weights", entry.file)))
    meta = load_checkpoint(path, model, sha256=entry.sha256)
    return model.to(device).eval(), meta
