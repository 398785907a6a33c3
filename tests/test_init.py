"""ganlab/__init__.py: what ``import ganlab`` loads, and what it leaves for first use."""

from __future__ import annotations

import subprocess
import sys

import pytest

DRAWING = ("matplotlib", "ipywidgets", "IPython")


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(sorted({{m.split('.')[0] for m in sys.modules}}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return eval(out.stdout.strip().splitlines()[-1])  # noqa: S307  (our own printed list)


def test_import_ganlab_loads_no_plotting_or_widget_code():
    loaded = _loaded_after("import ganlab")
    assert "torch" in loaded and "ganlab" in loaded
    assert not [m for m in DRAWING if m in loaded], loaded


def test_plot_and_widgets_load_on_first_use():
    loaded = _loaded_after("import ganlab\nganlab.plot.samples_2d\nganlab.widgets.DiracGAN")
    assert "matplotlib" in loaded  # ipywidgets waits until a widget builds its controls


def test_an_unknown_attribute_is_an_attribute_error():
    import ganlab

    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        ganlab.nothing  # noqa: B018
