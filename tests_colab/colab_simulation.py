"""Colab, simulated as closely as this machine allows: does every chapter run from a bare runtime?

Usage: python tests_colab/colab_simulation.py [--keep] [chapter.ipynb ...]

1. Build the ganlab wheel from the checkout.
2. Make a fresh virtual environment holding only what a Colab runtime already has and the
   chapters use: torch, numpy, matplotlib, ipywidgets, tqdm, ipykernel (and nbclient to drive
   it), at the versions pinned in requirements.txt.
3. Install the wheel the way a chapter's first cell does (pip, with dependencies) and check
   that it installs ganlab and nothing else: no preinstalled package is replaced.
4. Run every chapter top to bottom in a plain kernel of that environment, from a temporary
   folder, so that no repository file is on the path; check that the kernel runs in the new
   environment and imports ganlab from the installed wheel.

Exits non-zero, naming the chapter and the error, if anything fails. Nothing is downloaded
but packages from the package index (torch comes from the local build where there is one).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLAB_PACKAGES = ("torch", "numpy", "matplotlib", "ipywidgets", "tqdm", "ipykernel", "nbclient")

PROBE = """
import json, sys, ganlab
print(json.dumps({"prefix": sys.prefix, "ganlab": ganlab.__file__}))
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
    """The requirements.txt pins of the packages a Colab runtime already has."""
    wanted = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        name = line.split("==")[0].strip().lower()
        if "==" in line and not line.lstrip().startswith("#") and name in COLAB_PACKAGES:
            wanted.append(line.strip())
    missing = set(COLAB_PACKAGES) - {p.split("==")[0].lower() for p in wanted}
    if missing:
        raise SystemExit(f"requirements.txt pins none of {sorted(missing)}")
    return wanted


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
        for chapter in chapters:
            copy = workdir / chapter.name
            shutil.copy(chapter, copy)
            t = time.perf_counter()
            done = subprocess.run([str(python), "-c", RUN, str(copy), str(workdir)],
                                  capture_output=True, text=True, cwd=workdir)  # fmt: skip
            if done.returncode != 0:
                raise SystemExit(
                    f"{chapter.name} failed in the Colab simulation:\n{done.stderr[-4000:]}"
                )
            print(f"{chapter.name}: ran top to bottom in {time.perf_counter() - t:.0f} s")
        print(f"Colab simulation passed in {time.perf_counter() - start:.0f} s")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
