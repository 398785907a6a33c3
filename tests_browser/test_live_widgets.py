"""Every widget of ganlab.widgets live in JupyterLab, in the system Chromium (`make browser`).

`make lab` is started headless on 127.0.0.1 with a token, over a copy of book/ (nothing the
test runs is saved into the chapters), with its own Jupyter config, data and settings folders
(so that a reader's own kernels or settings play no part). For each widget of
widget_tour.TOURS the test opens its chapter, runs the cells from the set-up cell down to the
widget's cell (what a reader does with "Run All Above" and then the cell), and checks in the
page: the widget renders (a picture, its controls, no "Loading widget...", no error output);
its Play or step button advances the model (the picture and the status change); changing its
control changes what is shown, with no error in the status line. The playground plays for
PLAY_SECONDS: the pictures that reach the page per second are counted and printed, and must
be at least MIN_FPS with 20 training steps between two of them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPORT_KEY, Report, _unavailable
from widget_tour import TOURS, Tour, widget_cell

ROOT = Path(__file__).resolve().parents[1]
PLAY_SECONDS = 10
MIN_FPS = 10  # the playground's target: pictures reaching the page per second, default settings
STEPS_PER_FRAME = 20  # the playground's default steps_per_frame
CELL_TIMEOUT_MS = 180_000  # the slowest widget action (an experiment of chapter 2) takes ~20 s
RENDER_TIMEOUT_MS = 30_000  # from the end of the widget's cell to its picture in the page

# Runs code cells from..to of the open notebook, each to its end; the first error, or null.
_RUN_CELLS_JS = """async ([from, to]) => {
    const app = window.jupyterapp, nb = app.shell.currentWidget.content;
    for (let i = from; i <= to; i++) {
        nb.activeCellIndex = i;
        await app.commands.execute('notebook:run-cell');
        const model = nb.widgets[i].model;
        for (let j = 0; model.type === 'code' && j < model.outputs.length; j++) {
            const out = model.outputs.get(j).toJSON();
            if (out.output_type === 'error') return `cell ${i}: ${out.ename}: ${out.evalue}`;
        }
    }
    return null;
}"""

# Python run in the notebook's kernel, its stdout returned: which interpreter it is.
_KERNEL_CODE_JS = """async (code) => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    const future = kernel.requestExecute({code});
    let text = '';
    future.onIOPub = msg => { if (msg.header.msg_type === 'stream') text += msg.content.text; };
    await future.done;
    return text;
}"""

# What a widget shows: its picture's src (a new blob URL per picture) and its text.
_SHOWN_JS = """(area) => {
    const img = area.querySelector('img');
    return {src: img ? img.src : null, text: area.innerText,
            error: [...area.querySelectorAll('.jupyter-widgets *')]
                .some(e => getComputedStyle(e).color === 'rgb(187, 0, 0)')};
}"""


@dataclass
class Lab:
    url: str
    token: str
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> int:
    """The HTTP status of a GET (no proxy), or 0 when nothing answers."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:  # connection refused: not listening yet
        return 0


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    """`make lab` on a free port of 127.0.0.1 over a copy of book/; stopped at the end."""
    if shutil.which("make") is None:
        _unavailable("no make on this machine")
    home = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "book", home / "book")
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_TOKEN": token,
        **{
            name: str(home / folder)
            for name, folder in [
                ("JUPYTER_CONFIG_DIR", "config"),
                ("JUPYTER_DATA_DIR", "data"),
                ("JUPYTER_RUNTIME_DIR", "runtime"),
                ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
            ]
        },
    }
    options = f"--no-browser --ServerApp.port={port} --expose-app-in-browser"
    if os.geteuid() == 0:  # CI runs as root, which jupyter refuses without the flag
        options += " --allow-root"
    log = home / "lab.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            ["make", "-s", "lab", f"LAB_DIR={home / 'book'}", f"LAB_OPTIONS={options}"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            if server.poll() is not None:
                pytest.fail(f"make lab exited with {server.returncode}:\n{log.read_text()[-3000:]}")
            if _get(f"{url}/api/status?token={token}") == 200:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"JupyterLab did not answer on {url} in 60 s:\n{log.read_text()[-3000:]}")
        yield Lab(url, token, log)
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # make and the server it started
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_make_lab_serves_on_loopback_behind_a_token(lab):
    log = lab.log.read_text()
    assert f"{lab.url}/lab?token=" in log, f"no 127.0.0.1 address in the server log:\n{log}"
    status = _get(f"{lab.url}/api/contents")
    assert status == 403, f"the server answered {status} without the token, expected 403"


def cell_of(tour: Tour) -> int:
    """The index of the cell of ``tour.chapter`` that builds the widget."""
    cells = json.loads((ROOT / "book" / f"{tour.chapter}.ipynb").read_text())["cells"]
    return widget_cell(cells, tour.widget)[0]


