"""ganlab.data's image loaders: the IDX parser, the search order, checksums, downloads.

Every test works on tiny IDX files it writes itself, in temporary folders, served (for the
download path) by an HTTP server on 127.0.0.1: nothing here touches the internet. The last
tests read Debian's real Fashion-MNIST files when they are installed.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import http.server
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from ganlab import data
from ganlab.data import images

NAME = "fashion-mnist"
IMAGES, LABELS = data.IDX_FILES["test"]
SYSTEM_FASHION = Path("/usr/share/datasets/fashion-mnist")


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """The uncompressed IDX encoding of a uint8 array: magic, big-endian dims, data."""
    magic = (0x0800 | array.ndim) if magic is None else magic
    header = struct.pack(f">I{array.ndim}I", magic, *array.shape)
    return header + array.astype(np.uint8).tobytes()


def tiny_split(label: int) -> dict[str, bytes]:
    """A 3-image split as gzip files; every label is ``label`` so a test can tell copies apart."""
    pixels = np.zeros((3, 28, 28), dtype=np.uint8)
    pixels[0, 0, 0] = 255
    pixels[1] = np.arange(28 * 28).reshape(28, 28) % 256
    labels = np.full(3, label, dtype=np.uint8)
    return {IMAGES: gzip.compress(idx_bytes(pixels)), LABELS: gzip.compress(idx_bytes(labels))}


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for filename, raw in files.items():
        (folder / filename).write_bytes(raw)


def accept(monkeypatch: pytest.MonkeyPatch, *splits: dict[str, bytes]) -> None:
    """Make the checksum table accept exactly the files of ``splits``."""
    table = {filename: tuple(sha256(s[filename]) for s in splits) for filename in splits[0]}
    source = dataclasses.replace(data.SOURCES[NAME], sha256=table)
    monkeypatch.setitem(data.SOURCES, NAME, source)


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """Empty GANLAB_DATA, cache and system folders for Fashion-MNIST; no mirror reachable."""
    root = tmp_path / "ganlab-data"
    cache_home = tmp_path / "cache"
    system = tmp_path / "usr-share" / NAME
    monkeypatch.setenv("GANLAB_DATA", str(root))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.setenv("GANLAB_DATA_MIRROR", f"http://127.0.0.1:{closed_port()}/")
    source = dataclasses.replace(data.SOURCES[NAME], system_dir=system)
    monkeypatch.setitem(data.SOURCES, NAME, source)
    images._LOADED.clear()
    yield {"data": root / NAME, "cache": cache_home / "ganlab" / NAME, "system": system}
    images._LOADED.clear()


def closed_port() -> int:
    """A local port nothing listens on: a download from it fails at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Serve a folder on 127.0.0.1 and point GANLAB_DATA_MIRROR at it; yields the folder."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("GANLAB_DATA_MIRROR", f"http://127.0.0.1:{server.server_port}")
    yield folder
    server.shutdown()
    server.server_close()
    thread.join()


# ----------------------------------------------------------------------------- read_idx


def test_read_idx_reads_shape_and_bytes(tmp_path):
    pixels = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(pixels)))
    array = data.read_idx(path)
    assert array.dtype == np.uint8
    np.testing.assert_array_equal(array, pixels)
    labels = np.array([7, 0, 9], dtype=np.uint8)
    path.write_bytes(gzip.compress(idx_bytes(labels)))
    np.testing.assert_array_equal(data.read_idx(path), labels)


def test_read_idx_rejects_a_bad_magic_number(tmp_path):
    path = tmp_path / "bad-magic.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((2, 2, 2), np.uint8), magic=0x0803 + 1)))
    with pytest.raises(data.DataError, match=r"bad-magic\.gz has bad magic number 0x00000804"):
        data.read_idx(path)


