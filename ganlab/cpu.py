"""How many CPU threads torch uses, and how they wait: one decision, made from the machine.

Measured on a 2-core machine (README, "CPU threads"; ``bench/contention.py``):

* Small MLPs (the toy GANs of chapters 0-3 and 6, the playground) are bound by per-operation
  overhead, not arithmetic: one thread is as fast as two, and a busy core cannot stall it.
* Convolutions (the image chapters 4-5, ``fit_epochs``, ``python -m ganlab train``) scale with
  cores. But torch's OpenMP workers spin-wait for each other, so when another program holds
  one core every parallel operation waits for a descheduled thread: chapter 4 took 639 s
  instead of 18.5 s (``bench/contention.py --old``). Passive waiting
  (``OMP_WAIT_POLICY=PASSIVE``, which OpenMP reads once, when torch loads; ``import ganlab``
  sets it if torch is not loaded yet and the variable is unset) costs nothing on a quiet
  machine; using only the cores that are idle removes the rest.

The plan: ``"mlp"`` work gets 1 thread; ``"conv"`` work gets the cores this process may run on
(``os.sched_getaffinity``) less those that other programs keep busy right now (sampled from
``/proc/stat`` for 0.2 s; elsewhere from the load average), at least 1. ``GANLAB_THREADS=N`` in
the environment, or ``threads=N``, overrides both.

Precision: where oneDNN computes bfloat16 natively (AVX-512 BF16, AMX), ``"conv"`` work trains
the image GANs with their forward passes in bf16 (``train_images.fit_epochs(precision=...)``): a
DCGAN step took 73-75 ms against 101-105 ms in fp32, and the FID-like score after one epoch stayed
within the seeds' spread (``bench/bf16.py``). Elsewhere bf16 is emulated and slower, so fp32.
``GANLAB_BF16=0`` keeps fp32 everywhere.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import torch

from ganlab._checks import positive_int

Work = Literal["mlp", "conv"]
WORK = ("mlp", "conv")
ENV_THREADS = "GANLAB_THREADS"
ENV_BF16 = "GANLAB_BF16"
BUSY_FRACTION = 0.5  # a core counts as busy when other programs use more than this share of it


def usable_cores() -> list[int]:
    """The CPUs this process may run on (its affinity set; all CPUs where that is unknown)."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def _proc_stat() -> dict[int, tuple[int, int]]:
    """(busy, total) jiffies of every CPU, from /proc/stat's ``cpuN`` lines."""
    times = {}
    with open("/proc/stat") as stat:
        for line in stat:
            name, *fields = line.split()
            if name.startswith("cpu") and name != "cpu":
                # user nice system idle iowait irq softirq steal
                ticks = [int(f) for f in fields[:8]]
                times[int(name[3:])] = (sum(ticks) - ticks[3] - ticks[4], sum(ticks))
    return times


def busy_cores(cores: list[int], seconds: float = 0.2) -> int:
    """How many of ``cores`` other programs keep busy: each core's busy share over ``seconds``
    (this process sleeps meanwhile) against ``BUSY_FRACTION``. Where /proc/stat is missing
    (macOS, Windows) the 1-minute load average stands in, rounded down."""
    try:
        before = _proc_stat()
        time.sleep(seconds)
        after = _proc_stat()
    except (OSError, ValueError):
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        return min(int(load), len(cores))
    busy = 0
    for core in cores:
        if core in before and core in after:
            used = after[core][0] - before[core][0]
            total = after[core][1] - before[core][1]
            busy += total > 0 and used / total > BUSY_FRACTION
    return busy


@dataclass(frozen=True)
class Plan:
    """The decision: ``threads`` for ``work`` on ``usable`` cores, ``busy`` of them taken by
    other programs; ``source`` says who decided (``"machine"``, ``"argument"`` or the
    environment variable); ``wait`` is OpenMP's wait policy as torch loaded it."""

    work: str
    threads: int
    usable: int
    busy: int
    source: str
    wait: str
    precision: torch.dtype = torch.float32

    def __str__(self) -> str:
        why = {
            "machine": f"{self.usable} cores usable, {self.busy} busy"
            if self.work == "conv"
            else "small networks",
            "argument": "threads= given",
        }.get(self.source, f"{self.source} set")
        bf16 = (
            "; bf16 forward passes (native on this CPU)" if self.precision == torch.bfloat16 else ""
        )
        return (
            f"torch CPU threads: {self.threads} for {self.work} ({why}); "
            f"wait policy {self.wait}{bf16}"
        )


def wait_policy() -> str:
    """OpenMP's wait policy: ``OMP_WAIT_POLICY`` (read once, when torch loaded), or libgomp's
    default (spin for a while, then sleep) where it is unset."""
    return os.environ.get("OMP_WAIT_POLICY", "unset (spin, then sleep)")


def bf16_native() -> bool:
    """Whether oneDNN computes bfloat16 natively on this CPU (under its instruction-set limit,
    ``ONEDNN_MAX_CPU_ISA``), unless ``GANLAB_BF16=0``."""
    if os.environ.get(ENV_BF16, "1") == "0":
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch built without oneDNN
        return False


def plan(work: Work, threads: int | None = None) -> Plan:
    """Decide the number of torch threads for ``work`` ("mlp" or "conv") on this machine."""
    if work not in WORK:
        raise ValueError(f"work must be one of {WORK}, got {work!r}")
    cores = usable_cores()
    env = os.environ.get(ENV_THREADS)
    if threads is not None:
        chosen, source, busy = positive_int("threads", threads), "argument", 0
    elif env is not None:
        try:
            chosen = positive_int(ENV_THREADS, int(env))
        except ValueError:
            raise ValueError(f"{ENV_THREADS} must be a positive integer, got {env!r}") from None
        source, busy = ENV_THREADS, 0
    elif work == "mlp":
        chosen, source, busy = 1, "machine", 0
    else:
        busy = busy_cores(cores)
        chosen, source = max(1, len(cores) - busy), "machine"
    precision = torch.bfloat16 if work == "conv" and bf16_native() else torch.float32
    return Plan(work, chosen, len(cores), busy, source, wait_policy(), precision)


def setup(work: Work, threads: int | None = None) -> Plan:
    """Apply ``plan(work, threads)`` to torch (``torch.set_num_threads``) and return it; a
    chapter's set-up cell calls this once and prints the plan."""
    decided = plan(work, threads)
    torch.set_num_threads(decided.threads)
    return decided


@contextlib.contextmanager
def using_threads(threads: int | None) -> Iterator[None]:
    """Run the block with ``threads`` torch threads (None: leave them), then restore the count."""
    old = torch.get_num_threads()
    if threads is None or threads == old:
        yield
        return
    torch.set_num_threads(positive_int("threads", threads))
    try:
        yield
    finally:
        torch.set_num_threads(old)
