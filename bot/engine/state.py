"""A participant's progress through one flow: plain data that round-trips through JSON.

The state is all the engine knows between two inputs. It names the definition it was
started on (``flow_id``, ``version``, ``flow_sha256``) so a run always continues on the
flow it began with, even after a newer version is deployed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = ["RunState", "Status"]

Status = Literal["active", "finished", "declined"]


@dataclass(frozen=True, slots=True)
class RunState:
    flow_id: str
    version: int
    flow_sha256: str
    language: str
    status: Status = "active"
    step: str | None = None
    """The open question waiting for input; ``None`` once the run has ended."""
    answers: Mapping[str, Any] = field(default_factory=dict)
    profile: Mapping[str, Any] = field(default_factory=dict)
    history: tuple[str, ...] = ()
    """Questions answered on the way here, oldest first: the path ``back`` walks."""
    consented: bool = False
    offer: Mapping[str, Any] | None = None
    """``vote``: the pair shown, ``{"a": id, "a_text": ..., "b": id, "b_text": ...}``."""
    last: Mapping[str, Any] | None = None
    """``vote``: the pair voted on last, which ``undo`` shows again."""
    cast: int = 0
    """``vote``: votes cast in the current vote step."""
    asking_more: bool = False
    """``vote``: asked whether to compare more pairs."""
    choosing_language: bool = False
    """``/lang`` showed the languages: the next input picks one."""
    overwritten: Mapping[str, Any] = field(default_factory=dict)
    """Per answered step that sets a profile field: what the field held before, as
    ``{"had": bool, "value": ...}``, so going ``back`` over it puts that back."""

    def evolve(self, **changes: Any) -> RunState:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "flow_id": self.flow_id,
            "version": self.version,
            "flow_sha256": self.flow_sha256,
            "language": self.language,
            "status": self.status,
            "step": self.step,
            "answers": dict(self.answers),
            "profile": dict(self.profile),
            "history": list(self.history),
            "consented": self.consented,
            **({"overwritten": dict(self.overwritten)} if self.overwritten else {}),
            **({"choosing_language": True} if self.choosing_language else {}),
            **({"offer": dict(self.offer)} if self.offer else {}),
            **({"cast": self.cast} if self.cast else {}),
            **({"last": dict(self.last)} if self.last else {}),
            **({"asking_more": True} if self.asking_more else {}),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunState:
        return cls(
            flow_id=str(data["flow_id"]),
            version=int(data["version"]),
            flow_sha256=str(data.get("flow_sha256", "")),
            language=str(data["language"]),
            status=data.get("status", "active"),
            step=data.get("step"),
            answers=dict(data.get("answers", {})),
            profile=dict(data.get("profile", {})),
            history=tuple(data.get("history", ())),
            consented=bool(data.get("consented", False)),
            overwritten=dict(data.get("overwritten", {})),
            choosing_language=bool(data.get("choosing_language", False)),
            offer=dict(data["offer"]) if data.get("offer") else None,
            cast=int(data.get("cast", 0)),
            last=dict(data["last"]) if data.get("last") else None,
            asking_more=bool(data.get("asking_more", False)),
        )

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, sort_keys=True)
