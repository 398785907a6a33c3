"""Time what a lecturer waits for in the chapter-2 and chapter-3 widgets (one CPU thread).

Usage: python bench/widgets.py

Prints, for the default settings of each widget:
- SaturationExplorer: one "run experiment" click (both generator losses, 400 steps each)
  and one redraw after moving the D(G(z)) slider;
- DiracGAN: one control change (500 steps recomputed and redrawn) per regulariser;
- ModeCollapseLab: one "train 250 steps" click per remedy, on the ring.
The 2-D playground of chapter 1 has its own script, bench/playground.py.
"""

from __future__ import annotations

import time

import torch

import ganlab as gl


def seconds(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    torch.set_num_threads(1)
    explorer = gl.widgets.SaturationExplorer()
    print(f"SaturationExplorer  redraw after the slider: {seconds(explorer.png):5.2f} s")
    print(f"SaturationExplorer  run experiment:          {seconds(explorer.run_experiment):5.2f} s")
    dirac = gl.widgets.DiracGAN()
    for regularizer in gl.widgets.REGULARIZERS:
        took = seconds(lambda r=regularizer: (dirac.set(regularizer=r, strength=0.7), dirac.png()))
        print(f"DiracGAN            {regularizer:18s}       {took:5.2f} s")
    for remedy in gl.experiments.REMEDIES:
        lab = gl.widgets.ModeCollapseLab("ring", remedy)
        took = seconds(lambda lab=lab: (lab.train(), lab.png()))
        print(f"ModeCollapseLab     train 250 steps, {remedy:13s} {took:5.2f} s")


if __name__ == "__main__":
    main()