class Notebook:
    """One chapter open in JupyterLab, its kernel started, run down to some cell so far."""

    def __init__(self, browser, lab: Lab, chapter: str) -> None:
        self.chapter = chapter
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.set_default_timeout(CELL_TIMEOUT_MS)
        self.remote: list[str] = []
        self.context.route("**/*", self._local_only(lab.url))
        self.page = self.context.new_page()
        self.page.goto(f"{lab.url}/lab/tree/{chapter}.ipynb?token={lab.token}&reset")
        self.page.wait_for_function(
            """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                       return w && w.sessionContext && w.sessionContext.session
                           && w.sessionContext.session.kernel; }"""
        )
        self.ran = -1  # the last cell run

    def _local_only(self, base: str):
        def route(r) -> None:
            if r.request.url.startswith(base):
                r.continue_()
            else:  # nothing may come from the web (a CDN's widget manager, JupyterLab's news)
                self.remote.append(r.request.url)
                r.abort("internetdisconnected")

        return route

    def kernel_prints(self, code: str) -> str:
        return self.page.evaluate(_KERNEL_CODE_JS, code)

    def run_to(self, index: int) -> None:
        error = self.page.evaluate(_RUN_CELLS_JS, [self.ran + 1, index])
        assert error is None, f"{self.chapter}: {error}"
        self.ran = index

    def output(self, index: int, name: str):
        """The output area of cell ``index``, scrolled to the top of the notebook view."""
        self.page.evaluate(
            """async ([i, name]) => { const nb = window.jupyterapp.shell.currentWidget.content;
                await nb.scrollToItem(i, 'start'); nb.widgets[i].node.dataset.tour = name; }""",
            [index, name],
        )
        return self.page.locator(f'[data-tour="{name}"] .jp-OutputArea')

    def close(self) -> None:
        self.page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        self.context.close()


@pytest.fixture(scope="module")
def notebooks(browser, lab):
    """notebooks(chapter) -> Notebook: one chapter open at a time (each kernel takes ~1 GB)."""
    open_ = {}

    def _open(chapter: str) -> Notebook:
        if chapter not in open_:
            for other in open_.values():
                other.close()
            open_.clear()
            open_[chapter] = Notebook(browser, lab, chapter)
        return open_[chapter]

    yield _open
    for notebook in open_.values():
        notebook.close()


@pytest.fixture(scope="session")
def live_report(request) -> list[str]:
    """Lines printed in the summary at the end (conftest's pytest_terminal_summary)."""
    return request.config.stash.setdefault(REPORT_KEY, Report()).live


def test_every_widget_has_a_tour():
    """TOURS covers every widget class the package offers, and each chapter's cell exists."""
    from ganlab import widgets

    offered = {name for name in widgets.__all__ if hasattr(getattr(widgets, name), "widget")}
    assert offered == {t.widget for t in TOURS}, f"widgets {offered}, tours {TOURS}"
    for tour in TOURS:
        cell_of(tour)


def _shown(area) -> dict:
    return area.evaluate(_SHOWN_JS)


def _wait_for_change(notebook: Notebook, area, before: dict, what: str) -> dict:
    """Wait until the picture or the text of ``area`` differs from ``before``; no error."""
    handle = area.element_handle()
    try:
        notebook.page.wait_for_function(
            f"([area, before]) => {{ const now = ({_SHOWN_JS})(area);"
            " return now.error || now.src !== before.src || now.text !== before.text; }",
            arg=[handle, before],
        )
    except Exception as error:  # Playwright's TimeoutError
        raise AssertionError(
            f"{what}: neither the picture nor the text changed in {CELL_TIMEOUT_MS / 1e3:.0f} s"
        ) from error
    after = _shown(area)
    assert not after["error"], f"{what}: the widget shows an error: {after['text'][-500:]}"
    return after


def _press(area, description: str):
    """The element that ``description`` names in a widget: a button, or a labelled control."""
    if description == "play":
        return area.locator(".widget-play button").first
    button = area.locator("button.widget-button", has_text=re.compile("^" + re.escape(description)))
    if button.count():
        return button.first
    control = area.locator(
        f'.widget-inline-hbox:has(> label.widget-label:text-is("{description}"))'
    )
    assert control.count() == 1, f"no control labelled {description!r} in the widget's output"
    return control


def _nudge(area, description: str) -> None:
    """Click a button, or move a labelled control to a neighbouring value, as a reader does."""
    target = _press(area, description)
    if target.evaluate("e => e.tagName") == "BUTTON":
        target.click()
    elif target.locator("select").count():
        select = target.locator("select")
        n, i = select.evaluate("s => [s.options.length, s.selectedIndex]")
        select.select_option(index=(i + 1) % n)
    elif target.locator(".noUi-handle").count():  # ipywidgets 8's slider: one step right
        target.locator(".noUi-handle").focus()
        target.locator(".noUi-handle").press("ArrowRight")
    else:  # a number box
        box = target.locator("input")
        box.fill(str(int(box.input_value()) + 1))
        box.press("Enter")


