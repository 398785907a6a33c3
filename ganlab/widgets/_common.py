"""What the book's widgets share: figures that show themselves, version-tolerant controls,
and image/HTML encoding. Nothing here imports ipywidgets at module level."""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from ganlab import plot
from ganlab._checks import positive_float


class _Figure(Figure):
    """A Figure that shows itself as a PNG in IPython even before pyplot set up a backend."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()


def _make(cls: Any, **kwargs: Any) -> Any:
    """``cls(**kwargs)`` without the keywords this ipywidgets version does not know."""
    traits = set(cls.class_trait_names())
    return cls(**{name: value for name, value in kwargs.items() if name in traits})


def _playing_trait(play: Any) -> str:
    """The Play widget's "is playing" trait: ``playing`` in ipywidgets 8, ``_playing`` in 7."""
    return "playing" if "playing" in play.trait_names() else "_playing"


def _show_value(widget: Any, value: Any) -> None:
    """Set a control's value, widening a Dropdown's options or an IntSlider's max to fit."""
    options = getattr(widget, "options", None)
    if options is not None and value not in options:
        widget.options = sorted(set(options) | {value})
    if type(widget).__name__ == "IntSlider" and value > widget.max:
        widget.max = value
    widget.value = value


def _nice_ceiling(x: float) -> float:
    """The smallest of 1, 2, 5 x 10^k that is >= x > 0."""
    power = 10.0 ** math.floor(math.log10(x))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= x)


def _encode(rgb: np.ndarray, fmt: str = "png") -> bytes:
    """Encode an RGB image (H, W, 3) as PNG with fast compression, or as JPEG."""
    from PIL import Image  # a dependency of matplotlib

    buffer = io.BytesIO()
    image = Image.fromarray(rgb)
    if fmt == "png":
        image.save(buffer, format="PNG", compress_level=1)
    elif fmt in ("jpeg", "jpg"):
        image.save(buffer, format="JPEG", quality=85)
    else:
        raise ValueError(f"unknown image format {fmt!r}; expected 'png' or 'jpeg'")
    return buffer.getvalue()


def _stable_ids(html: str) -> str:
    """Replace ``to_jshtml``'s random element id by a hash of the page, for reproducible HTML."""
    match = re.search(r"_anim_img([0-9a-f]{32})", html)
    if match is None:
        return html
    random_id = match.group(1)
    stable = hashlib.sha256(html.replace(random_id, "").encode()).hexdigest()[:32]
    return html.replace(random_id, stable)


def images_to_jshtml(images: Any, titles: list[str], fps: float, dpi: float = 90) -> str:
    """Images (T, C, H, W) in [-1, 1], one per frame under its title, as ``frames_to_jshtml``
    HTML: the static fallback of the image widgets (latent walk, Turing test); at 90 dpi a
    frame is 378 px wide and its 10-pt title 12.5 px."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if len(images) != len(titles):
        raise ValueError(f"one title per image: got {len(images)} images and {len(titles)} titles")
    pictures = []
    for image, title in zip(images, titles, strict=True):
        fig = _Figure(figsize=(4.2, 4.5), dpi=dpi, layout="constrained")
        canvas = FigureCanvasAgg(fig)
        plot.image_grid(image[None], nrow=1, ax=fig.add_subplot(), title=title)
        canvas.draw()
        pictures.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    return frames_to_jshtml(pictures, dpi=dpi, fps=fps)


def frames_to_jshtml(
    frames: list[np.ndarray], dpi: float, fps: float, frame_format: str = "png"
) -> str:
    """RGB frames (H, W, 3) as the HTML of a JS animation player (``to_jshtml``).

    A figure of exactly the frame's pixels holds one unresampled figimage: each frame
    costs one image copy and an encode, not a full matplotlib draw. The element ids are
    derived from the frames, so the same frames give the same HTML. Every frame must have
    the first one's shape (a smaller one would show cropped, a larger one rescaled).
    """
    from matplotlib import rc_context

    positive_float("fps", fps)
    positive_float("dpi", dpi)
    if len(frames) == 0:
        raise ValueError("an animation needs at least one frame, got none")
    shapes = {np.shape(frame) for frame in frames}
    first = np.shape(frames[0])
    if len(shapes) != 1 or len(first) != 3 or first[2] != 3:
        raise ValueError(
            f"frames must be RGB arrays (H, W, 3) of one shape, got shapes {sorted(shapes)}"
        )
    from matplotlib.animation import FuncAnimation
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    height, width, _ = frames[0].shape
    movie = Figure(figsize=((width + 0.5) / dpi, (height + 0.5) / dpi), dpi=dpi)
    FigureCanvasAgg(movie)
    image = movie.figimage(frames[0])

    def show(i: int) -> list[Any]:
        image.set_data(frames[i])
        return [image]

    anim = FuncAnimation(movie, show, frames=len(frames), interval=1000 / fps, repeat=False)
    with rc_context({"savefig.dpi": "figure", "animation.frame_format": frame_format}):
        html = anim.to_jshtml(default_mode="once")
    return _stable_ids(html)


def show_widget_or_picture(app: Any, picture: Callable[[], Any]) -> None:
    """Display ``app.widget``; without ipywidgets, ``picture()`` and a hint instead of a dead control."""
    from IPython.display import display

    try:
        widget = app.widget
    except ImportError:
        display(picture())
        print("(the live controls need ipywidgets: pip install ipywidgets)")
        return
    display(widget)
