"""The image data sets, Fashion-MNIST and MNIST, from the standard IDX ``.gz`` files.

``fashion_mnist(split)`` and ``mnist(split)`` look in ``$GANLAB_DATA/<name>``, then the user
cache, then the system folder (Debian's ``dataset-fashion-mnist``), and only then download from
the official mirror. Every file's SHA-256 is checked wherever it is found. A download is
streamed to a temporary file, bounded in size (each file's known size) and in time, and
kept only once verified; when the cache cannot be written it goes to ``download_fallback_dir``.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import struct
import sys
import tempfile
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch


class DataError(ValueError):
    """An image data file is missing, corrupt (wrong SHA-256) or not a valid IDX file."""


@dataclass(frozen=True)
class IDXSource:
    """Where one IDX image data set lives and how to recognise its files.

    ``sha256`` maps each file name to the digests accepted for it: a file whose
    SHA-256 is not listed is reported and never used.
    """

    title: str  # for messages: "Fashion-MNIST"
    mirror: str  # official download folder; a file's URL is mirror + file name
    system_dir: Path  # where a system package installs the files
    debian_package: str | None  # the Debian package that installs them there, if any
    classes: tuple[str, ...]  # label k is classes[k]
    sha256: dict[str, tuple[str, ...]]
    sizes: dict[str, int] = field(default_factory=dict)  # each file's size on the mirror, bytes


IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
"""Split -> (images file, labels file), the names used by every mirror."""

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

# Fashion-MNIST: the first digest is the mirror's file (its MD5 is the one in the official
# README); the second is Debian's copy, whose gzip header lost the file name and time stamp
# (strip-nondeterminism) around the same compressed bytes, so the images are identical.
# MNIST: the SHA-256 of the files whose MD5s torchvision pins (Debian has no MNIST package).
SOURCES = {
    "fashion-mnist": IDXSource(
        title="Fashion-MNIST",
        mirror="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        system_dir=Path("/usr/share/datasets/fashion-mnist"),
        debian_package="dataset-fashion-mnist",
        classes=FASHION_MNIST_CLASSES,
        sha256={
            "train-images-idx3-ubyte.gz": (
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
            ),
            "train-labels-idx1-ubyte.gz": (
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
            ),
            "t10k-images-idx3-ubyte.gz": (
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
            ),
            "t10k-labels-idx1-ubyte.gz": (
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
            ),
        },
        sizes={
            "train-images-idx3-ubyte.gz": 26_421_880,
            "train-labels-idx1-ubyte.gz": 29_515,
            "t10k-images-idx3-ubyte.gz": 4_422_102,
            "t10k-labels-idx1-ubyte.gz": 5_148,
        },
    ),
    "mnist": IDXSource(
        title="MNIST",
        mirror="https://ossci-datasets.s3.amazonaws.com/mnist/",
        system_dir=Path("/usr/share/datasets/mnist"),
        debian_package=None,
        classes=tuple("0123456789"),
        sha256={
            "train-images-idx3-ubyte.gz": (
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            ),
            "train-labels-idx1-ubyte.gz": (
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            ),
            "t10k-images-idx3-ubyte.gz": (
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            ),
            "t10k-labels-idx1-ubyte.gz": (
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            ),
        },
        sizes={
            "train-images-idx3-ubyte.gz": 9_912_422,
            "train-labels-idx1-ubyte.gz": 28_881,
            "t10k-images-idx3-ubyte.gz": 1_648_877,
            "t10k-labels-idx1-ubyte.gz": 4_542,
        },
    ),
}
"""Data set name -> its ``IDXSource``; the name is also its folder name everywhere."""

_IDX_DIMS = {0x00000801: 1, 0x00000803: 3}  # magic number -> number of dims (unsigned bytes)


@dataclass(frozen=True, eq=False)
class ImageData:
    """One split of an image data set, ready for a GAN: pixels scaled to [-1, 1].

    The loaders cache it per split and return the same object on every call: treat the
    tensors as read-only (``images.clone()`` before editing in place).
    """

    images: torch.Tensor  # (N, 1, 28, 28) float32, pixel / 127.5 - 1
    labels: torch.Tensor  # (N,) int64, an index into ``classes``
    classes: tuple[str, ...]
    name: str  # "fashion-mnist" or "mnist"
    split: str  # "train" or "test"
    files: tuple[Path, Path]  # the images file and the labels file that were read

    def __len__(self) -> int:
        return self.images.shape[0]

    def __repr__(self) -> str:
        return (
            f"ImageData(name={self.name!r}, split={self.split!r}, "
            f"images={tuple(self.images.shape)}, classes={len(self.classes)}, "
            f"folder={str(self.files[0].parent)!r})"
        )


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Parse a gzip-compressed IDX file of unsigned bytes into a uint8 array.

    The IDX format (LeCun et al., the MNIST page): a big-endian magic number
    0x00000803 (images, 3 dims) or 0x00000801 (labels, 1 dim), then each dim as a
    big-endian uint32, then prod(dims) bytes. Returns a read-only array of shape
    ``dims``, e.g. (N, 28, 28) or (N,). Raises ``DataError`` naming the file when it is
    not gzip, has a bad magic number, or is truncated or too long.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DataError(f"cannot read {path}: {error}") from error
    return _parse_idx(raw, path)


def _parse_idx(raw: bytes, path: Path) -> np.ndarray:
    """``read_idx`` on bytes already read from ``path`` (named in the errors)."""
    try:
        data = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:  # BadGzipFile is an OSError
        raise DataError(f"{path} is not a valid gzip file: {error}") from error
    magic = int.from_bytes(data[:4], "big")
    ndim = _IDX_DIMS.get(magic) if len(data) >= 4 else None
    if ndim is None:
        raise DataError(
            f"{path} has bad magic number 0x{magic:08x}: an IDX file of unsigned bytes "
            "starts with 0x00000803 (images) or 0x00000801 (labels)"
        )
    start = 4 + 4 * ndim
    if len(data) < start:
        raise DataError(f"{path} is truncated: its header needs {start} bytes, it has {len(data)}")
    dims = struct.unpack(f">{ndim}I", data[4:start])
    if len(data) - start != math.prod(dims):
        raise DataError(
            f"{path} has the wrong size: its header says dims {dims}, i.e. "
            f"{math.prod(dims)} bytes of data, but it holds {len(data) - start}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=start).reshape(dims)


def cache_dir(name: str) -> Path:
    """The user cache folder for data set ``name``: $XDG_CACHE_HOME/ganlab/<name>.

    ``$XDG_CACHE_HOME`` defaults to ~/.cache. Downloads are written here.
    """
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "ganlab" / name


def data_dirs(name: str) -> list[Path]:
    """The folders searched for data set ``name``, in order.

    ``$GANLAB_DATA/<name>`` (when GANLAB_DATA is set), then ``cache_dir(name)``, then the
    system folder (``/usr/share/datasets/fashion-mnist`` for Fashion-MNIST).
    """
    dirs = []
    if os.environ.get("GANLAB_DATA"):
        dirs.append(Path(os.environ["GANLAB_DATA"]).expanduser() / name)
    return [*dirs, cache_dir(name), SOURCES[name].system_dir]


def mirror_url(name: str, filename: str) -> str:
    """The URL ``filename`` of data set ``name`` is downloaded from.

    ``$GANLAB_DATA_MIRROR`` (a base URL) replaces the official mirror with
    ``$GANLAB_DATA_MIRROR/<name>/<filename>``.
    """
    mirror = os.environ.get("GANLAB_DATA_MIRROR")
    if mirror:
        return f"{mirror.rstrip('/')}/{name}/{filename}"
    return SOURCES[name].mirror + filename


def fashion_mnist(split: str = "train", download: bool = True) -> ImageData:
    """Fashion-MNIST (Xiao et al. 2017, MIT licence): 28x28 grey clothes, 10 classes.

    ``split`` is "train" (60,000 images) or "test" (10,000). Images are (N, 1, 28, 28)
    float32 in [-1, 1], labels (N,) int64. The files are looked for in ``data_dirs``
    and, when ``download`` is true and no folder has them, downloaded once into
    ``cache_dir``. Each split is read once per session and then served from memory.
    """
    return load_idx_images("fashion-mnist", split, download)


def mnist(split: str = "train", download: bool = True) -> ImageData:
    """MNIST (LeCun et al. 1998): 28x28 grey handwritten digits; see ``fashion_mnist``."""
    return load_idx_images("mnist", split, download)


def load_idx_images(name: str, split: str = "train", download: bool = True) -> ImageData:
    """Load ``split`` of the IDX image data set ``name``, one of ``SOURCES``."""
    if name not in SOURCES:
        raise ValueError(f"unknown image data set {name!r}; expected one of {sorted(SOURCES)}")
    if split not in IDX_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folders = tuple(data_dirs(name))
    key = (name, split, folders)  # the folders are in the key: a new $GANLAB_DATA reads afresh
    if key not in _LOADED:
        _LOADED[key] = _read_split(name, split, folders, download)
    return _LOADED[key]


_LOADED: dict[tuple[str, str, tuple[Path, ...]], ImageData] = {}
"""The splits read so far this session, by (name, split, folders searched)."""


def _read_split(name: str, split: str, folders: Sequence[Path], download: bool) -> ImageData:
    """Find (or download), verify and parse one split's two files."""
    images_file, labels_file = IDX_FILES[split]
    images_path, images_raw = _find_or_download(name, images_file, folders, download)
    labels_path, labels_raw = _find_or_download(name, labels_file, folders, download)
    pixels = _parse_idx(images_raw, images_path)  # (N, 28, 28) uint8
    labels = _parse_idx(labels_raw, labels_path)  # (N,) uint8
    classes = SOURCES[name].classes
    if pixels.ndim != 3 or labels.ndim != 1 or len(pixels) != len(labels):
        raise DataError(
            f"{images_path} {pixels.shape} and {labels_path} {labels.shape} do not match: "
            "expected images (N, H, W) and N labels"
        )
    if labels.size and labels.max() >= len(classes):
        raise DataError(
            f"{labels_path} has label {labels.max()}, but {name} has {len(classes)} classes"
        )
    # One conversion: uint8 -> float32, then x / 127.5 - 1 in place (0 -> -1, 255 -> 1).
    images = torch.from_numpy(pixels.astype(np.float32)).div_(127.5).sub_(1.0).unsqueeze(1)
    return ImageData(
        images=images,  # (N, 1, 28, 28)
        labels=torch.from_numpy(labels.astype(np.int64)),  # (N,)
        classes=classes,
        name=name,
        split=split,
        files=(images_path, labels_path),
    )


