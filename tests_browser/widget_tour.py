"""Which widget each chapter shows, and how to try it: one table for two front ends.

``TOURS`` names, for every widget class of ``ganlab.widgets``, the chapter whose cell shows
it, the button that advances its model ("play": the Play widget) and one control to change.
The front-end test (test_live_widgets.py) presses them in JupyterLab; ``drive`` presses them
from Python, through the ipywidgets objects only, so that it runs under any ipywidgets
version (the Colab simulation runs it under Colab's 7.7.1 at the end of every chapter).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tour:
    """One widget: its class, the chapter that shows it, what advances it, what to change."""

    widget: str  # class name in ganlab.widgets
    chapter: str  # notebook stem in book/
    advance: str | None  # "play", a button's description (or its start), or None: no model
    control: str  # description of the control to change


TOURS = (
    Tour("Playground", "01_adversarial_game", advance="play", control="seed"),
    Tour("SaturationExplorer", "02_saturation", advance="run experiment", control="D(G(z))"),
    Tour("DiracGAN", "02_saturation", advance=None, control="loss"),
    Tour("ModeCollapseLab", "03_mode_collapse", advance="train", control="remedy"),
    Tour("LatentExplorer", "04_dcgan", advance=None, control="seed z0"),
    Tour("TuringTest", "05_evaluation", advance="real", control="start again"),
    Tour("ClassPicker", "07_conditional", advance=None, control="class y"),
)

ERROR_MARK = "color:#b00"  # how a widget's status line shows an error raised in a callback


def walk(widget: Any) -> list[Any]:
    """Every widget in an ipywidgets tree, depth first."""
    found = [widget]
    for child in getattr(widget, "children", ()):
        found += walk(child)
    return found


def find(box: Any, description: str) -> Any:
    """The control whose description is ``description`` ("play": the Play widget; a button's
    description may be given by its start, "train" for "train 200 steps")."""
    for w in walk(box):
        if description == "play" and type(w).__name__ == "Play":
            return w
        text = getattr(w, "description", None)
        if text == description or (type(w).__name__ == "Button" and text.startswith(description)):
            return w
    shown = [w.description for w in walk(box) if getattr(w, "description", "")]
    raise AssertionError(f"no control {description!r} in the widget; it has {shown}")


def nudge(control: Any) -> None:
    """Press a button, step the Play widget once, or move a control to a neighbouring value."""
    kind = type(control).__name__
    if kind == "Button":
        control.click()
    elif kind == "Play":
        control.value += 1  # what the browser sends every interval while playing
    elif getattr(control, "options", None):  # Dropdown, ToggleButtons: the next option
        control.index = (control.index + 1) % len(control.options)
    elif kind == "FloatLogSlider":
        up = control.value * control.base**control.step
        control.value = up if up <= control.max else control.value / control.base**control.step
    else:  # sliders and number boxes
        step = getattr(control, "step", None) or 1
        up = control.value + step
        control.value = up if up <= getattr(control, "max", up) else control.value - step


def shown(box: Any) -> tuple[bytes, str]:
    """What the widget shows: its picture (PNG bytes) and the text of its HTML lines."""
    images = [bytes(w.value) for w in walk(box) if type(w).__name__ == "Image"]
    html = " ".join(w.value for w in walk(box) if type(w).__name__ == "HTML")
    if len(images) != 1 or not images[0].startswith(b"\x89PNG"):
        raise AssertionError(f"expected one PNG picture in the widget, got {len(images)} images")
    return images[0], html


def drive(app: Any, tour: Tour) -> str:
    """Build ``app.widget``, advance it, change its control; each must change what is shown.

    Raises AssertionError naming the step and the widget; returns a one-line summary.
    """
    box = app.widget
    before = shown(box)
    for step in ([tour.advance] if tour.advance else []) + [tour.control]:
        nudge(find(box, step))
        after = shown(box)
        if ERROR_MARK in after[1]:
            raise AssertionError(f"{tour.widget}: {step!r} raised: {after[1]}")
        if after == before:
            raise AssertionError(f"{tour.widget}: {step!r} changed neither picture nor status")
        before = after
    return (
        f"{tour.widget}: built, {tour.advance or 'no model to advance'}, {tour.control!r} changed"
    )


def widget_cell(cells: list[dict], widget: str) -> tuple[int, str]:
    """The index of the one cell that builds ``name = gl.widgets.<widget>(``, and the name."""
    pattern = re.compile(rf"^(\w+) = gl\.widgets\.{widget}\(", re.MULTILINE)
    found = [
        (i, match.group(1))
        for i, cell in enumerate(cells)
        if (match := pattern.search("".join(cell["source"])))
    ]
    if len(found) != 1:
        raise AssertionError(f"expected one cell that builds {widget}, got (cell, name) {found}")
    return found[0]


def drive_all(namespace: dict[str, Any], chapter: str, names: dict[str, str]) -> None:
    """``drive`` every widget of ``chapter``: ``namespace[names[widget]]`` (a kernel's globals)."""
    for tour in (t for t in TOURS if t.chapter == chapter):
        print(drive(namespace[names[tour.widget]], tour))
