"""A problem found in a flow file, located so an organiser can go straight to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Diagnostic"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    file: str
    line: int
    column: int
    message: str
    step: str | None = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"step '{self.step}': " if self.step else ""
        return f"{self.file}:{self.line}:{self.column}: {self.severity}: {where}{self.message}"
