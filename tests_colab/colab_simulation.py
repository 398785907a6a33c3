"""Colab, simulated as closely as this machine allows: does every chapter run from a bare runtime?

Usage: python tests_colab/colab_simulation.py [--keep] [chapter.ipynb ...]

1. Build the ganlab wheel from the checkout.
2. Make a fresh virtual environment holding what a Colab runtime already has and the
   chapters use, at Colab's versions (COLAB, below): numpy, matplotlib, ipywidgets 7.7.1 and
   its front-end packages, IPython, ipykernel, tqdm, Pillow (and nbclient to drive the
   kernel). torch is the one exception: requirements.txt's pin, the local CPU build where
   there is one, since Colab's own is not on the package index.
3. Install the wheel the way a chapter's first cell does (pip, with dependencies) and check
   that it installs ganlab and nothing else: no preinstalled package is replaced.
4. Run every chapter top to bottom in a plain kernel of that environment, from a temporary
   folder, so that no repository file is on the path; check that the kernel runs in the new
   environment, with Colab's ipywidgets, and imports ganlab from the installed wheel.
5. At the end of each chapter, in the same kernel, drive every widget it shows through its
   Python side (tests_browser/widget_tour.py: build it, press its Play or step button,
   change a control; each must change what it shows, with no error).

Exits non-zero, naming the chapter and the error, if anything fails. Nothing is downloaded
but packages from the package index (torch comes from the local build where there is one).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOUR = ROOT / "tests_browser" / "widget_tour.py"

# Colab's runtime version 2026.01 (Ubuntu 22.04.5, Python 3.12.12), the newest listed in
# https://github.com/googlecolab/backend-info (README, "Colab's Past Runtime Versions"): its
# pip-freeze.txt at commit bd8aaa4580401a7fbf96a52fab5a7acf96f50b73 (mid-January 2026; its
# newest release is tifffile 2026.1.14) lists these versions, for the packages the chapters
# use and those that ipywidgets 7.7.1 runs on. Colab keeps
# ipywidgets 7 and its own widget manager, which shows ipywidgets 8 widgets only after an
# opt-in (googlecolab/colabtools issues #3020 and #4525). Not reproduced here: Python 3.12
# (the kernel runs this script's Python: the local CPU torch is built for it) and torch
# 2.9.0+cpu (Colab's wheel comes from download.pytorch.org, which is out of reach here).
COLAB = {
    "numpy": "2.0.2",
    "matplotlib": "3.10.0",
    "contourpy": "1.3.3",
    "pillow": "11.3.0",
    "tqdm": "4.67.1",
    "ipywidgets": "7.7.1",
    "widgetsnbextension": "3.6.10",
    "jupyterlab_widgets": "3.0.16",
    "notebook": "6.5.7",
    "ipython": "7.34.0",
    "ipykernel": "6.17.1",
    "traitlets": "5.7.1",
    "jupyter_client": "7.4.9",
    "pyzmq": "26.2.1",
    "tornado": "6.5.1",
    "nbclient": "0.10.4",
    "nbformat": "5.10.4",
}

PROBE = """
import json, sys, ganlab, ipywidgets
print(json.dumps({"prefix": sys.prefix, "ganlab": ganlab.__file__,
                  "ipywidgets": ipywidgets.__version__}))
"""

# The last cell of a chapter's copy: drive its widgets from Python (widget_tour.drive_all).
DRIVE = """
import sys
sys.path.insert(0, {folder!r})
import widget_tour
widget_tour.drive_all(globals(), {chapter!r}, {names!r})
"""

RUN = """
import sys, nbformat, nbclient
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                        resources={"metadata": {"path": sys.argv[2]}}).execute()
nbformat.write(nb, path)
"""


def pins() -> list[str]:
    """Colab's versions, and torch as requirements.txt pins it."""
    torch = [
        line.split(";")[0].strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.startswith("torch==")
    ]
    if len(torch) != 1:
        raise SystemExit(f"expected one torch== pin in requirements.txt, got {torch}")
    return torch + [f"{name}=={version}" for name, version in COLAB.items()]


