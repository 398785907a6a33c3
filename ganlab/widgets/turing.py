"""The Turing test of chapter 5: real or generated? One image at a time, the reader guesses,
and the score is kept with a confidence interval: the human baseline for every automatic score."""

from __future__ import annotations

import math
from typing import Any

import torch

from ganlab import plot
from ganlab.widgets._app import App
from ganlab.widgets._common import _Figure, images_to_jshtml


def wilson_interval(correct: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval for a proportion correct / total (95 % for z = 1.96):

    (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n); (0, 1) before any answer.
    """
    if total == 0:
        return 0.0, 1.0
    if not 0 <= correct <= total:
        raise ValueError(f"correct must lie in [0, total = {total}], got {correct}")
    p, n = correct / total, total
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


class TuringTest(App):
    """A shuffled deck of real and generated images (half each); ``answer(said_real)`` scores
    a guess and moves on. ``score()`` gives (correct, answered, Wilson 95 % interval).

    A reader who cannot tell them apart scores about 50 %: the interval then contains 0.5.
    """

    name = "TuringTest"
    figsize = (2.2, 2.4)

    def __init__(self, real: torch.Tensor, fake: torch.Tensor, n: int = 20, seed: int = 0) -> None:
        super().__init__()
        if n < 2 or n % 2:
            raise ValueError(f"n must be an even number >= 2 (half real, half generated), got {n}")
        if len(real) < n // 2 or len(fake) < n // 2:
            raise ValueError(
                f"need {n // 2} real and {n // 2} generated images, got {len(real)} and {len(fake)}"
            )
        g = torch.Generator().manual_seed(seed)
        real = real[torch.randperm(len(real), generator=g)[: n // 2]]
        fake = fake[torch.randperm(len(fake), generator=g)[: n // 2]]
        order = torch.randperm(n, generator=g)
        self.images = torch.cat([real, fake])[order].detach().cpu()
        self.is_real = torch.cat(
            [torch.ones(n // 2, dtype=torch.bool), torch.zeros(n // 2, dtype=torch.bool)]
        )[order]
        self.guesses: list[bool] = []

    @property
    def done(self) -> bool:
        return len(self.guesses) == len(self.images)

    def answer(self, said_real: bool) -> bool:
        """Record a guess for the current image; return whether it was right."""
        if self.done:
            raise IndexError("the test is over: every image has been answered (call reset())")
        right = bool(said_real) == bool(self.is_real[len(self.guesses)])
        self.guesses.append(bool(said_real))
        self.refresh()
        return right

    def reset(self) -> TuringTest:
        self.guesses = []
        self.refresh()
        return self

    def score(self) -> tuple[int, int, tuple[float, float]]:
        answered = len(self.guesses)
        correct = sum(
            g == bool(r) for g, r in zip(self.guesses, self.is_real[:answered], strict=True)
        )
        return correct, answered, wilson_interval(correct, answered)

    def status(self) -> str:
        correct, answered, (low, high) = self.score()
        if answered == 0:
            return f"Image 1 of {len(self.images)}: real or generated?"
        text = (f"{correct} of {answered} right ({100 * correct / answered:.0f} %; 95 % interval "
                f"{100 * low:.0f}-{100 * high:.0f} %). ")  # fmt: skip
        if self.done:
            return text + ("You can tell them apart." if low > 0.5 else
                           "Not distinguishable from chance at this sample size.")  # fmt: skip
        return text + f"Image {answered + 1} of {len(self.images)}."

    def draw(self, fig: _Figure) -> None:
        ax = fig.add_subplot()
        i = min(len(self.guesses), len(self.images) - 1)
        if self.done:
            last = "real" if self.is_real[i] else "generated"
            title = f"done (the last was {last})"
        else:
            title = f"image {i + 1}: real or generated?"
        plot.image_grid(self.images[i : i + 1], nrow=1, ax=ax, title=title)

    def build_controls(self, W: Any) -> Any:
        real = W.Button(description="real")
        fake = W.Button(description="generated")
        again = W.Button(description="start again")
        real.on_click(lambda _: self.run_safely(lambda: self.answer(True)))
        fake.on_click(lambda _: self.run_safely(lambda: self.answer(False)))
        again.on_click(lambda _: self.run_safely(self.reset))
        return W.HBox([real, fake, again])


def turing_animation(test: TuringTest, fps: float = 1.0) -> str:
    """Static fallback of the Turing test: its images one per frame, numbered, as playable
    ``to_jshtml`` HTML (the answers are not in it: print ``test.is_real`` somewhere hidden)."""
    n = len(test.images)
    return images_to_jshtml(
        test.images, [f"{i + 1} of {n}: real or generated?" for i in range(n)], fps
    )