DOWNLOAD_READ_TIMEOUT = 30.0
"""Seconds a download may wait for its next bytes before it is abandoned."""
DOWNLOAD_MIN_SECONDS = 300.0
DOWNLOAD_MIN_RATE = 50_000
"""A file of S bytes must arrive within max(DOWNLOAD_MIN_SECONDS, S / DOWNLOAD_MIN_RATE) s."""
DOWNLOAD_SLACK = 1 << 16
"""Bytes a body may exceed the file's known size by before it is refused (unknown: 64 MiB)."""


class _Unwritable(OSError):
    """No folder could take the download (the cache nor the fallback)."""


class _DownloadFailed(Exception):
    """The mirror's answer was too large, too slow or cut short."""


def _find_or_download(
    name: str, filename: str, folders: Sequence[Path], download: bool
) -> tuple[Path, bytes]:
    """The first copy of ``filename`` in ``folders``, else a download; SHA-256 checked."""
    accepted = SOURCES[name].sha256[filename]
    for folder in folders:
        path = folder / filename
        if path.is_file():
            raw = path.read_bytes()
            _check_sha256(raw, accepted, str(path))
            return path, raw
    if not download:
        raise DataError(
            _missing_message(name, filename, folders, "downloads are off (download=False)")
        )
    url = mirror_url(name, filename)
    size = SOURCES[name].sizes.get(filename)
    limit = 64 << 20 if size is None else size + DOWNLOAD_SLACK
    try:
        path = _download(url, name, filename, accepted, limit)
    except _Unwritable as error:
        raise DataError(
            f"{SOURCES[name].title} file {filename} could not be saved: {error}"
        ) from None
    except (OSError, http.client.HTTPException, _DownloadFailed) as error:  # URLError: OSError
        reason = f"the download from {url} failed ({error or type(error).__name__})"
        raise DataError(_missing_message(name, filename, folders, reason)) from error
    return path, path.read_bytes()


