"""Draw the book's schematic of the GAN game: python book/figures/gan_game.py -> gan_game.svg.

z -> G -> G(z) -> D <- x; D's score goes to both losses; G learns through D. Drawn compact and
with large type, so that it stays readable at a phone's column width (about 340 px).
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

REAL, FAKE, NET, INK = "#1b9e77", "#7570b3", "#f0f0f0", "#333333"
plt.rcParams.update({"font.size": 15, "svg.fonttype": "path", "svg.hashsalt": "ganlab"})


def box(ax, x, y, text, width, height=1.0, color=NET, weight="normal"):
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.05,rounding_size=0.15",
                                fc=color, ec=INK, lw=1.2))
    ax.text(x, y, text, ha="center", va="center", fontweight=weight, linespacing=1.3)


def arrow(ax, start, end, color=INK, ls="-", rad=0.0):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=18, color=color,
                                 lw=1.8, ls=ls, connectionstyle=f"arc3,rad={rad}"))


fig, ax = plt.subplots(figsize=(6.8, 3.9))
ax.set(xlim=(-0.1, 10.1), ylim=(-0.55, 5.3), aspect="equal")
ax.axis("off")
box(ax, 0.95, 1.4, "noise\n$z \\sim p_z$", width=1.9)
box(ax, 3.35, 1.4, "generator\n$G$", width=2.0, weight="bold")
box(ax, 5.75, 1.4, "fake\n$G(z)$", width=1.7, color="#e6e3f3")
box(ax, 5.75, 3.9, "real\n$x \\sim p_\\mathrm{data}$", width=2.1, color="#d8efe8")
box(ax, 8.55, 2.65, "discriminator\n$D = \\sigma(s)$", width=2.9, height=1.1, weight="bold")
arrow(ax, (1.9, 1.4), (2.35, 1.4))
arrow(ax, (4.35, 1.4), (4.9, 1.4), color=FAKE)
arrow(ax, (6.6, 1.6), (7.3, 2.1), color=FAKE)
arrow(ax, (6.8, 3.7), (7.3, 3.2), color=REAL)
arrow(ax, (8.2, 2.05), (3.8, 0.9), color=FAKE, ls="--", rad=-0.3)
ax.text(5.0, 5.05, "$D$ minimises  $-\\log D(x) - \\log(1 - D(G(z)))$", ha="center", color=INK)
ax.text(5.0, -0.4, "$G$ minimises  $-\\log D(G(z))$, through $D$", ha="center", color=FAKE)
fig.tight_layout(pad=0.2)
out = Path(__file__).with_suffix(".svg")
fig.savefig(out, metadata={"Date": None})
print(out)
