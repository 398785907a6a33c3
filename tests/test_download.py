"""Downloads from a mirror that misbehaves (issue 22 items 5 and 6): slow, stalled, oversized,
truncated or wrong answers end within a bounded time and memory with a clear error and leave
nothing behind; a cache that cannot be written does not throw a good download away.

The mirror is an HTTP server on 127.0.0.1 in a thread; every answer it gives ends by itself
within 8 s, so even a download without bounds finishes (and fails these tests on time)."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.server
import struct
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from ganlab import data
from ganlab.data import images

torch.set_num_threads(1)
NAME = "fashion-mnist"
IMAGES, LABELS = data.IDX_FILES["test"]
SERVER_GIVES_UP = 8.0  # seconds: the longest any answer of the test mirror lasts
BOUND = 4.0  # seconds: the longest a refused download may take here


def gz_idx(array: np.ndarray) -> bytes:
    header = struct.pack(f">I{array.ndim}I", 0x0800 | array.ndim, *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


SPLIT = {
    IMAGES: gz_idx(np.arange(3 * 28 * 28).reshape(3, 28, 28) % 251),
    LABELS: gz_idx(np.array([4, 4, 4])),
}


class Mirror(http.server.BaseHTTPRequestHandler):
    """Answers GET /fashion-mnist/FILE as ``self.server.mode`` says."""

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        server = self.server
        body = SPLIT[self.path.rsplit("/", 1)[-1]]
        mode = server.mode
        started = time.monotonic()
        try:
            if mode == "good":
                self.head(len(body))
                self.wfile.write(body)
            elif mode == "wrong":
                self.head(len(body))
                self.wfile.write(body[:-1] + bytes([body[-1] ^ 1]))
            elif mode == "truncated":
                self.head(len(body))
                self.wfile.write(body[: len(body) // 2])
            elif mode == "drip":  # one byte every 0.2 s: each read returns, the whole never does
                self.head(len(body))
                for byte in body:
                    if server.stop.wait(0.2) or time.monotonic() - started > SERVER_GIVES_UP:
                        break
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            elif mode == "stall":  # the headers, then silence
                self.head(len(body))
                self.wfile.flush()
                server.stop.wait(SERVER_GIVES_UP)
            elif mode in ("huge", "huge_unannounced"):  # 40 MB of zeros for a small file
                self.head(40 << 20 if mode == "huge" else None)
                block = bytes(1 << 16)
                for _ in range(40 << 4):
                    if server.stop.is_set() or time.monotonic() - started > SERVER_GIVES_UP:
                        break
                    self.wfile.write(block)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def head(self, length: int | None) -> None:
        self.send_response(200)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[http.server.HTTPServer]:
    """The misbehaving mirror, fresh empty folders, and download bounds of about a second."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Mirror)
    server.daemon_threads = True
    server.block_on_close = False
    server.mode, server.stop = "good", threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("GANLAB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("GANLAB_DATA_MIRROR", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    table = {f: (hashlib.sha256(raw).hexdigest(),) for f, raw in SPLIT.items()}
    sizes = {f: len(raw) for f, raw in SPLIT.items()}
    source = dataclasses.replace(data.SOURCES[NAME], sha256=table, sizes=sizes,
                                 system_dir=tmp_path / "system")  # fmt: skip
    monkeypatch.setitem(data.SOURCES, NAME, source)
    monkeypatch.setattr(images, "DOWNLOAD_MIN_SECONDS", 1.0)
    monkeypatch.setattr(images, "DOWNLOAD_READ_TIMEOUT", 0.5)
    images._LOADED.clear()
    yield server
    server.stop.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
    images._LOADED.clear()


def files_under(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.mark.parametrize(
    "mode, reason",
    [
        ("drip", r"failed \(it took longer than 1 s, with \d+ bytes received: abandoned\)"),
        ("stall", r"failed \(no data for 0.5 s\)"),
        ("huge", r"failed \(it announced 41943040 bytes, but .* has at most \d+: refused unread"),
        ("huge_unannounced", r"failed \(it sent more than \d+ bytes, but .* has at most \d+"),
        ("truncated", r"failed \(it was cut short: \d+ of \d+ bytes arrived\)"),
        ("wrong", r"the download from http://127\.0\.0\.1:\d+/fashion-mnist/\S+ has SHA-256"),
    ],
)
def test_a_bad_mirror_fails_within_bounded_time_and_memory_and_keeps_nothing(
    mirror, tmp_path, mode, reason
):
    """Before: the drip and the stall ran until the server gave up (8 s, for ever with a real
    one); the 40 MB bodies were read into memory before the SHA-256 refused them."""
    mirror.mode = mode
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(data.DataError, match=reason):
            data.fashion_mnist("test")
        elapsed = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < BOUND, f"{mode}: {elapsed:.1f} s"
    assert peak < 8 << 20, f"{mode}: {peak / 2**20:.1f} MiB at the peak"
    assert files_under(tmp_path / "cache") == [] and files_under(tmp_path / "tmp") == []
    print(f"{mode}: refused in {elapsed:.2f} s, peak {peak / 2**20:.2f} MiB")


def test_a_good_mirror_still_downloads_into_the_cache(mirror, tmp_path, capsys):
    test = data.fashion_mnist("test")
    assert test.labels.tolist() == [4, 4, 4]
    assert files_under(tmp_path / "cache") == sorted(SPLIT)
    assert test.files[0] == tmp_path / "cache" / "ganlab" / NAME / IMAGES


def test_an_unwritable_cache_keeps_the_download_in_a_fallback_folder(mirror, tmp_path, capsys):
    """Before: the verified download was thrown away and the error blamed the download."""
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    test = data.fashion_mnist("test")
    assert test.labels.tolist() == [4, 4, 4]
    fallback = data.download_fallback_dir(NAME)
    assert fallback.is_relative_to(tmp_path / "tmp") and test.files[0] == fallback / IMAGES
    assert files_under(fallback) == sorted(SPLIT)
    err = capsys.readouterr().err
    assert f"cannot write to the cache folder {tmp_path / 'cache'}" in err
    assert f"keeping the download in {fallback}" in err


def test_no_writable_folder_at_all_names_them_and_does_not_blame_the_download(mirror, tmp_path):
    (tmp_path / "cache").write_text("not a folder")
    (tmp_path / "tmp").rmdir()
    (tmp_path / "tmp").write_text("not a folder either")
    with pytest.raises(data.DataError, match="could not be saved: no folder could be written") as e:
        data.fashion_mnist("test")
    assert str(tmp_path / "cache") in str(e.value) and "tmp" in str(e.value)
    assert "download from" not in str(e.value)