def _check_sha256(raw: bytes, accepted: tuple[str, ...], where: str) -> None:
    """Raise ``DataError`` unless the SHA-256 of ``raw`` is one of ``accepted``."""
    _check_digest(hashlib.sha256(raw).hexdigest(), accepted, where)


def _check_digest(digest: str, accepted: tuple[str, ...], where: str) -> None:
    if digest not in accepted:
        raise DataError(
            f"{where} has SHA-256 {digest}, expected {' or '.join(accepted)}: the file is "
            "corrupt or not the one ganlab expects, so it is not used; delete or replace it"
        )


def download_fallback_dir(name: str) -> Path:
    """Where a download goes when ``cache_dir(name)`` cannot be written: a per-user folder in
    the system's temporary folder (kept for this session; not searched by later ones)."""
    user = f"ganlab-{os.getuid()}" if hasattr(os, "getuid") else "ganlab"
    return Path(tempfile.gettempdir()) / user / name


def _temporary_in(name: str, filename: str) -> tuple[Path, int, str]:
    """(folder, fd, temporary path) for a download: in the cache, else in the fallback folder,
    saying why; raise ``_Unwritable`` naming both folders when neither can be written."""
    problems = []
    for folder in (cache_dir(name), download_fallback_dir(name)):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=filename + ".", suffix=".tmp")
        except OSError as error:
            problems.append(f"{folder} ({error.strerror or error})")
            continue
        if problems:
            print(f"ganlab: cannot write to the cache folder {problems[0]}; keeping the download "
                  f"in {folder} for now (set XDG_CACHE_HOME or GANLAB_DATA to a writable "
                  "folder to keep it)", file=sys.stderr)  # fmt: skip
        return folder, fd, tmp
    raise _Unwritable(f"no folder could be written: {' nor '.join(problems)}")


