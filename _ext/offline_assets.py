"""The rendered book works without a network: matplotlib's animations get a local font-awesome.

Matplotlib's `Animation.to_jshtml()` output (the chapters' static animations) links font-awesome
4.4.0 from a CDN for its play/pause buttons:
`<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/...">`. A reader
without a network (a lecture hall) gets a request that hangs or fails, and buttons without icons.
This extension points that link at the copy vendored for the decks (`slides/vendor/font-awesome`,
font-awesome 4.7.0, see slides/README.md), which it copies to `_static/font-awesome` of the
built book. The notebooks are not changed; the rewrite happens on each page's rendered body.

Loaded by `_config.yml` (`sphinx.local_extensions`); `tests_browser` fails on any request that
leaves the local server.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

VENDORED = Path(__file__).resolve().parents[1] / "slides" / "vendor" / "font-awesome"
TARGET = "_static/font-awesome/css/font-awesome.min.css"
CDN_FONT_AWESOME = re.compile(
    r"https?://(?:maxcdn\.bootstrapcdn\.com|stackpath\.bootstrapcdn\.com|cdnjs\.cloudflare\.com/ajax/libs)"
    r"/font-awesome/4\.\d+\.\d+/css/font-awesome(?:\.min)?\.css"
)


def _rewrite_body(app, pagename, templatename, context, doctree) -> None:
    body = context.get("body")
    if body and CDN_FONT_AWESOME.search(body):
        context["body"] = CDN_FONT_AWESOME.sub(context["pathto"](TARGET, 1), body)


def _copy_font_awesome(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        shutil.copytree(VENDORED, Path(app.outdir) / "_static" / "font-awesome", dirs_exist_ok=True)


def setup(app):
    app.connect("html-page-context", _rewrite_body)
    app.connect("build-finished", _copy_font_awesome)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
