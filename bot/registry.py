"""The flows a process serves, and every definition a run may still be on.

Version policy: a run always finishes on the exact flow definition (file content, by
SHA-256) it started on. New runs start on the newest loaded definition. Definitions are
stored in the database when loaded, so a run started before a redeploy (or on another
process) can still be continued after the file has changed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.engine import Flow, FlowError
from bot.engine.loader import check_source, load_stored
from storage import UnitOfWork

__all__ = ["FlowRegistry", "UnknownFlow"]


class UnknownFlow(LookupError):
    pass


class FlowRegistry:
    def __init__(self) -> None:
        self._current: dict[str, Flow] = {}
        self._sources: dict[str, str] = {}
        self._by_sha: dict[str, Flow] = {}
        self.definition_ids: dict[str, int] = {}

    def add_file(self, path: str | Path) -> Flow:
        """Load, check and serve a flow file; raises FlowError when it has errors."""
        text = Path(path).read_text(encoding="utf-8")
        checked = check_source(text, str(path))
        if checked.flow is None:
            raise FlowError(checked.diagnostics)
        return self.add(checked.flow, text)

    def add(self, flow: Flow, source: str) -> Flow:
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

    def by_sha(self, uow: UnitOfWork, sha256: str) -> Flow:
        """The definition a run started on: from memory, else from the database."""
        flow = self._by_sha.get(sha256)
        if flow is not None:
            return flow
        row = uow.definitions.get_by_sha(sha256)
        if row is None:
            raise UnknownFlow(sha256)
        flow = load_stored(row.source, f"<stored {row.flow_id} v{row.version}>")
        self._by_sha[sha256] = flow
        self._sources[sha256] = row.source
        self.definition_ids[sha256] = row.id
        return flow