def _set_read_timeout(response: object, seconds: float) -> None:
    """Bound the wait for the response's next bytes (http and https; no-op otherwise)."""
    sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.01))


def _download(url: str, name: str, filename: str, accepted: tuple[str, ...], limit: int) -> Path:
    """Stream ``url`` into a temporary file (at most ``limit`` bytes, within a total time
    bound), check its SHA-256, then rename it into the cache atomically; return its path.

    Network failures raise OSError/HTTPException, a body that is too large, too slow or cut
    short ``_DownloadFailed``, a wrong one ``DataError``; nothing is kept of any of them."""
    import urllib.request  # here, not at the top: importing ganlab never touches the network

    allowed = max(DOWNLOAD_MIN_SECONDS, limit / DOWNLOAD_MIN_RATE)
    deadline = time.monotonic() + allowed
    folder, fd, tmp = _temporary_in(name, filename)
    path = folder / filename
    print(f"ganlab: downloading {url} to {path}", file=sys.stderr)
    try:
        with os.fdopen(fd, "wb") as f:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_READ_TIMEOUT) as response:
                digest = _stream(response, f, tmp, filename, limit, deadline, allowed)
            _check_digest(digest, accepted, f"the download from {url}")
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)  # atomic: no reader ever sees a partial file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _stream(
    response: Any, f: Any, tmp: str, filename: str, limit: int, deadline: float, allowed: float
) -> str:
    """Copy the response body to ``f`` in 64 KiB chunks; return its SHA-256. Refuse a body
    announced or found larger than ``limit`` bytes, one cut short, and one still arriving at
    ``deadline`` (``allowed`` s after the start) or silent for DOWNLOAD_READ_TIMEOUT s."""
    from tqdm.auto import tqdm

    length = response.headers.get("Content-Length")
    announced = int(length) if length and length.isdigit() else None
    if announced is not None and announced > limit:
        raise _DownloadFailed(
            f"it announced {announced} bytes, but {filename} has at most {limit}: refused unread"
        )
    digest, received = hashlib.sha256(), 0
    read = getattr(response, "read1", response.read)  # read1: whatever has arrived, no waiting
    small = announced is not None and announced < 1 << 20
    bar = tqdm(total=announced, unit="B", unit_scale=True, desc=filename, leave=False,
               file=sys.stderr, mininterval=1.0, disable=small)  # fmt: skip
    with bar:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _DownloadFailed(
                    f"it took longer than {allowed:.0f} s, with {received} bytes received: "
                    "abandoned"
                )
            _set_read_timeout(response, min(DOWNLOAD_READ_TIMEOUT, left))
            try:
                chunk = read(1 << 16)
            except TimeoutError:
                if time.monotonic() >= deadline:
                    continue  # reported as too slow above
                raise TimeoutError(f"no data for {DOWNLOAD_READ_TIMEOUT:g} s") from None
            if not chunk:
                break
            received += len(chunk)
            if received > limit:
                raise _DownloadFailed(
                    f"it sent more than {limit} bytes, but {filename} has at most {limit}: refused"
                )
            digest.update(chunk)
            try:
                f.write(chunk)
            except OSError as error:  # a full or failing disk is not the download's fault
                raise _Unwritable(f"writing {tmp} failed ({error.strerror or error})") from None
            bar.update(len(chunk))
    if announced is not None and received < announced:
        raise _DownloadFailed(f"it was cut short: {received} of {announced} bytes arrived")
    return digest.hexdigest()


def _missing_message(name: str, filename: str, folders: Sequence[Path], reason: str) -> str:
    """Say where ``filename`` was looked for, why it was not fetched, and how to get it."""
    source = SOURCES[name]
    searched = "".join(f"\n  {folder}" for folder in folders)
    if not os.environ.get("GANLAB_DATA"):
        searched = f"\n  $GANLAB_DATA/{name} (GANLAB_DATA is not set){searched}"
    ways = [f"set GANLAB_DATA to a folder that holds {name}/{filename} and the other files"]
    if source.debian_package:
        ways.append(
            f"install Debian's package: apt-get install {source.debian_package} "
            f"(it puts the files in {source.system_dir})"
        )
    ways.append(
        f"allow the download (download=True, with network access), or put the files "
        f"from {source.mirror} in {cache_dir(name)}"
    )
    steps = "".join(f"\n  {i}. {way}" for i, way in enumerate(ways, 1))
    return (
        f"{source.title} file {filename} was not found in:{searched}\n"
        f"and {reason}. Get the data one of these ways:{steps}"
    )
