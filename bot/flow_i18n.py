"""Translating a flow with the gettext tools translators already know.

Each flow file has its catalogs beside it, one domain per flow (its id)::

    flows/examples/neighbourhood-park.yaml
    flows/examples/locales/neighbourhood-park.pot              # kolot i18n extract
    flows/examples/locales/ar/LC_MESSAGES/neighbourhood-park.po  # init, translate, update

Messages carry a context naming where the text sits (see :mod:`bot.engine.localise`).
:func:`extract_flow` is also a Babel extractor (entry point ``kolot_flow``), so
``pybabel extract -F mapping.cfg`` works with ``[kolot_flow: flows/**.yaml]``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po, write_po

from bot.engine import Flow, load_source
from bot.engine.localise import Texts, translatable

__all__ = [
    "Coverage",
    "catalog_path",
    "coverage",
    "extract_flow",
    "flow_texts",
    "template",
    "template_path",
]


def locales_dir(flow_file: Path) -> Path:
    return flow_file.parent / "locales"


def template_path(flow_file: Path, flow: Flow) -> Path:
    return locales_dir(flow_file) / f"{flow.id}.pot"


def catalog_path(flow_file: Path, flow: Flow, language: str) -> Path:
    return locales_dir(flow_file) / language / "LC_MESSAGES" / f"{flow.id}.po"


def template(flow: Flow, flow_file: Path) -> Catalog:
    """The flow's texts as a gettext template, each with its context and line."""
    catalog = Catalog(project=flow.id, version=str(flow.version), fuzzy=False)
    for context, text, line in translatable(flow):
        catalog.add(text, context=context, locations=[(flow_file.name, line)])
    return catalog


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f)


def flow_texts(flow_file: Path, flow: Flow, language: str) -> Texts:
    """The translations of ``flow`` into ``language`` from its catalog: nothing fuzzy,
    nothing empty; no catalog, no translations (the default texts are shown)."""
    path = catalog_path(flow_file, flow, language)
    if not path.is_file():
        return {}
    return {
        (str(m.context), str(m.id)): str(m.string)
        for m in read_catalog(path)
        if m.id and m.context and isinstance(m.string, str) and m.string and not m.fuzzy
    }


@dataclass(frozen=True)
class Coverage:
    language: str
    translated: int
    total: int
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return self.translated == self.total

    def __str__(self) -> str:
        line = f"{self.language}: {self.translated}/{self.total} texts translated"
        if self.missing:
            shown = ", ".join(self.missing[:5])
            more = f", and {len(self.missing) - 5} more" if len(self.missing) > 5 else ""
            line += f"; missing: {shown}{more}"
        return line


def coverage(flow_file: Path, flow: Flow, language: str) -> Coverage:
    texts = flow_texts(flow_file, flow, language)
    wanted = [(context, text) for context, text, _ in translatable(flow)]
    missing = tuple(context for context, text in wanted if (context, text) not in texts)
    return Coverage(language, len(wanted) - len(missing), len(wanted), missing)


def extract_flow(
    fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """Babel extractor: every translatable text of a flow file, as ``pgettext`` calls."""
    text = fileobj.read().decode("utf-8")
    flow = load_source(text, getattr(fileobj, "name", "<flow>"))
    for context, source, line in translatable(flow):
        yield line, "pgettext", (context, source), []


def write_catalog(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=100, sort_output=False)


def init_catalog(template_catalog: Catalog, language: str) -> Catalog:
    now = datetime.now(UTC)
    catalog = Catalog(
        locale=language,
        domain=template_catalog.project,
        project=template_catalog.project,
        version=template_catalog.version,
        fuzzy=False,
        creation_date=now,
        revision_date=now,
    )
    for message in template_catalog:
        if message.id:
            catalog.add(message.id, context=message.context, locations=message.locations)
    return catalog


def compile_catalog(path: Path) -> Path:
    """Compile a catalog to ``.mo`` beside it; raises ``ValueError`` saying what is wrong."""
    try:
        with path.open("rb") as f:
            catalog = read_po(f, abort_invalid=True)
    except PoFileError as exc:
        raise ValueError(f"{path}: {exc}") from None
    problems = [
        f"{path}: {message.id!r}: {error}"
        for message, errors in catalog.check()
        for error in errors
    ]
    if problems:
        raise ValueError("; ".join(problems))
    target = path.with_suffix(".mo")
    with target.open("wb") as f:
        write_mo(f, catalog)
    return target