def test_read_idx_rejects_a_payload_shorter_or_longer_than_its_dims(tmp_path):
    path = tmp_path / "short.gz"
    raw = idx_bytes(np.zeros((4, 28, 28), np.uint8))
    path.write_bytes(gzip.compress(raw[:-1]))
    with pytest.raises(data.DataError, match=r"short\.gz has the wrong size.*3136 bytes.*3135"):
        data.read_idx(path)
    path.write_bytes(gzip.compress(raw + b"\0"))
    with pytest.raises(data.DataError, match="wrong size"):
        data.read_idx(path)
    path.write_bytes(gzip.compress(raw[:10]))  # cut inside the header
    with pytest.raises(data.DataError, match="truncated"):
        data.read_idx(path)


def test_read_idx_rejects_a_file_that_is_not_gzip_or_cut_short(tmp_path):
    path = tmp_path / "plain.gz"
    path.write_bytes(idx_bytes(np.zeros(5, np.uint8)))  # IDX, but not compressed
    with pytest.raises(data.DataError, match=r"plain\.gz is not a valid gzip file"):
        data.read_idx(path)
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(500, np.uint8)))[:-20])  # cut gzip stream
    with pytest.raises(data.DataError, match="not a valid gzip file"):
        data.read_idx(path)
    with pytest.raises(data.DataError, match="cannot read"):
        data.read_idx(tmp_path / "missing.gz")


# ----------------------------------------------------------------------------- loading


def test_images_are_scaled_to_minus_one_one_and_labels_are_int64(places, monkeypatch):
    split = tiny_split(label=4)
    accept(monkeypatch, split)
    write_files(places["cache"], split)
    test = data.fashion_mnist("test", download=False)
    assert test.images.shape == (3, 1, 28, 28) and test.images.dtype == torch.float32
    assert test.labels.dtype == torch.int64 and test.labels.tolist() == [4, 4, 4]
    pixels = np.arange(28 * 28).reshape(28, 28) % 256
    assert_close(test.images[1, 0], torch.from_numpy(pixels / 127.5 - 1).float())
    assert test.images[0, 0, 0, 0] == 1.0 and test.images[0, 0, 0, 1] == -1.0
    assert test.classes == data.FASHION_MNIST_CLASSES and len(test) == 3
    assert (test.name, test.split) == (NAME, "test")
    assert test.files == (places["cache"] / IMAGES, places["cache"] / LABELS)
    assert data.fashion_mnist("test", download=False) is test  # cached in memory
    assert data.fashion_mnist("test") is test


def test_images_and_labels_must_agree(places, monkeypatch):
    split = tiny_split(1)
    split[LABELS] = gzip.compress(idx_bytes(np.zeros(2, np.uint8)))  # 3 images, 2 labels
    accept(monkeypatch, split)
    write_files(places["data"], split)
    with pytest.raises(data.DataError, match=r"\(3, 28, 28\) and .*\(2,\) do not match"):
        data.fashion_mnist("test", download=False)
    split[LABELS] = gzip.compress(idx_bytes(np.array([0, 10, 1], np.uint8)))
    accept(monkeypatch, split)
    write_files(places["data"], split)
    with pytest.raises(data.DataError, match="has label 10, but fashion-mnist has 10 classes"):
        data.fashion_mnist("test", download=False)


def test_search_order_is_ganlab_data_then_cache_then_system(places, monkeypatch):
    copies = {"data": tiny_split(1), "cache": tiny_split(2), "system": tiny_split(3)}
    accept(monkeypatch, *copies.values())
    for place, files in copies.items():
        write_files(places[place], files)
    for place, label in [("data", 1), ("cache", 2), ("system", 3)]:
        images._LOADED.clear()
        test = data.fashion_mnist("test", download=False)
        assert test.labels.tolist() == [label] * 3
        assert test.files[0] == places[place] / IMAGES
        for filename in copies[place]:
            (places[place] / filename).unlink()  # the next place is used only once this is gone


def test_data_dirs_follow_the_environment(places, monkeypatch):
    assert data.data_dirs(NAME) == [places["data"], places["cache"], places["system"]]
    monkeypatch.delenv("GANLAB_DATA")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data.data_dirs(NAME) == [Path.home() / ".cache/ganlab" / NAME, places["system"]]


