"""ganlab.cpu: the thread plan, the busy-core probe, and the wait policy set at import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from ganlab import cpu


@pytest.fixture(autouse=True)
def keep_threads(monkeypatch):
    monkeypatch.delenv(cpu.ENV_THREADS, raising=False)
    old = torch.get_num_threads()
    yield
    torch.set_num_threads(old)


def test_small_networks_get_one_thread():
    plan = cpu.plan("mlp")
    assert (plan.threads, plan.source) == (1, "machine")
    assert str(plan).startswith("torch CPU threads: 1 for mlp (small networks)")


def test_convolutions_get_the_idle_cores(monkeypatch):
    monkeypatch.setattr(cpu, "usable_cores", lambda: [0, 1, 2, 3])
    monkeypatch.setattr(cpu, "busy_cores", lambda cores: 1)
    plan = cpu.plan("conv")
    assert (plan.threads, plan.usable, plan.busy) == (3, 4, 1)
    assert "3 for conv (4 cores usable, 1 busy)" in str(plan)
    monkeypatch.setattr(cpu, "busy_cores", lambda cores: 4)
    assert cpu.plan("conv").threads == 1  # never fewer than one


def test_the_reader_overrides_the_machine(monkeypatch):
    monkeypatch.setenv(cpu.ENV_THREADS, "3")
    assert (cpu.plan("mlp").threads, cpu.plan("mlp").source) == (3, cpu.ENV_THREADS)
    assert cpu.plan("conv", threads=2).threads == 2  # the argument wins over the variable
    assert "(GANLAB_THREADS set)" in str(cpu.plan("conv"))


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_environment_variable_is_named(monkeypatch, value):
    monkeypatch.setenv(cpu.ENV_THREADS, value)
    with pytest.raises(
        ValueError, match=f"GANLAB_THREADS must be a positive integer, got '{value}'"
    ):
        cpu.plan("conv")


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="work must be one of .*'gpu'"):
        cpu.plan("gpu")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="threads must be a positive integer, got 0"):
        cpu.plan("conv", threads=0)


def test_setup_applies_the_plan():
    plan = cpu.setup("conv", threads=1)
    assert torch.get_num_threads() == plan.threads == 1


def test_using_threads_restores_the_count():
    torch.set_num_threads(2)
    with cpu.using_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2
    with cpu.using_threads(None):
        assert torch.get_num_threads() == 2


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="Linux's /proc/stat")
def test_a_core_kept_busy_by_another_program_is_seen():
    core = cpu.usable_cores()[-1]
    spin = subprocess.Popen(
        [sys.executable, "-c", f"import os; os.sched_setaffinity(0, {{{core}}})\nwhile True: pass"]
    )
    try:
        assert cpu.busy_cores([core], seconds=0.5) == 1
    finally:
        spin.kill()
        spin.wait()


def test_without_proc_stat_the_load_average_stands_in(monkeypatch):
    def missing():
        raise OSError("no /proc/stat")

    monkeypatch.setattr(cpu, "_proc_stat", missing)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.7, 0.0, 0.0), raising=False)
    assert cpu.busy_cores([0, 1, 2], seconds=0) == 1
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 0.0, 0.0), raising=False)
    assert cpu.busy_cores([0, 1], seconds=0) == 2


def _wait_policy_after(code: str, env: dict[str, str]) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    done = subprocess.run(
        [sys.executable, "-c", code + "\nimport os; print(os.environ.get('OMP_WAIT_POLICY'))"],
        env=clean | env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


def test_import_makes_torchs_threads_wait_passively_unless_told_otherwise():
    assert _wait_policy_after("import ganlab", {}) == "PASSIVE"
    assert _wait_policy_after("import ganlab", {"OMP_WAIT_POLICY": "ACTIVE"}) == "ACTIVE"
    # torch loaded first: OpenMP has read its settings already, so ganlab changes nothing
    assert _wait_policy_after("import torch, ganlab", {}) == "None"


CHAPTERS = sorted((Path(__file__).resolve().parents[1] / "book").glob("*.ipynb"))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_chapter_sets_threads_by_hand(path):
    """Each chapter asks ganlab.cpu once, after importing ganlab before torch (so that the
    wait policy applies), and never calls torch.set_num_threads itself."""
    code = [c.source for c in nbformat.read(path, 4).cells if c.cell_type == "code"]
    assert not [s for s in code if "set_num_threads" in s], "use gl.cpu.setup(work)"
    setups = [s for s in code if "gl.cpu.setup(" in s]
    assert len(setups) == 1, f"{len(setups)} cells call gl.cpu.setup; expected one"
    imports = [line for line in setups[0].splitlines() if line.startswith("import ")]
    assert imports[0].startswith("import ganlab as gl"), imports


def test_bf16_for_convolutions_only_where_native_and_not_switched_off(monkeypatch):
    monkeypatch.setattr(cpu, "busy_cores", lambda cores: 0)
    monkeypatch.setattr(cpu, "bf16_native", lambda: True)
    assert cpu.plan("conv").precision == torch.bfloat16
    assert "bf16 forward passes" in str(cpu.plan("conv"))
    assert cpu.plan("mlp").precision == torch.float32
    monkeypatch.setattr(cpu, "bf16_native", lambda: False)
    assert cpu.plan("conv").precision == torch.float32


def test_bf16_native_follows_onednn_and_the_switch(monkeypatch):
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    assert cpu.bf16_native()
    monkeypatch.setenv(cpu.ENV_BF16, "0")
    assert not cpu.bf16_native()