def _step_count(text: str) -> int:
    match = re.search(r"step (\d+)", text)
    assert match, f"no 'step N' in the playground's status: {text[:300]!r}"
    return int(match.group(1))


def _play(notebook: Notebook, area, live_report: list[str]) -> None:
    """Play for PLAY_SECONDS: count the pictures that reach the page, then pause."""
    steps_before = _step_count(_shown(area)["text"])
    area.locator("img").evaluate(
        """img => { window.frames_seen = [];
            new MutationObserver(() => window.frames_seen.push(performance.now()))
                .observe(img, {attributes: true, attributeFilter: ['src']}); }"""
    )
    _press(area, "play").click()
    time.sleep(PLAY_SECONDS)
    area.locator(".widget-play button").nth(1).click()  # pause
    times = notebook.page.evaluate("window.frames_seen")
    after = _shown(area)
    assert not after["error"], f"playing shows an error: {after['text'][-500:]}"
    steps = _step_count(after["text"]) - steps_before
    span = (times[-1] - times[0]) / 1e3 if len(times) > 1 else 0.0
    fps = (len(times) - 1) / span if span else 0.0
    live_report.append(
        f"playground, default settings, {PLAY_SECONDS} s of Play in JupyterLab: {len(times)} "
        f"pictures reached the page, {fps:.1f} per second (target {MIN_FPS}); {steps} training "
        f"steps, {steps / max(1, len(times)):.1f} per picture; load average "
        f"{os.getloadavg()[0]:.2f}"
    )
    assert len(times) > 1 and steps > 0, (
        f"Play did nothing: {len(times)} pictures reached the page and the step counter moved "
        f"by {steps} in {PLAY_SECONDS} s"
    )
    assert steps >= STEPS_PER_FRAME * len(times), (
        f"{steps} steps for {len(times)} pictures: expected {STEPS_PER_FRAME} steps per picture"
    )
    assert fps >= MIN_FPS, (
        f"{fps:.1f} pictures per second reached the page while playing, expected >= {MIN_FPS}"
    )


@pytest.mark.parametrize("tour", TOURS, ids=[t.widget for t in TOURS])
def test_widget_works_in_jupyterlab(tour: Tour, notebooks, live_report, screenshot):
    notebook = notebooks(tour.chapter)
    prefix = notebook.kernel_prints("import sys; print(sys.prefix)").strip()
    assert prefix == sys.prefix, f"the kernel runs in {prefix}, expected the venv {sys.prefix}"
    index = cell_of(tour)
    start = time.perf_counter()
    notebook.run_to(index)
    ran_s = time.perf_counter() - start

    area = notebook.output(index, tour.widget)
    try:
        area.locator("img").wait_for(state="visible", timeout=RENDER_TIMEOUT_MS)
    except Exception as error:  # Playwright's TimeoutError
        raise AssertionError(
            f"{tour.widget}: no picture in its output {RENDER_TIMEOUT_MS / 1e3:.0f} s after its "
            f"cell ran; the output shows {area.inner_text()[:500]!r}"
        ) from error
    text = area.inner_text()
    for sign in ("Loading widget", "Error displaying widget", "Traceback", "Error:"):
        assert sign not in text, f"{tour.widget}: its output shows {sign!r}: {text[:500]!r}"
    assert area.locator(".jp-OutputArea-output[data-mime-type*='stderr']").count() == 0, (
        f"{tour.widget}: its cell wrote to stderr: {text[:500]!r}"
    )
    width = area.locator("img").evaluate("img => img.complete ? img.naturalWidth : 0")
    assert width > 0, f"{tour.widget}: its picture did not load (naturalWidth {width})"
    for description in filter(None, [tour.advance, tour.control]):
        _press(area, description)  # each control is present, or the assertion names it

    shown = _shown(area)
    if tour.advance == "play":
        _play(notebook, area, live_report)
        shown = _wait_for_change(notebook, area, shown, f"{tour.widget}: Play")
    elif tour.advance:
        _nudge(area, tour.advance)
        shown = _wait_for_change(notebook, area, shown, f"{tour.widget}: {tour.advance!r}")
    _nudge(area, tour.control)
    _wait_for_change(notebook, area, shown, f"{tour.widget}: changing {tour.control!r}")
    screenshot(notebook.page, f"live_{tour.widget}")
    assert notebook.remote == [], (
        f"the page asked for remote addresses (aborted): {notebook.remote}"
    )
    live_report.append(
        f"{tour.widget} ({tour.chapter}, run down to cell {index} in {ran_s:.0f} s): renders, "
        f"{tour.advance or 'nothing to advance'}, {tour.control!r} changes it"
    )