@pytest.mark.parametrize("place", ["data", "cache", "system"])
def test_a_corrupt_file_is_reported_and_never_used(places, monkeypatch, place):
    good = tiny_split(5)
    accept(monkeypatch, good)
    write_files(places["system"], good)  # a good copy later in the search order
    corrupt = dict(good)
    corrupt[LABELS] = gzip.compress(idx_bytes(np.full(3, 6, np.uint8)))
    write_files(places[place], corrupt)
    with pytest.raises(data.DataError) as error:
        data.fashion_mnist("test", download=False)
    message = str(error.value)
    assert f"{places[place] / LABELS} has SHA-256 {sha256(corrupt[LABELS])}" in message
    assert sha256(good[LABELS]) in message and "not used" in message


def test_the_split_and_name_are_checked():
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'valid'"):
        data.fashion_mnist("valid")
    with pytest.raises(ValueError, match="unknown image data set 'cifar'"):
        data.load_idx_images("cifar")


# ----------------------------------------------------------------------------- downloads


def test_missing_files_are_downloaded_verified_and_cached(places, monkeypatch, serve, capsys):
    split = tiny_split(7)
    accept(monkeypatch, split)
    write_files(serve / NAME, split)
    test = data.fashion_mnist("test")
    assert test.labels.tolist() == [7, 7, 7]
    assert sorted(p.name for p in places["cache"].iterdir()) == sorted(split)
    for filename, raw in split.items():
        assert (places["cache"] / filename).read_bytes() == raw
    assert "ganlab: downloading http://127.0.0.1" in capsys.readouterr().err
    for filename in split:
        (serve / NAME / filename).unlink()  # the mirror is gone: the cache is enough now
    images._LOADED.clear()
    assert data.fashion_mnist("test").files[0] == places["cache"] / IMAGES


def test_only_missing_files_are_downloaded(places, monkeypatch, serve):
    split = tiny_split(2)
    accept(monkeypatch, split)
    write_files(places["system"], {IMAGES: split[IMAGES]})
    write_files(serve / NAME, {LABELS: split[LABELS]})
    test = data.fashion_mnist("test")
    assert test.files == (places["system"] / IMAGES, places["cache"] / LABELS)
    assert [p.name for p in places["cache"].iterdir()] == [LABELS]


def test_a_corrupt_download_is_not_saved(places, monkeypatch, serve):
    split = tiny_split(3)
    accept(monkeypatch, split)
    write_files(serve / NAME, {IMAGES: split[IMAGES][:-1] + b"x", LABELS: split[LABELS]})
    with pytest.raises(data.DataError, match=r"the download from http://127\.0\.0\.1.*SHA-256"):
        data.fashion_mnist("test")
    assert not places["cache"].exists() or list(places["cache"].iterdir()) == []


