"""The closing report of a process: ``kolot report FLOW --out report.html`` (or ``.md``).

What a closing summary needs, in the flow's default language: an introduction with the key
figures, the organiser's background and goals, who took part against the targets, what was
collected (the share choosing each option of each question, with charts; the ranked ideas;
consensus across groups), what happens next, and an appendix of figures.

- :func:`gather` reads the database once into :class:`ReportData` (plain data);
- :func:`build_document` puts it into words and charts (:mod:`bot.report.document`);
- :func:`render_html` / :func:`render_markdown` write it with the Jinja2 templates in
  ``templates/``; :func:`write_report` writes the file(s).

Privacy: no address, name or pseudonym is read, free-text answers are only counted, and
only ideas published for voting are quoted (see docs/report.md).
"""

from bot.report.data import ReportData, default_groups, gather
from bot.report.document import Document, build_document, paragraphs
from bot.report.render import render_html, render_markdown, write_report

__all__ = [
    "Document",
    "ReportData",
    "build_document",
    "default_groups",
    "gather",
    "paragraphs",
    "render_html",
    "render_markdown",
    "write_report",
]
