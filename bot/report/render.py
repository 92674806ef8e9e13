"""The report written out: one self-contained HTML file, or Markdown with PNG charts beside it.

Both come from the same :class:`~bot.report.document.Document` through a Jinja2 template in
``templates/``. The HTML environment escapes every value (autoescape on); charts are
embedded as ``data:image/png;base64`` URLs and the style sheet is inline, so the file opens
anywhere, offline, and prints cleanly. The page is ``dir="rtl"`` when the flow's default
language is written right to left.

The Markdown environment escapes every value for Markdown (``*``, ``_``, ``|``, ``[``...)
and HTML alike, so an idea reading ``<script>`` or ``**win**`` shows as typed. Only the
organiser's own texts (``--intro``, ``--next``) keep their Markdown formatting, with HTML
still escaped.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from bot.report.data import ReportData
from bot.report.document import Document, Figure, build_document

__all__ = ["render_html", "render_markdown", "write_report"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|#!~])")
_LINE_START = re.compile(r"^(\d*)([-+.)])(?=\s|$)")
"""A value that would start a list item (``- x``, ``1. x``) where it begins a line."""


def render_html(data: ReportData | Document) -> str:
    document = data if isinstance(data, Document) else build_document(data)
    return _html_env().get_template("report.html.j2").render(
        doc=document, image=_data_url)


def render_markdown(data: ReportData | Document, *, images: str = "report") -> str:
    """The Markdown text; its charts are linked as ``<images>-<n>-<key>.png`` beside it
    (:func:`write_report` writes them)."""
    document = data if isinstance(data, Document) else build_document(data)
    names = _image_names(document, images)
    return _markdown_env().get_template("report.md.j2").render(
        doc=document, image=lambda figure: Markup(names[id(figure)]), given=_given)


def write_report(data: ReportData, path: Path, fmt: str) -> list[Path]:
    """Write the report to ``path`` (``fmt``: ``html`` or ``md``); returns every file
    written, the Markdown report's PNG charts after it."""
    document = build_document(data)
    if fmt == "html":
        path.write_text(render_html(document), encoding="utf-8")
        return [path]
    names = _image_names(document, path.stem)
    written = [path]
    for figure in document.figures:
        target = path.with_name(names[id(figure)])
        target.write_bytes(figure.png)
        written.append(target)
    path.write_text(render_markdown(document, images=path.stem), encoding="utf-8")
    return written


def _image_names(document: Document, stem: str) -> dict[int, str]:
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "report"
    return {id(f): f"{safe}-{n:02d}-{f.key}.png"
            for n, f in enumerate(document.figures, start=1)}


def _data_url(figure: Figure) -> str:
    return "data:image/png;base64," + base64.b64encode(figure.png).decode("ascii")


def _html_env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _markdown_env() -> jinja2.Environment:
    """Autoescape on as well, so that a macro's output (Markup) is not escaped again;
    every other value is escaped for Markdown by ``finalize``."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        finalize=_markdown_value,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _markdown_value(value: Any) -> Any:
    """Every ``{{ value }}`` in the Markdown template: on one line, and shown as typed."""
    if isinstance(value, Markup):
        return value  # a macro's output, an image's file name, an organiser's line
    text = html.escape(" ".join(str(value).split()), quote=False)
    return Markup(_LINE_START.sub(r"\1\\\2", _MARKDOWN_SPECIAL.sub(r"\\\1", text)))


def _given(line: str) -> Markup:
    """An organiser's own Markdown line: HTML escaped, its Markdown left as written."""
    return Markup(html.escape(line, quote=False))