def test_a_download_cut_short_leaves_no_file(places, monkeypatch, tmp_path):
    split = tiny_split(3)
    accept(monkeypatch, split)

    class CutShort(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # promise the whole file, send half, hang up
            raw = split[self.path.rsplit("/", 1)[-1]]
            self.send_response(200)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw[: len(raw) // 2])

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CutShort)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("GANLAB_DATA_MIRROR", f"http://127.0.0.1:{server.server_port}/")
    try:
        with pytest.raises(data.DataError, match="download from .* failed"):
            data.fashion_mnist("test")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert not places["cache"].exists() or list(places["cache"].iterdir()) == []


def test_a_failed_write_leaves_no_partial_file(places, monkeypatch, serve):
    split = tiny_split(3)
    accept(monkeypatch, split)
    write_files(serve / NAME, split)

    def disk_full(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(images.os, "replace", disk_full)
    with pytest.raises(data.DataError, match="No space left on device"):
        data.fashion_mnist("test")
    assert list(places["cache"].iterdir()) == []  # the temporary file is gone too


def test_no_copy_and_no_network_says_how_to_get_the_data(places, monkeypatch):
    monkeypatch.delenv("GANLAB_DATA")
    with pytest.raises(data.DataError) as error:
        data.fashion_mnist("test")  # the mirror is a closed local port
    message = str(error.value)
    assert f"Fashion-MNIST file {IMAGES} was not found in:" in message
    assert "GANLAB_DATA is not set" in message
    assert str(places["cache"]) in message and str(places["system"]) in message
    assert "download from http://127.0.0.1" in message and "failed" in message
    assert "1. set GANLAB_DATA to a folder that holds fashion-mnist/" in message
    assert "2. install Debian's package: apt-get install dataset-fashion-mnist" in message
    assert "3. allow the download" in message
    with pytest.raises(data.DataError, match=r"downloads are off \(download=False\)"):
        data.fashion_mnist("test", download=False)


def test_mirror_url_defaults_to_the_official_mirror(monkeypatch):
    monkeypatch.delenv("GANLAB_DATA_MIRROR", raising=False)
    assert (
        data.mirror_url("mnist", IMAGES)
        == f"https://ossci-datasets.s3.amazonaws.com/mnist/{IMAGES}"
    )
    monkeypatch.setenv("GANLAB_DATA_MIRROR", "http://127.0.0.1:8000/")
    assert data.mirror_url(NAME, LABELS) == f"http://127.0.0.1:8000/{NAME}/{LABELS}"


# ----------------------------------------------------------------------------- real files

needs_debian_copy = pytest.mark.skipif(
    not (SYSTEM_FASHION / IMAGES).is_file(),
    reason="Debian's dataset-fashion-mnist is not installed",
)

# When the mirror's files were written (their gzip headers' time stamps).
MIRROR_MTIME = {"t10k": 1504176627, "train": 1504176606}


def mirror_copy(filename: str) -> bytes:
    """Rebuild the mirror's file from Debian's: the same deflate stream with the gzip
    header's file name and time stamp put back (Debian strips them)."""
    debian = (SYSTEM_FASHION / filename).read_bytes()
    assert debian[3] == 0  # no FNAME field in Debian's header
    mtime = MIRROR_MTIME[filename.split("-")[0]]
    name = filename.removesuffix(".gz").encode() + b"\0"
    return b"\x1f\x8b\x08\x08" + struct.pack("<I", mtime) + debian[8:10] + name + debian[10:]


@needs_debian_copy
@pytest.mark.parametrize("filename", [IMAGES, LABELS])
def test_the_checksums_accept_the_mirror_file_and_debian_copy(filename):
    mirror, debian = data.SOURCES[NAME].sha256[filename]
    assert sha256((SYSTEM_FASHION / filename).read_bytes()) == debian
    assert sha256(mirror_copy(filename)) == mirror
    official_md5 = {
        IMAGES: "bef4ecab320f06d8554ea6380940ec79",
        LABELS: "bb300cfdad3c16e7a12a480ee83cd310",
    }
    assert hashlib.md5(mirror_copy(filename)).hexdigest() == official_md5[filename]


@needs_debian_copy
def test_real_fashion_mnist_test_split_from_debian(tmp_path, monkeypatch):
    monkeypatch.delenv("GANLAB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # an empty cache: Debian's copy is used
    images._LOADED.clear()
    test = data.fashion_mnist("test", download=False)
    assert test.images.shape == (10000, 1, 28, 28) and test.images.dtype == torch.float32
    assert test.images.min() == -1.0 and test.images.max() == 1.0
    assert test.labels.shape == (10000,) and test.labels.dtype == torch.int64
    assert test.labels.bincount().tolist() == [1000] * 10
    assert len(test.classes) == 10 and test.classes[9] == "Ankle boot"
    assert test.files[0] == SYSTEM_FASHION / IMAGES
    images._LOADED.clear()


@needs_debian_copy
def test_the_mirror_file_downloads_and_loads_like_debian_copy(places, serve):
    """The download path end to end with the real (rebuilt) mirror files of the test split."""
    write_files(serve / NAME, {f: mirror_copy(f) for f in (IMAGES, LABELS)})
    downloaded = data.fashion_mnist("test")
    assert downloaded.files[0] == places["cache"] / IMAGES
    assert sha256(downloaded.files[0].read_bytes()) == data.SOURCES[NAME].sha256[IMAGES][0]
    assert downloaded.labels.bincount().tolist() == [1000] * 10
    expected = data.read_idx(SYSTEM_FASHION / IMAGES).astype(np.float32) / 127.5 - 1
    assert_close(downloaded.images, torch.from_numpy(expected).unsqueeze(1))
