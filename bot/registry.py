"""The flows a process serves, and every definition a run may still be on.

Version policy: a run always finishes on the exact flow definition (file content, by
SHA-256) it started on. New runs start on the newest loaded definition. Definitions are
stored in the database when loaded, so a run started before a redeploy (or on another
process) can still be continued after the file has changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from bot.engine import Flow, FlowError, Translator
from bot.engine.loader import check_source, load_stored
from bot.engine.localise import localise
from bot.flow_i18n import flow_texts
from bot.i18n import translator
from bot.languages import autonym
from storage import UnitOfWork

__all__ = ["FlowLocaliser", "FlowRegistry", "UnknownFlow"]


class UnknownFlow(LookupError):
    pass


class FlowRegistry:
    def __init__(self) -> None:
        self._current: dict[str, Flow] = {}
        self._sources: dict[str, str] = {}
        self._by_sha: dict[str, Flow] = {}
        self._paths: dict[str, Path] = {}
        self._localised: dict[tuple[str, str], Flow] = {}
        self._texts: dict[tuple[str, str], Mapping[tuple[str, str], str]] = {}
        self.definition_ids: dict[str, int] = {}
        self._consent_texts: set[str] = set()
        """Hashes of consent texts this process stored (see :meth:`keep_consent_text`)."""

    def add_file(self, path: str | Path) -> Flow:
        """Load, check and serve a flow file; raises FlowError when it has errors."""
        text = Path(path).read_text(encoding="utf-8")
        checked = check_source(text, str(path))
        if checked.flow is None:
            raise FlowError(checked.diagnostics)
        self._paths[checked.flow.id] = Path(path)
        return self.add(checked.flow, text)

    def add(self, flow: Flow, source: str) -> Flow:
        flow = _named_languages(flow)
        self._current[flow.id] = flow
        self._sources[flow.sha256] = source
        self._by_sha[flow.sha256] = flow
        return flow

    def current(self, flow_id: str) -> Flow:
        try:
            return self._current[flow_id]
        except KeyError:
            raise UnknownFlow(flow_id) from None

    def ids(self) -> list[str]:
        return sorted(self._current)

    def definition_id(self, uow: UnitOfWork, flow: Flow, *, now: datetime) -> int:
        """The stored definition row of ``flow``, created on first use."""
        known = self.definition_ids.get(flow.sha256)
        if known is not None:
            return known
        row = uow.definitions.ensure(
            flow.id, flow.version, flow.sha256, self._sources[flow.sha256], now=now
        )
        self.definition_ids[flow.sha256] = row.id
        return row.id

    def keep_consent_text(self, uow: UnitOfWork, sha256: str, text: str, *, flow_id: str,
                          language: str | None, now: datetime) -> None:
        """Store a consent text's wording by its hash, once per process (until a
        transaction fails: see :meth:`forget_uncommitted`)."""
        if sha256 in self._consent_texts:
            return
        uow.consents.keep_text(sha256, text, flow_id=flow_id, language=language, now=now)
        self._consent_texts.add(sha256)

    def forget_uncommitted(self) -> None:
        """A transaction failed: a definition row or consent text it created is gone with
        it, so forget what was remembered (looked up or written again, cheaply, on next
        use)."""
        self.definition_ids.clear()
        self._consent_texts.clear()

    def localised(self, flow: Flow, language: str) -> Flow:
        """``flow`` with its texts in ``language``, the default text where untranslated.

        Catalogs are those beside the flow's file. A definition loaded from the database
        uses the current file's catalogs too: translations are matched by their source
        text, so only the texts it shares with the current version are translated.
        """
        if language == flow.default_language:
            return flow
        key = (flow.sha256, language)
        found = self._localised.get(key)
        if found is None:
            path = self._paths.get(flow.id)
            texts = flow_texts(path, flow, language) if path is not None else {}
            found = self._localised[key] = localise(flow, texts)
        return found

    def outreach_text(self, flow: Flow, language: str, context: str, text: str) -> str:
        """An announcement's or reminder's text in ``language``, from the flow's catalogs
        (its context names it, e.g. ``phases.voting.announce``), else as written."""
        if language == flow.default_language:
            return text
        key = (flow.sha256, language)
        texts = self._texts.get(key)
        if texts is None:
            path = self._paths.get(flow.id)
            texts = self._texts[key] = flow_texts(path, flow, language) if path else {}
        return texts.get((context, text)) or text

    def localiser(self, flow: Flow) -> FlowLocaliser:
        return FlowLocaliser(self, flow)

    def by_sha(self, uow: UnitOfWork, sha256: str) -> Flow:
        """The definition a run started on: from memory, else from the database."""
        flow = self._by_sha.get(sha256)
        if flow is not None:
            return flow
        row = uow.definitions.get_by_sha(sha256)
        if row is None:
            raise UnknownFlow(sha256)
        flow = _named_languages(load_stored(row.source, f"<stored {row.flow_id} v{row.version}>"))
        self._by_sha[sha256] = flow
        self._sources[sha256] = row.source
        self.definition_ids[sha256] = row.id
        return flow


class FlowLocaliser:
    """What the engine needs to switch one flow's language: a ``bot.engine.Localiser``."""

    def __init__(self, registry: FlowRegistry, flow: Flow) -> None:
        self.registry = registry
        self.base = flow

    def languages(self) -> Sequence[tuple[str, str]]:
        default = self.base.default_language
        ordered = [default, *(code for code in self.base.languages if code != default)]
        return [(code, autonym(code)) for code in ordered]

    def flow(self, language: str) -> Flow:
        return self.registry.localised(self.base, language)

    def translator(self, language: str) -> Translator:
        return translator(language)


def _named_languages(flow: Flow) -> Flow:
    """A ``language`` step's options named in themselves ("עברית", "العربية")."""
    if not any(step.type == "language" for step in flow.steps):
        return flow
    steps = tuple(
        replace(step, options=tuple(replace(o, label=autonym(o.id)) for o in step.options))
        if step.type == "language"
        else step
        for step in flow.steps
    )
    return replace(flow, steps=steps, _index=dict(flow._index))
