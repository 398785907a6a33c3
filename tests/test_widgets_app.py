"""ganlab.widgets._app.App: without ipywidgets an app still works and says how to get the
controls."""

from __future__ import annotations

import re
import sys

import pytest

from ganlab import widgets


@pytest.mark.parametrize("make", [widgets.SaturationExplorer, widgets.DiracGAN])
def test_without_ipywidgets_the_apps_work_and_say_how_to_get_the_controls(
    make, monkeypatch, capsys
):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # `import ipywidgets` now fails
    app = make()
    with pytest.raises(ImportError, match=re.escape(f"{app.name}.widget needs ipywidgets")):
        app.widget  # noqa: B018
    app._ipython_display_()  # falls back to the picture and a hint
    assert "the live controls need ipywidgets" in capsys.readouterr().out
