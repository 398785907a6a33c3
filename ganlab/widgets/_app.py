"""The skeleton every small widget app of the book shares: headless state, a figure, and
ipywidgets controls built on first display that call back into the same methods."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from ganlab.widgets._common import _Figure, show_widget_or_picture


def require_ipywidgets(app: str) -> Any:
    """``import ipywidgets``, or an ImportError that says what still works without it."""
    try:
        import ipywidgets
    except ImportError as error:
        raise ImportError(
            f"{app}.widget needs ipywidgets (pip install ipywidgets); without it call "
            f"{app}.figure() and its methods from code"
        ) from error
    return ipywidgets


class App:
    """Base of the book's widget apps: ``figure()`` draws the state, ``widget`` shows it live."""

    name = "App"
    figsize: tuple[float, float] = (9, 3.4)  # inches at 80 dpi; an app may make it a property

    def __init__(self) -> None:
        self._widget: Any = None
        self._image: Any = None
        self._status: Any = None
        self._in_action = False  # inside run_safely: draw once, at the end

    def draw(self, fig: _Figure) -> None:  # pragma: no cover - every app overrides it
        raise NotImplementedError

    def figure(self) -> _Figure:
        """A new matplotlib Figure of the current state (no pyplot, so nothing is shown twice)."""
        fig = _Figure(figsize=self.figsize, dpi=80, layout="constrained")
        self.draw(fig)
        return fig

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.figure().savefig(buffer, format="png")
        return buffer.getvalue()

    @property
    def widget(self) -> Any:
        """The ipywidgets UI (built on first use; needs ``ipywidgets``)."""
        if self._widget is None:
            W = require_ipywidgets(self.name)
            self._image = W.Image(format="png")
            self._status = W.HTML()
            controls = self.build_controls(W)
            self._widget = self.layout(W, controls)
            self.refresh()
        return self._widget

    def build_controls(self, W: Any) -> Any:  # pragma: no cover - every app overrides it
        raise NotImplementedError

    def layout(self, W: Any, controls: Any) -> Any:
        """The UI's box: the controls, then the status line and the picture."""
        return W.VBox([controls, self._status, self._image])

    def status(self) -> str:
        return ""

    def refresh(self) -> None:
        """Redraw the picture and the status line of a displayed widget."""
        if self._image is not None and not self._in_action:
            self._image.value = self.png()
            self._status.value = self.status()

    def run_safely(self, action: Callable[[], Any]) -> bool:
        """Run a control's action and redraw; an error goes to the status line, not a log.

        Returns whether the action ran without an error.
        """
        self._in_action = True
        try:
            action()
        except Exception as error:
            message = f"<br><span style='color:#b00'>{type(error).__name__}: {error}</span>"
        else:
            message = ""
        finally:
            self._in_action = False
        self.refresh()
        if message and self._status is not None:
            self._status.value += message
        return not message

    def _ipython_display_(self) -> None:
        show_widget_or_picture(self, self.figure)