def normal(name: str) -> str:
    """A distribution name as pip list writes it in lower case (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def freeze(python: Path) -> dict[str, str]:
    out = run([str(python), "-m", "pip", "list", "--format=json"]).stdout
    return {p["name"].lower(): p["version"] for p in json.loads(out)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    chapters = [p.resolve() for p in args.chapters] or sorted((ROOT / "book").glob("*.ipynb"))
    tmp = Path(tempfile.mkdtemp(prefix="ganlab-colab-"))
    start = time.perf_counter()
    try:
        # Build from a copy of the package sources: setuptools leaves build/ and egg-info behind.
        source = tmp / "source"
        shutil.copytree(ROOT / "ganlab", source / "ganlab",
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / name, source / name)
        run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp / "dist"),
             str(source)])  # fmt: skip
        wheel = next((tmp / "dist").glob("ganlab-*.whl"))
        base = getattr(sys, "_base_executable", sys.executable)
        run([base, "-m", "venv", str(tmp / "venv")])
        python = tmp / "venv" / "bin" / "python"
        run([str(python), "-m", "pip", "install", "--quiet", *pins()])
        before = freeze(python)
        have = {normal(name): version for name, version in before.items()}
        wrong = {n: (v, have.get(normal(n))) for n, v in COLAB.items() if have.get(normal(n)) != v}
        if wrong:
            raise SystemExit(f"not Colab's versions (wanted, got): {wrong}")
        run([str(python), "-m", "pip", "install", "--quiet", str(wheel)])
        after = freeze(python)
        added = sorted(set(after) - set(before))
        changed = sorted(n for n in before if after.get(n) != before[n])
        if added != ["ganlab"] or changed:
            raise SystemExit(f"installing ganlab added {added} and changed {changed}")
        print(f"environment ready ({time.perf_counter() - start:.0f} s): only ganlab added")

        workdir = tmp / "run"  # no repository file here, and none on the path
        workdir.mkdir()
        probe = json.loads(run([str(python), "-c", PROBE], cwd=workdir).stdout)
        if not probe["prefix"].startswith(str(tmp)) or not probe["ganlab"].startswith(str(tmp)):
            raise SystemExit(f"ganlab does not come from the fresh environment: {probe}")
        if probe["ipywidgets"] != COLAB["ipywidgets"]:
            raise SystemExit(f"the kernel has ipywidgets {probe['ipywidgets']}, not Colab's")
        drivers = tmp / "drivers"  # widget_tour.py, outside the chapters' folder
        drivers.mkdir()
        shutil.copy(TOUR, drivers)
        sys.path.insert(0, str(TOUR.parent))
        from widget_tour import TOURS, widget_cell

        for chapter in chapters:
            copy = workdir / chapter.name
            nb = json.loads(chapter.read_text())
            names = {
                t.widget: widget_cell(nb["cells"], t.widget)[1]
                for t in TOURS
                if t.chapter == chapter.stem
            }
            drive = bool(names)
            if drive:
                source = DRIVE.format(folder=str(drivers), chapter=chapter.stem, names=names)
                nb["cells"].append(
                    {"cell_type": "code", "metadata": {}, "source": source.strip(),
                     "outputs": [], "execution_count": None}
                )  # fmt: skip
            copy.write_text(json.dumps(nb))
            t = time.perf_counter()
            done = subprocess.run([str(python), "-c", RUN, str(copy), str(workdir)],
                                  capture_output=True, text=True, cwd=workdir)  # fmt: skip
            if done.returncode != 0:
                raise SystemExit(
                    f"{chapter.name} failed in the Colab simulation:\n{done.stderr[-4000:]}"
                )
            print(f"{chapter.name}: ran top to bottom in {time.perf_counter() - t:.0f} s")
            if drive:
                outputs = json.loads(copy.read_text())["cells"][-1]["outputs"]
                text = "".join("".join(o.get("text", "")) for o in outputs)  # str or lines
                for line in text.splitlines():
                    print(f"  widget, ipywidgets {probe['ipywidgets']}: {line}")
        print(f"Colab simulation passed in {time.perf_counter() - start:.0f} s")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
